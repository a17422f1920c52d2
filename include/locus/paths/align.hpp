#pragma once
// Permutation alignment of two networks of one architecture by weight matching (Ainsworth,
// Hayase & Srinivasa 2023, "Git Re-Basin", algorithm 1): the hidden neurons of B are permuted,
// layer by layer, to bring B as close as possible to A, so that the straight line between A and
// the aligned B no longer averages unlike neurons.
//
//   locus::Objective objective(model, data);
//   locus::paths::Alignment al = locus::paths::weight_match(model, theta_a, theta_b, objective);
//   al.theta;                                   // B with its neurons permuted: the same function
//   al.permutations[0];                         // new neuron i of layer 1 = old neuron [i]
//   al.line_before->barriers.above_larger_end;  // the straight line's barrier A -> B ...
//   al.line_after->barriers.above_larger_end;   // ... and A -> aligned B
//
// With permutation matrices P_K of the hidden layers K = 1..L (P_0 = P_{L+1} = I), weight
// matching maximizes
//   J(P) = sum_{K=1}^{L+1} <W_K^A, P_K W_K^B P_{K-1}^T> + sum_K <b_K^A, P_K b_K^B>,
// which is theta_A . theta_B' for the permuted theta_B' (a permutation only moves entries), so
// that maximizing J minimizes |theta_A - theta_B'|_2. For one P_K with the others fixed, J is a
// linear assignment problem in P_K, with the score of putting B's neuron j at A's neuron i
//   C_ij = <A's incoming row i, B''s incoming row j> + a_i b_j + <A's outgoing column i, B''s
//   outgoing column j>
// (incoming: W_K rows, after P_{K-1}; outgoing: W_{K+1} columns, after P_{K+1}), solved exactly
// by solve_assignment. One hidden layer: one assignment, the exact optimum. Deeper: coordinate
// descent over the layers in a seeded random order, sweep after sweep, until a sweep changes no
// layer (J increases strictly at every change, so this terminates); restarts from seeded random
// permutations keep the best J (a local optimum of the coordinate descent need not be global).

#include <Eigen/Core>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"

namespace locus::paths {

// The linear assignment problem: the permutation sigma of 0..h-1 that maximizes
// sum_i score(i, sigma(i)) (score square, h x h, finite). Exact, by shortest augmenting paths
// with dual potentials (the Hungarian method in the O(h^3) form of Jonker & Volgenant 1987,
// without their initialisation heuristics). Ties are broken deterministically. Throws
// std::invalid_argument for a non-square, empty or non-finite score.
std::vector<Index> solve_assignment(const Eigen::MatrixXd& score);

// Options of weight_match.
struct AlignOptions {
  // Coordinate descent runs: the first from B as given, the others from B with every hidden
  // layer randomly permuted; the best J is kept. One hidden layer needs one (it is exact).
  int restarts = 4;
  std::uint64_t seed = 0;  // the random layer orders and restart permutations
  int max_sweeps = 100;    // sweeps over all hidden layers per run
  ProfileOptions profile;  // the straight lines' profiles (when a loss is given)

  // Throws std::invalid_argument naming the field (restarts < 1, max_sweeps < 1, bad profile).
  void validate() const;
};
// The field table of AlignOptions (the profile's rows keep their names): `locus path align`'s
// flags and Python's keywords.
const options::Table<AlignOptions>& align_table();

struct Alignment {
  // True when the best run ended with a sweep that changed no layer (else max_sweeps was hit).
  bool converged = false;
  std::string message;
  // permutations[K-1] for hidden layer K: new neuron i of the aligned B = B's neuron
  // permutations[K-1][i] (transforms::permute_neurons's convention).
  std::vector<std::vector<Index>> permutations;
  Eigen::VectorXd theta;  // B with the permutations applied: the same function as B, exactly
  double objective_before = NAN, objective_after = NAN;  // J = theta_A . theta_B (B, aligned B)
  double distance_before = NAN, distance_after = NAN;    // |theta_A - theta_B|_2 (B, aligned B)
  int sweeps = 0;                                        // sweeps of the best run
  int best_restart = 0;  // which run gave the best J (0: the one from B as given)
  // With a loss: the straight line A -> B and A -> aligned B (their loss_end are L(B) and
  // L(aligned B), equal up to the rounding of reordered sums).
  std::optional<LossProfile> line_before, line_after;
};

// Weight matching of B to A (see the header comment). Cost per sweep: for each hidden layer K an
// h_K x h_K score, O(h_K^2 (h_{K-1} + h_{K+1})), and one O(h_K^3) assignment; times sweeps and
// restarts. Throws std::invalid_argument when theta_a or theta_b is not a parameter vector of
// model (length, finite), or options are invalid. A network without hidden layers has nothing
// to permute: the result is B itself. progress gets "weight matching" with the runs done out of
// restarts (1 for one hidden layer) after each run.
Alignment weight_match(const Mlp& model, const Eigen::VectorXd& theta_a,
                       const Eigen::VectorXd& theta_b, const AlignOptions& options = {},
                       const ProgressCallback& progress = {});
// The same, plus the loss profiles of the straight lines before and after alignment (loss must
// be a function of model's parameters); progress also gets the profiles' events.
Alignment weight_match(const Mlp& model, const Eigen::VectorXd& theta_a,
                       const Eigen::VectorXd& theta_b, FunctionRef loss,
                       const AlignOptions& options = {}, const ProgressCallback& progress = {});

// {"converged", "message", "permutations": [[...], ...], "objective_before", "objective_after",
//  "distance_before", "distance_after", "sweeps", "best_restart", "line_before", "line_after"
//  (profiles, or absent)}.
io::Json to_json(const Alignment& a);
// "alignment: converged ...", the distance and J before and after, the barriers when known.
std::string summary(const Alignment& a);

}  // namespace locus::paths
