#pragma once
// The multilayer perceptron: architecture, flat parameter layout, initialisation, forward pass.
//
//   locus::Mlp model({.widths = {10, 200, 1}, .activation = locus::Activation::softplus});
//   Eigen::VectorXd theta = model.init_parameters({.scheme = locus::InitScheme::glorot, .seed =
//   7}); Eigen::MatrixXd out = model.predict(theta, x);   // x: d x p, out: d x l
//
// Parameter layout (the order of a PyTorch nn.Sequential of Linear layers' state dict): layer by
// layer k = 1..L+1, first W_k row-major (out x in), then b_k (out) when the layer has a bias.

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "locus/core/activation.hpp"

namespace locus {

using Index = Eigen::Index;

// Architecture of f(x) = s * (W_{L+1} sigma(... sigma(W_1 x + b_1) ...) + b_{L+1}).
struct MlpSpec {
  // [p, h1, ..., hL, l]: input dimension, hidden widths, output dimension; at least 2 entries.
  std::vector<Index> widths;
  // Nonlinearity of every hidden layer; the output layer is linear.
  Activation activation = Activation::softplus;
  // One flag per weight layer (widths.size() - 1 of them); empty means every layer has a bias.
  std::vector<bool> bias;
  // Mean-field output scaling s = 1/h_L (Mei-Montanari, Shevchenko-Mondelli); false: s = 1.
  bool mean_field = false;

  // Throws std::invalid_argument naming the offending field: fewer than 2 widths, a width < 1,
  // or a bias list of the wrong length.
  void validate() const;
};

// Where one weight layer lives in the flat parameter vector.
struct LayerSlice {
  Index in = 0, out = 0;
  Index weight_offset = 0;  // W (out x in, row-major) starts here
  Index bias_offset = -1;   // b (out) starts here; -1 when the layer has no bias
};

enum class InitScheme {
  glorot,  // W ~ U(-a, a), a = sqrt(6 / (in + out)); biases 0
  he,      // W ~ N(0, 2 / in); biases 0
  normal,  // every parameter ~ N(0, std^2)
};
std::string_view to_string(InitScheme s);
InitScheme parse_init_scheme(std::string_view name);

struct InitOptions {
  InitScheme scheme = InitScheme::glorot;
  std::uint64_t seed = 0;  // the same seed gives the same vector on every machine
  double std = 1.0;        // standard deviation for InitScheme::normal
};

class Mlp {
 public:
  // Validates spec (see MlpSpec::validate).
  explicit Mlp(MlpSpec spec);

  const MlpSpec& spec() const { return spec_; }
  Activation activation() const { return spec_.activation; }
  Index input_dim() const { return spec_.widths.front(); }
  Index output_dim() const { return spec_.widths.back(); }
  // Number of weight layers, L + 1.
  int n_layers() const { return static_cast<int>(layers_.size()); }
  const LayerSlice& layer(int k) const { return layers_.at(k); }  // k = 0 .. n_layers()-1
  bool has_bias(int k) const { return layers_.at(k).bias_offset >= 0; }
  // n = sum_k out_k * (in_k + [bias_k]).
  Index n_params() const { return n_params_; }
  // The factor s multiplying the output layer (1, or 1/h_L for mean-field).
  double output_scale() const;
  // "[10,200,1] softplus" style description.
  std::string describe() const;

  // A seeded random parameter vector (see InitScheme). Deterministic: a fixed-algorithm PRNG
  // (std::mt19937_64 with locus's own normal/uniform transforms), not the standard distributions.
  Eigen::VectorXd init_parameters(const InitOptions& options = {}) const;

  // f_theta(x_i) for each row of x (d x p); returns d x l. Cost: one GEMM per layer; the hidden
  // layers' outputs live in two per-thread blocks of d x (widest hidden layer) doubles kept
  // between calls (blocks above 2^20 doubles are freed on return). Thread-safe.
  // Throws std::invalid_argument on a wrong-length theta or wrong-width x.
  Eigen::MatrixXd predict(const Eigen::VectorXd& theta, const Eigen::MatrixXd& x) const;

  // Views of layer k's weights (out x in) and bias inside theta.
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> weight(
      const Eigen::VectorXd& theta, int k) const;
  Eigen::Map<const Eigen::VectorXd> bias(const Eigen::VectorXd& theta, int k) const;

  // Throws std::invalid_argument unless theta has n_params() entries, all finite.
  void check_parameters(const Eigen::VectorXd& theta, std::string_view what = "parameters") const;

 private:
  MlpSpec spec_;
  std::vector<LayerSlice> layers_;
  Index n_params_ = 0;
};

}  // namespace locus
