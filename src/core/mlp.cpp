#include "locus/core/mlp.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "finite.hpp"
#include "locus/core/random.hpp"
#include "locus/io/memory.hpp"

namespace locus {

void MlpSpec::validate() const {
  if (widths.size() < 2)
    throw std::invalid_argument("MlpSpec.widths needs at least 2 entries [p, ..., l], got " +
                                std::to_string(widths.size()));
  for (size_t k = 0; k < widths.size(); ++k)
    if (widths[k] < 1)
      throw std::invalid_argument("MlpSpec.widths[" + std::to_string(k) +
                                  "] = " + std::to_string(widths[k]) + " must be >= 1");
  if (!bias.empty() && bias.size() != widths.size() - 1)
    throw std::invalid_argument("MlpSpec.bias has " + std::to_string(bias.size()) +
                                " flags but the network has " + std::to_string(widths.size() - 1) +
                                " weight layers");
}

std::string_view to_string(InitScheme s) {
  switch (s) {
    case InitScheme::glorot:
      return "glorot";
    case InitScheme::he:
      return "he";
    case InitScheme::normal:
      return "normal";
  }
  return "unknown";
}

InitScheme parse_init_scheme(std::string_view name) {
  for (InitScheme s : {InitScheme::glorot, InitScheme::he, InitScheme::normal})
    if (to_string(s) == name) return s;
  throw std::invalid_argument("unknown init scheme '" + std::string(name) +
                              "' (valid: glorot, he, normal)");
}

Mlp::Mlp(MlpSpec spec) : spec_(std::move(spec)) {
  spec_.validate();
  // Offsets in overflow-checked arithmetic: widths near 2^62 must not wrap to a small count.
  const auto overflow = [&] {
    return std::invalid_argument("MlpSpec.widths " + describe() +
                                 ": the parameter count overflows a 64-bit integer");
  };
  Index offset = 0;
  for (size_t k = 0; k + 1 < spec_.widths.size(); ++k) {
    LayerSlice s;
    s.in = spec_.widths[k];
    s.out = spec_.widths[k + 1];
    s.weight_offset = offset;
    Index nw = 0;
    if (__builtin_mul_overflow(s.in, s.out, &nw) || __builtin_add_overflow(offset, nw, &offset))
      throw overflow();
    if (spec_.bias.empty() || spec_.bias[k]) {
      s.bias_offset = offset;
      if (__builtin_add_overflow(offset, s.out, &offset)) throw overflow();
    }
    layers_.push_back(s);
  }
  n_params_ = offset;
  // Every use of a network holds at least one parameter vector (and the widest layer's
  // activations): refuse a network whose parameter vector alone does not fit.
  io::check_memory(8.0 * double(n_params_), "the network " + describe(),
                   "8 bytes x " + std::to_string(n_params_) + " parameters");
}

double Mlp::output_scale() const {
  if (!spec_.mean_field || n_layers() < 2) return 1.0;
  return 1.0 / static_cast<double>(spec_.widths[spec_.widths.size() - 2]);
}

std::string Mlp::describe() const {
  std::string s = "[";
  for (size_t k = 0; k < spec_.widths.size(); ++k) {
    if (k) s += ',';  // (not "," + ...: GCC 12 warns falsely on that once inlined)
    s += std::to_string(spec_.widths[k]);
  }
  s += "] " + std::string(to_string(spec_.activation));
  if (spec_.mean_field) s += " mean-field";
  return s;
}

Eigen::VectorXd Mlp::init_parameters(const InitOptions& options) const {
  if (!(options.std >= 0) || !std::isfinite(options.std))
    throw std::invalid_argument("InitOptions.std must be finite and >= 0, got " +
                                std::to_string(options.std));
  Rng rng(options.seed);
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(n_params_);
  for (const LayerSlice& s : layers_) {
    const Index nw = s.in * s.out;
    for (Index i = 0; i < nw; ++i) {
      double w = 0.0;
      switch (options.scheme) {
        case InitScheme::glorot: {
          const double a = std::sqrt(6.0 / static_cast<double>(s.in + s.out));
          w = rng.uniform(-a, a);
          break;
        }
        case InitScheme::he:
          w = std::sqrt(2.0 / static_cast<double>(s.in)) * rng.normal();
          break;
        case InitScheme::normal:
          w = options.std * rng.normal();
          break;
      }
      theta[s.weight_offset + i] = w;
    }
    if (s.bias_offset >= 0 && options.scheme == InitScheme::normal)
      for (Index i = 0; i < s.out; ++i) theta[s.bias_offset + i] = options.std * rng.normal();
  }
  return theta;
}

void Mlp::check_parameters(const Eigen::VectorXd& theta, std::string_view what) const {
  if (theta.size() != n_params_)
    throw std::invalid_argument(std::string(what) + " has length " + std::to_string(theta.size()) +
                                " but the network " + describe() + " has " +
                                std::to_string(n_params_) + " parameters");
  if (const Index i = detail::first_non_finite(theta.data(), theta.size()); i >= 0)
    throw std::invalid_argument(std::string(what) + " has a non-finite entry at index " +
                                std::to_string(i));
}

Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>
Mlp::weight(const Eigen::VectorXd& theta, int k) const {
  const LayerSlice& s = layers_.at(k);
  return {theta.data() + s.weight_offset, s.out, s.in};
}

Eigen::Map<const Eigen::VectorXd> Mlp::bias(const Eigen::VectorXd& theta, int k) const {
  const LayerSlice& s = layers_.at(k);
  if (s.bias_offset < 0) throw std::invalid_argument("layer " + std::to_string(k) + " has no bias");
  return {theta.data() + s.bias_offset, s.out};
}

Eigen::MatrixXd Mlp::predict(const Eigen::VectorXd& theta, const Eigen::MatrixXd& x) const {
  check_parameters(theta);
  if (x.cols() != input_dim())
    throw std::invalid_argument("inputs have " + std::to_string(x.cols()) +
                                " columns but the network " + describe() + " expects " +
                                std::to_string(input_dim()));
  // The hidden layers' outputs go into per-thread storage kept between calls (a solver predicts
  // once per step): glibc hands freed blocks the size of a [10,200,1] net's 500 x 200 layer back
  // to the kernel, and fresh ones fault in every page again (about 1 MB per Levenberg-Marquardt
  // step on that net). The storage only grows (each layer is a map of its first entries; a
  // resize to the next layer's shape would reallocate); above 2^20 doubles it is released after
  // the call.
  thread_local Eigen::MatrixXd act_store, z_store;
  Eigen::Index size = 0;  // the widest hidden layer's outputs
  for (int k = 0; k + 1 < n_layers(); ++k) size = std::max(size, x.rows() * layers_[k].out);
  for (Eigen::MatrixXd* m : {&z_store, &act_store})
    if (m->size() < size) m->resize(size, 1);
  Eigen::MatrixXd out;
  const double* input = x.data();  // the layer's input: x, then the previous layer's outputs
  for (int k = 0; k < n_layers(); ++k) {
    const LayerSlice& s = layers_[k];
    // W row-major (out x in) is the column-major (in x out) matrix W^T: Z = A W^T.
    const Eigen::Map<const Eigen::MatrixXd> a(input, x.rows(), s.in),
        wt(theta.data() + s.weight_offset, s.in, s.out);
    const auto add_bias = [&](auto&& z) {
      if (s.bias_offset >= 0)
        z.rowwise() += Eigen::Map<const Eigen::RowVectorXd>(theta.data() + s.bias_offset, s.out);
    };
    if (k + 1 == n_layers()) {
      out.noalias() = a * wt;
      add_bias(out);
      out *= output_scale();
      break;
    }
    Eigen::Map<Eigen::MatrixXd> z(z_store.data(), x.rows(), s.out);
    z.noalias() = a * wt;
    add_bias(z);
    // the SIMD path of the loss engine: the same values
    activation_batch(spec_.activation, z.data(), static_cast<long>(z.size()), act_store.data(),
                     nullptr, nullptr);
    input = act_store.data();
  }
  constexpr Eigen::Index keep = Eigen::Index{1} << 20;
  for (Eigen::MatrixXd* m : {&z_store, &act_store})
    if (m->size() > keep) m->resize(0, 0);
  return out;
}

}  // namespace locus
