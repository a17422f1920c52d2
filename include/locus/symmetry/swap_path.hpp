#pragma once
// Zero-loss swap paths (Simsek et al. 2021, PAPERS.md §4): with one extra neuron in a hidden
// layer, two neurons i and j of that layer exchange places along an explicit piecewise-linear
// path on which the network function -- hence any loss -- stays the same. With one extra neuron
// per hidden layer any permutation of any layer is reached this way, so the r! permuted copies
// of a minimum, isolated at width r, are connected at width r + 1.
//
//   auto s = locus::symmetry::swap_path(teacher, theta, {{.layer = 1, .i = 0, .j = 2}});
//   auto path = locus::paths::Path::polyline(s.vertices);   // 8 vertices, 7 segments
//   // L is constant along every segment; the straight line row 0 -> last row is not
//
// One swap of neurons i, j of hidden layer K, through the extra neuron e (appended last in K,
// zero-type: outgoing weights 0, incoming weights and bias 0). Write u for a neuron's incoming
// weights and bias, a for its outgoing weights (a column of W_{K+1}). Seven segments:
//   1. u_e: 0 -> u_i           e is zero-type: f unchanged
//   2. a_e: 0 -> a_i, a_i -> 0 u_e = u_i: the sum a_i sigma(u_i x) + a_e sigma(u_e x) is constant
//   3. u_i -> u_j              i is now zero-type
//   4. a_i: 0 -> a_j, a_j -> 0 u_i = u_j
//   5. u_j -> u_e (= old u_i)  j is now zero-type
//   6. a_j: 0 -> a_e, a_e -> 0 u_j = u_e
//   7. u_e -> 0                e is zero-type again
// At the end neuron i holds (u_j, a_j), neuron j holds (u_i, a_i), e is as at the start: the
// teacher with i and j exchanged in place. Every point of a segment computes the same function
// as the start, to round-off (the transfers add two rounded products).

#include <Eigen/Core>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/mlp.hpp"

namespace locus::symmetry {

// Exchange neurons i and j (i != j, numbered from 0) of hidden layer `layer` (from 1).
struct NeuronSwap {
  int layer = 1;
  Index i = 0, j = 1;
};

// What a segment of a swap path moves; either way the network function is unchanged.
enum class SwapSegmentKind {
  move_incoming,     // the incoming weights and bias of a neuron whose outgoing weights are 0
  transfer_outgoing  // outgoing weights from one neuron to another with the same incoming ones
};
std::string_view to_string(SwapSegmentKind k);

struct SwapSegment {
  SwapSegmentKind kind = SwapSegmentKind::move_incoming;
  int layer = 1;
  Index neuron = 0;  // move_incoming: the neuron moved; transfer_outgoing: the one receiving
  Index from = -1;   // transfer_outgoing: the neuron giving its outgoing weights; else -1
};

struct SwapPath {
  Mlp model;                 // the teacher with one extra (last) neuron in every hidden layer
  Eigen::MatrixXd vertices;  // (1 + 7 s) x n, s swaps: row 0 = teacher + zero-type neurons,
                             // last row = the same with each swap applied, in order, in place
  std::vector<SwapSegment> segments;  // 7 s: segment k runs from vertex k to vertex k + 1
};

// The piecewise-linear path that applies `swaps` in order to (teacher, theta). The extra neurons
// have zero incoming weights and bias at the start and at the end. Cost O(s n) memory and time.
// Throws std::invalid_argument for an empty swap list, a layer outside 1..L, i or j outside the
// layer's width (the teacher's, not counting the extra neuron), i == j, or a bad theta
// (Mlp::check_parameters).
SwapPath swap_path(const Mlp& teacher, const Eigen::VectorXd& theta,
                   const std::vector<NeuronSwap>& swaps);

}  // namespace locus::symmetry
