#include "locus/transforms/surgery.hpp"

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "locus/io/format.hpp"

namespace locus::transforms {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kEps = std::numeric_limits<double>::epsilon();

// The network as one matrix W_k (out x in) and one bias b_k (empty without bias) per weight
// layer: every transform edits rows of W_K, entries of b_K and columns of W_{K+1} here, and pack()
// writes the flat vector of the new architecture.
struct Layers {
  MlpSpec spec;
  std::vector<MatrixXd> w;
  std::vector<VectorXd> b;
  Index hidden_width(int layer) const { return w[layer - 1].rows(); }
};

Layers unpack(const Mlp& model, const VectorXd& theta) {
  model.check_parameters(theta);
  Layers l{model.spec(), {}, {}};
  for (int k = 0; k < model.n_layers(); ++k) {
    l.w.push_back(model.weight(theta, k));
    l.b.push_back(model.has_bias(k) ? VectorXd(model.bias(theta, k)) : VectorXd());
  }
  return l;
}

// The flat vector of the edited layers. A mean-field net's output scale 1/h_L follows the new
// h_L, so W_{L+1} and b_{L+1} are multiplied by h_L'/h_L to keep s W_{L+1} unchanged.
Surgery pack(Layers l) {
  const size_t n_layers = l.w.size();
  const Index old_last = l.spec.widths[n_layers - 1];
  for (size_t k = 0; k + 1 < n_layers; ++k) l.spec.widths[k + 1] = l.w[k].rows();
  const Index new_last = l.spec.widths[n_layers - 1];
  if (l.spec.mean_field && new_last != old_last) {
    const double factor = static_cast<double>(new_last) / static_cast<double>(old_last);
    l.w.back() *= factor;
    l.b.back() *= factor;
  }
  Mlp model(l.spec);
  VectorXd theta(model.n_params());
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        theta.data() + s.weight_offset, s.out, s.in) = l.w[static_cast<size_t>(k)];
    if (s.bias_offset >= 0) theta.segment(s.bias_offset, s.out) = l.b[static_cast<size_t>(k)];
  }
  return {std::move(model), std::move(theta)};
}

// Keeps the neurons `order` of hidden layer K, in that order (a permutation, or a removal).
void select(Layers& l, int layer, const std::vector<Index>& order) {
  MatrixXd& w_in = l.w[layer - 1];
  MatrixXd& w_out = l.w[layer];
  VectorXd& b = l.b[layer - 1];
  w_in = MatrixXd(w_in(order, Eigen::all));
  w_out = MatrixXd(w_out(Eigen::all, order));
  if (b.size() > 0) b = VectorXd(b(order));
}

void erase(Layers& l, int layer, Index neuron) {
  std::vector<Index> keep;
  for (Index j = 0; j < l.hidden_width(layer); ++j)
    if (j != neuron) keep.push_back(j);
  select(l, layer, keep);
}

// Appends a neuron with incoming row `in`, bias `bias` and outgoing column `out` to layer K.
void append(Layers& l, int layer, const VectorXd& in, double bias, const VectorXd& out) {
  MatrixXd& w_in = l.w[layer - 1];
  MatrixXd& w_out = l.w[layer];
  VectorXd& b = l.b[layer - 1];
  w_in.conservativeResize(w_in.rows() + 1, Eigen::NoChange);
  w_in.row(w_in.rows() - 1) = in.transpose();
  w_out.conservativeResize(Eigen::NoChange, w_out.cols() + 1);
  w_out.col(w_out.cols() - 1) = out;
  if (b.size() > 0) {
    b.conservativeResize(b.size() + 1);
    b(b.size() - 1) = bias;
  }
}

std::string neuron_name(int layer, Index neuron) {
  return "neuron " + std::to_string(neuron) + " of hidden layer " + std::to_string(layer);
}

void check_finite(const VectorXd& v, const std::string& what) {
  for (Index i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw std::invalid_argument(what + " entry " + std::to_string(i) + " is " +
                                  io::format_number(v[i], 17) + ": weights must be finite");
}

// The incoming row and bias of a new neuron in layer K: empty = zeros; a nonzero bias needs a
// layer with biases.
std::pair<VectorXd, double> new_incoming(const Mlp& model, int layer, const VectorXd& incoming,
                                         double bias) {
  const Index in = model.layer(layer - 1).in;
  VectorXd w = incoming.size() == 0 ? VectorXd::Zero(in) : incoming;
  if (w.size() != in)
    throw std::invalid_argument("incoming weights have " + std::to_string(w.size()) +
                                " entries; hidden layer " + std::to_string(layer) + " needs " +
                                std::to_string(in));
  check_finite(w, "incoming weights");
  if (!std::isfinite(bias))
    throw std::invalid_argument("bias is " + io::format_number(bias, 17) + ": not finite");
  if (bias != 0.0 && !model.has_bias(layer - 1))
    throw std::invalid_argument("bias " + io::format_number(bias, 17) +
                                " given, but hidden layer " + std::to_string(layer) +
                                " has no bias");
  return {w, bias};
}

}  // namespace

void check_hidden_layer(const Mlp& model, int layer) {
  const int hidden = model.n_layers() - 1;
  if (hidden < 1)
    throw std::invalid_argument("layer " + std::to_string(layer) + ": " + model.describe() +
                                " has no hidden layer");
  if (layer < 1 || layer > hidden)
    throw std::invalid_argument("layer " + std::to_string(layer) +
                                " is out of range: the hidden layers of " + model.describe() +
                                " are 1.." + std::to_string(hidden));
}

void check_neuron(const Mlp& model, const NeuronRef& at) {
  check_hidden_layer(model, at.layer);
  const Index width = model.layer(at.layer - 1).out;
  if (at.neuron < 0 || at.neuron >= width)
    throw std::invalid_argument("neuron " + std::to_string(at.neuron) +
                                " is out of range: hidden layer " + std::to_string(at.layer) +
                                " has neurons 0.." + std::to_string(width - 1));
}

NeuronIndices neuron_indices(const Mlp& model, const NeuronRef& at) {
  check_neuron(model, at);
  const LayerSlice& in = model.layer(at.layer - 1);
  const LayerSlice& out = model.layer(at.layer);
  NeuronIndices r;
  for (Index c = 0; c < in.in; ++c) r.incoming.push_back(in.weight_offset + at.neuron * in.in + c);
  if (in.bias_offset >= 0) r.bias = in.bias_offset + at.neuron;
  for (Index i = 0; i < out.out; ++i)
    r.outgoing.push_back(out.weight_offset + i * out.in + at.neuron);
  return r;
}

NeuronWeights neuron_weights(const Mlp& model, const VectorXd& theta, const NeuronRef& at) {
  model.check_parameters(theta);
  const NeuronIndices ix = neuron_indices(model, at);
  return {theta(ix.incoming), ix.bias >= 0 ? theta[ix.bias] : 0.0, theta(ix.outgoing)};
}

Surgery split_neuron(const Mlp& model, const VectorXd& theta, const NeuronRef& at,
                     const std::vector<double>& fractions) {
  check_neuron(model, at);
  const size_t k = fractions.size();
  if (k < 2)
    throw std::invalid_argument("fractions: a split needs at least 2, got " + std::to_string(k));
  double sum = 0.0, sum_abs = 0.0;
  std::string list;
  for (size_t c = 0; c < k; ++c) {
    if (!std::isfinite(fractions[c]))
      throw std::invalid_argument("fraction " + std::to_string(c + 1) + " is " +
                                  io::format_number(fractions[c], 17) +
                                  ": fractions must be finite");
    sum += fractions[c];
    sum_abs += std::abs(fractions[c]);
    list += (c ? "," : "") + io::format_number(fractions[c], 17);
  }
  // Decimal fractions such as 0.1,0.2,0.7 do not sum to exactly 1 in binary; the rounding of
  // k parsed numbers and their sum stays below 4 k eps max(1, sum |f|).
  if (!(std::abs(sum - 1.0) <= 4.0 * static_cast<double>(k) * kEps * std::max(1.0, sum_abs)))
    throw std::invalid_argument("fractions " + list + " sum to " + io::format_number(sum, 17) +
                                ", not 1");
  Layers l = unpack(model, theta);
  const VectorXd in = l.w[at.layer - 1].row(at.neuron).transpose();
  const double bias = l.b[at.layer - 1].size() > 0 ? l.b[at.layer - 1](at.neuron) : 0.0;
  const VectorXd out = l.w[at.layer].col(at.neuron);
  l.w[at.layer].col(at.neuron) = fractions[0] * out;
  for (size_t c = 1; c < k; ++c) append(l, at.layer, in, bias, fractions[c] * out);
  return pack(std::move(l));
}

Surgery merge_neurons(const Mlp& model, const VectorXd& theta, int layer, Index keep, Index other) {
  check_neuron(model, {layer, keep});
  check_neuron(model, {layer, other});
  if (keep == other)
    throw std::invalid_argument("merge: " + neuron_name(layer, keep) + " given twice");
  Layers l = unpack(model, theta);
  const MatrixXd& w_in = l.w[layer - 1];
  for (Index c = 0; c < w_in.cols(); ++c)
    if (w_in(keep, c) != w_in(other, c))
      throw std::invalid_argument("merge: " + neuron_name(layer, keep) + " and neuron " +
                                  std::to_string(other) + " differ in incoming weight " +
                                  std::to_string(c) + " (" + io::format_number(w_in(keep, c), 17) +
                                  " vs " + io::format_number(w_in(other, c), 17) +
                                  "); only exact duplicates merge");
  const VectorXd& b = l.b[layer - 1];
  if (b.size() > 0 && b(keep) != b(other))
    throw std::invalid_argument("merge: " + neuron_name(layer, keep) + " and neuron " +
                                std::to_string(other) + " differ in bias (" +
                                io::format_number(b(keep), 17) + " vs " +
                                io::format_number(b(other), 17) + "); only exact duplicates merge");
  l.w[layer].col(keep) += l.w[layer].col(other);
  erase(l, layer, other);
  return pack(std::move(l));
}

Surgery add_zero_neuron(const Mlp& model, const VectorXd& theta, int layer,
                        const NeuronWeights& weights) {
  check_hidden_layer(model, layer);
  const auto [in, bias] = new_incoming(model, layer, weights.incoming, weights.bias);
  if (weights.outgoing.size() > 0 && (weights.outgoing.array() != 0.0).any())
    throw std::invalid_argument("outgoing weights of a zero-type neuron must be 0 (largest |a| = " +
                                io::format_number(weights.outgoing.cwiseAbs().maxCoeff(), 17) +
                                ")");
  Layers l = unpack(model, theta);
  append(l, layer, in, bias, VectorXd::Zero(l.w[layer].rows()));
  return pack(std::move(l));
}

Surgery add_zero_group(const Mlp& model, const VectorXd& theta, int layer, const VectorXd& incoming,
                       double bias, const MatrixXd& outgoing) {
  check_hidden_layer(model, layer);
  const auto [in, b] = new_incoming(model, layer, incoming, bias);
  const Index out_dim = model.layer(layer).out;
  if (outgoing.cols() < 2 || outgoing.rows() != out_dim)
    throw std::invalid_argument("outgoing weights of a zero group: need " +
                                std::to_string(out_dim) + " x k with k >= 2, got " +
                                std::to_string(outgoing.rows()) + " x " +
                                std::to_string(outgoing.cols()));
  const double k = static_cast<double>(outgoing.cols());
  for (Index i = 0; i < out_dim; ++i) {
    check_finite(outgoing.row(i).transpose(), "outgoing weights row " + std::to_string(i) + ",");
    // The rounding of a sum of k numbers: k eps max|a|, with room for decimal inputs.
    const double sum = outgoing.row(i).sum();
    if (!(std::abs(sum) <= 4.0 * k * kEps * outgoing.row(i).cwiseAbs().maxCoeff()))
      throw std::invalid_argument("outgoing weights of a zero group: row " + std::to_string(i) +
                                  " sums to " + io::format_number(sum, 17) + ", not 0");
  }
  Layers l = unpack(model, theta);
  for (Index c = 0; c < outgoing.cols(); ++c) append(l, layer, in, b, outgoing.col(c));
  return pack(std::move(l));
}

Surgery remove_neuron(const Mlp& model, const VectorXd& theta, const NeuronRef& at) {
  check_neuron(model, at);
  Layers l = unpack(model, theta);
  const double largest = l.w[at.layer].col(at.neuron).cwiseAbs().maxCoeff();
  if (largest != 0.0)
    throw std::invalid_argument(
        "cannot remove " + neuron_name(at.layer, at.neuron) +
        ": its outgoing weights are not 0 (largest |a| = " + io::format_number(largest, 17) + ")");
  if (l.hidden_width(at.layer) == 1)
    throw std::invalid_argument("cannot remove " + neuron_name(at.layer, at.neuron) +
                                ": it is the layer's only neuron");
  erase(l, at.layer, at.neuron);
  return pack(std::move(l));
}

std::vector<Index> inverse_permutation(const std::vector<Index>& permutation) {
  const Index n = static_cast<Index>(permutation.size());
  std::vector<Index> inverse(permutation.size(), -1);
  for (Index i = 0; i < n; ++i) {
    const Index p = permutation[static_cast<size_t>(i)];
    if (p < 0 || p >= n || inverse[static_cast<size_t>(p)] >= 0)
      throw std::invalid_argument("permutation entry " + std::to_string(i) + " = " +
                                  std::to_string(p) + ": not a permutation of 0.." +
                                  std::to_string(n - 1) +
                                  (p >= 0 && p < n ? " (repeated)" : " (out of range)"));
    inverse[static_cast<size_t>(p)] = i;
  }
  return inverse;
}

Surgery permute_neurons(const Mlp& model, const VectorXd& theta, int layer,
                        const std::vector<Index>& permutation) {
  check_hidden_layer(model, layer);
  const Index width = model.layer(layer - 1).out;
  if (static_cast<Index>(permutation.size()) != width)
    throw std::invalid_argument("permutation has " + std::to_string(permutation.size()) +
                                " entries; hidden layer " + std::to_string(layer) + " has " +
                                std::to_string(width) + " neurons");
  inverse_permutation(permutation);  // validates
  Layers l = unpack(model, theta);
  select(l, layer, permutation);
  return pack(std::move(l));
}

Surgery grow(const Mlp& model, const VectorXd& theta, const std::vector<Index>& hidden_widths) {
  const int hidden = model.n_layers() - 1;
  if (static_cast<int>(hidden_widths.size()) != hidden)
    throw std::invalid_argument("hidden_widths has " + std::to_string(hidden_widths.size()) +
                                " entries; " + model.describe() + " has " + std::to_string(hidden) +
                                " hidden layers");
  Layers l = unpack(model, theta);
  for (int layer = 1; layer <= hidden; ++layer) {
    const Index target = hidden_widths[static_cast<size_t>(layer - 1)];
    if (target < l.hidden_width(layer))
      throw std::invalid_argument("hidden_widths[" + std::to_string(layer - 1) +
                                  "] = " + std::to_string(target) + " is below the width " +
                                  std::to_string(l.hidden_width(layer)) + " of hidden layer " +
                                  std::to_string(layer) + " (grow only adds neurons)");
    while (l.hidden_width(layer) < target)
      append(l, layer, VectorXd::Zero(l.w[layer - 1].cols()), 0.0,
             VectorXd::Zero(l.w[layer].rows()));
  }
  return pack(std::move(l));
}

ShrinkResult shrink(const Mlp& model, const VectorXd& theta) {
  Layers l = unpack(model, theta);
  const int hidden = model.n_layers() - 1;
  std::vector<Index> merged(static_cast<size_t>(std::max(hidden, 0)), 0);
  std::vector<Index> removed(merged.size(), 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (int layer = 1; layer <= hidden; ++layer) {
      const MatrixXd& w_in = l.w[layer - 1];
      const VectorXd& b = l.b[layer - 1];
      for (Index j = 1; j < l.hidden_width(layer);) {
        Index twin = -1;
        for (Index i = 0; i < j && twin < 0; ++i)
          if ((w_in.row(i).array() == w_in.row(j).array()).all() && (b.size() == 0 || b(i) == b(j)))
            twin = i;
        if (twin < 0) {
          ++j;
          continue;
        }
        l.w[layer].col(twin) += l.w[layer].col(j);
        erase(l, layer, j);
        ++merged[static_cast<size_t>(layer - 1)];
        changed = true;
      }
      for (Index j = l.hidden_width(layer) - 1; j >= 0 && l.hidden_width(layer) > 1; --j)
        if ((l.w[layer].col(j).array() == 0.0).all()) {
          erase(l, layer, j);
          ++removed[static_cast<size_t>(layer - 1)];
          changed = true;
        }
    }
  }
  Surgery s = pack(std::move(l));
  return {std::move(s.model), std::move(s.theta), std::move(merged), std::move(removed)};
}

}  // namespace locus::transforms
