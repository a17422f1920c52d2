#pragma once
// Exact, function-preserving neuron surgery on an MLP of any depth: (Mlp, theta) -> (Mlp', theta')
// with f_theta'(x) = f_theta(x) for every x (to round-off where weights are multiplied or added;
// bit for bit where they are only moved). Simsek et al. (2021), "Geometry of the loss landscape
// in overparameterized neural networks: symmetries and invariances", build their expansion
// manifold and their split critical points from these moves.
//
//   locus::Mlp model({.widths = {3, 5, 4, 2}, .activation = locus::Activation::tanh});
//   Eigen::VectorXd theta = model.init_parameters({.seed = 1});
//   auto s = locus::transforms::split_neuron(model, theta, {.layer = 1, .neuron = 2},
//                                            {0.25, 0.75});   // [3,6,4,2], copy = neuron 5
//   auto back = locus::transforms::merge_neurons(s.model, s.theta, 1, 2, 5);  // [3,5,4,2]
//   // s.model.predict(s.theta, x) == model.predict(theta, x) to round-off
//
// Numbering, everywhere (C++, CLI, Python, messages): hidden layers K = 1..L (1 = the first
// hidden layer; widths = [p, h_1, ..., h_L, l]), neurons j = 0..h_K-1. Hidden neuron (K, j) has
// incoming weights row j of W_K (weight layer K-1 of Mlp::layer, 0-based) and bias b_K[j], and
// outgoing weights column j of W_{K+1} (weight layer K). New neurons are appended at the end of
// their layer. The activation and the bias flags are kept.
//
// Mean-field networks (output scale s = 1/h_L) change s when the last hidden layer changes width;
// every transform then multiplies W_{L+1} and b_{L+1} by h_L'/h_L, so that f stays the same.
//
// Errors (std::invalid_argument naming the input): a layer outside 1..L, a neuron outside
// 0..h_K-1, a theta of the wrong length or with NaN/inf (Mlp::check_parameters), non-finite
// weights or fractions, fractions not summing to 1, a removal of a neuron with nonzero outgoing
// weights, a merge of neurons with different incoming weights. Every transform costs O(n)
// (the parameters are copied once into per-layer matrices and packed again).

#include <Eigen/Core>
#include <vector>

#include "locus/core/mlp.hpp"

namespace locus::transforms {

// A network and its parameters: the result of every transform.
struct Surgery {
  Mlp model;
  Eigen::VectorXd theta;  // model.n_params() entries
};

// Hidden neuron j of hidden layer K (K from 1, j from 0).
struct NeuronRef {
  int layer = 1;
  Index neuron = 0;
};

// Throws std::invalid_argument unless 1 <= layer <= L ("layer 3 is out of range: the hidden
// layers of [3,5,4,2] tanh are 1..2") and 0 <= neuron < h_K.
void check_neuron(const Mlp& model, const NeuronRef& at);
// Throws std::invalid_argument unless 1 <= layer <= L.
void check_hidden_layer(const Mlp& model, int layer);

// Where hidden neuron (K, j) lives in the flat parameter vector.
struct NeuronIndices {
  std::vector<Index> incoming;  // W_K[j, :], h_{K-1} entries (h_0 = p)
  Index bias = -1;              // b_K[j]; -1 when layer K has no bias
  std::vector<Index> outgoing;  // W_{K+1}[:, j], h_{K+1} entries (h_{L+1} = l)
};
// The flat indices of neuron (K, j)'s weights. O(h_{K-1} + h_{K+1}). Throws as check_neuron.
NeuronIndices neuron_indices(const Mlp& model, const NeuronRef& at);

// The weights of one hidden neuron.
struct NeuronWeights {
  Eigen::VectorXd incoming;  // W_K[j, :]
  double bias = 0.0;         // b_K[j] (0 when layer K has no bias)
  Eigen::VectorXd outgoing;  // W_{K+1}[:, j]
};
// Reads neuron (K, j)'s weights from theta. Throws as check_neuron / check_parameters.
NeuronWeights neuron_weights(const Mlp& model, const Eigen::VectorXd& theta, const NeuronRef& at);

// Splits neuron (K, j) into k = fractions.size() >= 2 neurons with the same incoming weights and
// bias; copy c gets outgoing weights f_c * a (a = the original outgoing column): the original keeps
// f_1, copies 2..k are appended at the end of layer K in order (indices h_K .. h_K+k-2). Then
// sum_c f_c a sigma(z) = a sigma(z) when sum_c f_c = 1. Fractions may be any finite reals, zero
// and negative included (a zero fraction makes a zero-type neuron with tied incoming weights);
// sum_c f_c must equal 1 within 4 k eps max(1, sum_c |f_c|) (the rounding of a sum of k decimal
// inputs), else std::invalid_argument listing the fractions and their sum.
Surgery split_neuron(const Mlp& model, const Eigen::VectorXd& theta, const NeuronRef& at,
                     const std::vector<double>& fractions);

// Inverse of a split: merges neuron `other` into neuron `keep` of hidden layer `layer` (their
// incoming weights and biases must be bitwise equal, else std::invalid_argument naming the first
// differing weight): outgoing(keep) += outgoing(other), then `other` is removed (neurons after it
// move down by one). Bit for bit the inverse of split_neuron when the outgoing sums are exact
// (fractions 1/2, 1/2); else to round-off.
Surgery merge_neurons(const Mlp& model, const Eigen::VectorXd& theta, int layer, Index keep,
                      Index other);

// Appends a zero-type neuron to hidden layer K: incoming weights and bias from `weights`
// (weights.incoming empty = zeros; weights.bias must be 0 when layer K has no bias), outgoing
// weights 0 (weights.outgoing must be empty or all zero). The function is unchanged bit for bit
// (mean-field nets: to round-off).
Surgery add_zero_neuron(const Mlp& model, const Eigen::VectorXd& theta, int layer,
                        const NeuronWeights& weights = {});

// Appends a zero group to hidden layer K: k = outgoing.cols() >= 2 neurons that share the
// incoming weights and bias (incoming empty = zeros), with outgoing weights the columns of
// `outgoing` (h_{K+1} x k), each row summing to 0 within 4 k eps max_c |outgoing(i, c)|
// (std::invalid_argument naming the row otherwise). Then sum_c a_c sigma(z) = 0: f is unchanged
// to round-off.
Surgery add_zero_group(const Mlp& model, const Eigen::VectorXd& theta, int layer,
                       const Eigen::VectorXd& incoming, double bias,
                       const Eigen::MatrixXd& outgoing);

// Removes neuron (K, j), whose outgoing weights must all be exactly 0 (std::invalid_argument
// naming the neuron and the largest |outgoing| otherwise, or when it is the layer's last neuron:
// a layer keeps width >= 1). Neurons after j move down by one. Exact.
Surgery remove_neuron(const Mlp& model, const Eigen::VectorXd& theta, const NeuronRef& at);

// Reorders the neurons of hidden layer K: new neuron i = old neuron permutation[i] (its incoming
// row, bias and outgoing column move together). permutation must hold each of 0..h_K-1 exactly
// once (std::invalid_argument naming the first bad entry). Exact (only copies).
Surgery permute_neurons(const Mlp& model, const Eigen::VectorXd& theta, int layer,
                        const std::vector<Index>& permutation);
// q with q[permutation[i]] = i, so that permuting by q undoes permuting by permutation. Throws
// as permute_neurons's check.
std::vector<Index> inverse_permutation(const std::vector<Index>& permutation);

// Widens every hidden layer K to hidden_widths[K-1] (>= h_K; L entries) by appending zero-type
// neurons with zero incoming weights and bias. One extra neuron per layer: hidden_widths = h + 1.
// Exact. std::invalid_argument for a wrong count or a width below the current one.
Surgery grow(const Mlp& model, const Eigen::VectorXd& theta,
             const std::vector<Index>& hidden_widths);

// The result of shrink: the smaller network and what was done, per hidden layer.
struct ShrinkResult {
  Mlp model;
  Eigen::VectorXd theta;
  std::vector<Index> merged;   // per hidden layer: duplicates merged into an earlier neuron
  std::vector<Index> removed;  // per hidden layer: zero-outgoing neurons removed
};
// Shrinks the network without changing its function: in every hidden layer, merges each neuron
// into the first earlier neuron with bitwise equal incoming weights and bias (outgoing weights
// add), then removes the neurons whose outgoing weights are all exactly 0 -- except that a layer
// keeps at least one neuron. Repeats over the layers until nothing changes (a removal in layer
// K+1 can zero an outgoing column of layer K). Undoes grow bit for bit, and splits (bit for bit
// when the outgoing sums are exact, else to round-off); merged neurons keep the lower index. Cost
// O(n * h_K) per pass for the duplicate search.
ShrinkResult shrink(const Mlp& model, const Eigen::VectorXd& theta);

}  // namespace locus::transforms
