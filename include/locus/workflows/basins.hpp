#pragma once
// Li, Ding & Sun's narrow-to-wide transition (PAPERS.md §2): sweeps of seeds x widths of one
// hidden layer (the last by default, any depth) with a certified end state per run, the
// transition table per width, and the mechanism behind it at the last hidden layer -- the rank of
// the feature matrix Phi (N x h_L), the exact flat output directions ker Phi, the descent path to
// zero loss at width >= N, and the saddle made by splitting a narrow strict minimum.
//
//   locus::Dataset data = locus::workflows::scalar_data();        // N = 8 points, scalar input
//   locus::workflows::BasinsOptions o{.arch = "1,1,1", .widths = "1,2,8,10", .seeds = 10};
//   auto r = locus::workflows::run_basins(o, data);
//   // r.widths[k].strict_minimum, r.widths[k].suboptimal_strict, r.runs[i].end_state
//   auto d = locus::workflows::descend(model, data, r.runs[i].theta);    // width >= N
//   // d.profile.loss: constant, constant, then (1 - t)^2 L(0); d.loss_final <= 1e-20
//
// Facts used (independent of the activation): output weights A (l x h_L) enter linearly,
// f = Phi A^T + 1 c^T. (1) For u in ker Phi, moving a row of A along u leaves every prediction
// and hence the loss exactly constant: with rank Phi < h_L no point is a strict minimum, and the
// sweep never issues that verdict there. (2) With rank Phi = N the segment to the least-squares
// output weights has residual (1 - t) r(0), so L(t) = (1 - t)^2 L(0). (3) Neurons whose output
// weights are 0 do not touch f: their incoming weights move freely until rank Phi = N.
//
// Every run is a pure function of (options, data, width, seed): the sweep gives the same result
// serially, over threads or over MPI ranks (apps/locus's runner), bit for bit apart from timings.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "locus/core/activation.hpp"
#include "locus/core/dataset.hpp"
#include "locus/core/mlp.hpp"
#include "locus/core/options.hpp"
#include "locus/io/json.hpp"
#include "locus/paths/path.hpp"
#include "locus/solvers/solve.hpp"
#include "locus/workflows/certify.hpp"

namespace locus::workflows {

// Hand-made data with a scalar input: N = 8 points x_i = -5 + 10 i / 7 and the asymmetric bump
// y = tanh(x + 2) - tanh(1.5 (x - 2)). A [1, 1, 1] tanh net (monotone) fits one ramp or the
// other: multistart finds strict minima at different losses (L ~ 3.62 above the lowest, ~3.48,
// reached only as the weights grow without bound); [1, 2, 1] already fits it exactly, and by
// Li-Ding-Sun no sub-optimal strict minimum exists at width >= 8.
Dataset scalar_data();

struct BasinsOptions {
  // Architecture p,h_1,...,h_L,l; the swept layer's width is replaced by each entry of widths.
  std::string arch = "1,1,1";
  std::string widths = "1,2,8,10";  // swept widths, increasing, each >= 1
  std::int64_t layer = 0;           // swept hidden layer K in 1..L; 0: the last (L)
  std::int64_t seeds = 10;          // runs per width, with seeds seed, seed + 1, ...
  std::uint64_t seed = 0;           // first seed of the initialisation
  // The initialisation: normal (every weight and bias ~ N(0, init_std^2), so that multistart
  // reaches basins away from the origin), glorot or he (biases 0).
  InitScheme init = InitScheme::normal;
  double init_std = 2.0;
  Activation activation = Activation::tanh;  // hidden layers (C^2 for a certificate)
  // Adam, the polish and the certificate (rows adam_iterations, adam_learning_rate, polish,
  // polish_iterations, loss_tolerance, gradient_tolerance, min_gap); min_gap also decides
  // Phi's rank count. Here the polish is Newton's and critical means |grad L|_inf <= 1e-9.
  TrainCertifyOptions train{.polish = solvers::Method::newton, .gradient_tolerance = 1e-9};
  // A strict minimum is sub-optimal when L - L_best > suboptimal_gap * max(1, L_best), L_best
  // the lowest loss of the whole sweep on the same data.
  double suboptimal_gap = 1e-8;
  std::int64_t run_threads = 1;  // runs in parallel (threads; results do not depend on it)
  // Throws options::OptionError naming the field (widths out of order or < 1, layer out of
  // range, seeds < 1, ...).
  void validate() const;
};
const options::Table<BasinsOptions>& basins_table();

// The swept architectures: arch with layer K's width replaced by each width. Throws
// options::OptionError naming the field.
std::vector<MlpSpec> basins_specs(const BasinsOptions& options);

// The feature matrix of the last hidden layer, Phi = sigma(... sigma(X W_1^T + 1 b_1^T) ...)
// (N x h_L), and its rank by the rule of analysis/jacobian (tau = max(N, h_L) eps sigma_max).
struct FeatureRank {
  Eigen::MatrixXd phi;  // N x h_L
  Index rank = 0;
  double tolerance = 0.0;       // tau
  double gap = 0.0;             // sigma_rank / sigma_{rank+1} (inf when nothing was dropped)
  double sigma_min_kept = 0.0;  // sigma_rank
  // l (h_L - rank): exact flat directions of the loss in the output weights (rows of A in ker Phi).
  Index flat_output_directions = 0;
};
// One forward pass to layer L plus an SVD of Phi, O(N h_L min(N, h_L)). Throws
// std::invalid_argument for a net without hidden layers or a wrong-length theta.
FeatureRank feature_rank(const Mlp& model, const Dataset& data, const Eigen::VectorXd& theta);

// One run of the sweep.
struct BasinRun {
  Index width = 0;
  std::uint64_t seed = 0;
  // global_minimum, strict_minimum, non_strict_minimum, saddle, not_converged or undecided.
  std::string end_state;
  std::string message;  // the certificate's message (and why a strict verdict was withdrawn)
  double loss = NAN;    // at the certified point
  double gradient_max_norm = NAN;
  // The Hessian's inertia there: min_eigenvalue and counts with the zero tolerance tau_H.
  double min_eigenvalue = NAN, zero_tolerance = NAN, hessian_gap = NAN;
  Index positive = 0, zero = 0, negative = 0;
  Index phi_rank = 0, flat_output_directions = 0;  // feature_rank at the certified point
  // For non-strict minima: whether the loss is constant (to round-off) along the zero directions
  // (certify's straight walk); false otherwise.
  bool loss_constant_along_zero_directions = false;
  bool suboptimal = false;      // strict minimum above the sweep's lowest loss (set by the sweep)
  double suboptimal_gap = NAN;  // L - L_best for such a minimum
  double seconds = 0.0;         // wall clock of the run (the only field that varies between runs)
  Eigen::VectorXd theta;        // the certified point
};

// Per width: counts of each end state and the sub-optimal strict minima found.
struct BasinsWidth {
  Index width = 0, runs = 0;
  Index global_minimum = 0, strict_minimum = 0, non_strict_minimum = 0, saddle = 0,
        not_converged = 0, undecided = 0;
  Index suboptimal_strict = 0;
  double suboptimal_gap_min = NAN;  // the smallest gap among them (NaN when none)
  double loss_min = NAN;            // lowest loss at this width
};

struct BasinsResult {
  BasinsOptions options;
  Index n_points = 0, input_dim = 0, output_dim = 0;
  std::string data_name;
  double loss_best = NAN;      // lowest loss of the sweep
  std::vector<BasinRun> runs;  // width-major, then seed (run index = w * seeds + s)
  std::vector<BasinsWidth> widths;
  double seconds = 0.0;
};

// The number of runs, widths x seeds. Validates options.
Index basins_run_count(const BasinsOptions& options);
// Run number `index` (width index / seeds, seed index % seeds): Adam from the seeded start, certify
// (options.polish), the feature rank, and the straight-walk test; a strict verdict with rank Phi <
// h_L is withdrawn (non_strict_minimum). Deterministic. Cost: the training plus a dense Hessian
// spectrum. Throws std::invalid_argument for bad options or data of the wrong shape.
BasinRun basin_run(const BasinsOptions& options, const Dataset& data, Index index);
// The table from the runs (in run order): marks sub-optimal strict minima against the lowest
// loss and counts per width. O(runs).
BasinsResult assemble_basins(const BasinsOptions& options, const Dataset& data,
                             std::vector<BasinRun> runs);

using BasinsProgress = std::function<void(const BasinRun& run, Index done, Index total)>;
// Every run (over options.threads threads), then assemble_basins. progress is called after each
// run (serialised by a mutex). Throws for invalid options or data only.
BasinsResult run_basins(const BasinsOptions& options, const Dataset& data,
                        const BasinsProgress& progress = {});

// {"width", "seed", "end_state", "message", "loss", "gradient_max_norm", "hessian":
//  {"min_eigenvalue", "positive", "zero", "negative", "zero_tolerance", "gap"}, "phi_rank",
//  "flat_output_directions", "loss_constant_along_zero_directions", "suboptimal",
//  "suboptimal_gap", "seconds", "params"}; basin_run_from_json inverts it exactly (doubles
// round-trip through JSON's shortest representation), for the MPI runner.
io::Json to_json(const BasinRun& run);
BasinRun basin_run_from_json(const io::Json& j);
// {"data", "n_points", "input_dim", "output_dim", "loss_best", "runs": [...], "summary": [{"width",
//  "runs", "global_minimum", ..., "undecided", "suboptimal_strict", "suboptimal_gap_min",
//  "loss_min"}], "seconds"}. The options go to the context block (basins_table()).
io::Json to_json(const BasinsResult& r);
// The transition table, one line per width, then one per run.
std::string summary(const BasinsResult& r);

struct DescentOptions {
  std::uint64_t seed = 0;         // the new incoming weights of zero-output neurons
  std::int64_t tries = 8;         // random draws; the best-conditioned Phi is kept
  int profile_points = 33;        // grid of the loss profile over the whole path
  double loss_tolerance = 1e-20;  // reached_zero: L at the end <= this
  void validate() const;          // throws std::invalid_argument naming the field
};

enum class DescentStatus {
  reached_zero,    // the path ends at zero loss (the least-squares fit is exact)
  inexact,         // rank Phi = N, but the fit leaves L > loss_tolerance (ill-conditioned Phi)
  rank_deficient,  // no draw made rank Phi = N (e.g. repeated inputs)
  too_narrow,      // h_L < N: the construction does not apply
};
std::string_view to_string(DescentStatus s);

// The constructive descent at width h_L >= N: theta -> theta_1 (output weights moved inside
// ker Phi onto rank Phi columns: the others' output weights become 0, loss constant) -> theta_2
// (new incoming weights for those neurons, drawn until rank Phi = N: loss constant) -> theta_3
// (least-squares output weights: L(t) = (1 - t)^2 L(theta_2)).
struct Descent {
  DescentStatus status = DescentStatus::too_narrow;
  std::string message;
  Index n_points = 0, width = 0;
  Index rank_start = 0, rank_end = 0;  // rank Phi at theta and at theta_2
  Index neurons_moved = 0;             // neurons whose incoming weights were redrawn
  double loss_start = NAN, loss_end = NAN;
  // max over consecutive profile points of (L_{k+1} - L_k) / max(L_start, tiny): <= 0 up to
  // round-off for a non-increasing path.
  double max_relative_increase = NAN;
  std::optional<paths::Path> path;  // polyline theta, theta_1, theta_2, theta_3 (not too_narrow)
  paths::LossProfile profile;       // L along it
};
// Cost: SVDs of Phi (N x h_L) per draw and 3 * profile_points loss evaluations. Expected
// outcomes (too narrow, rank not reached) are data; throws std::invalid_argument for options,
// a wrong-length theta, or a non-squared loss.
Descent descend(const Objective& objective, const Eigen::VectorXd& theta,
                const DescentOptions& options = {});
io::Json to_json(const Descent& d);  // the fields above, the path's vertices and the profile
std::string summary(const Descent& d);

// Splitting neuron j of layer L of a critical point (transforms/split_neuron with output weights
// fraction * a and (1 - fraction) * a) gives a critical point of the net one wider with the same
// loss (Fukumizu & Amari); from a strict minimum it is a saddle for fractions on one side of
// [0, 1] or the other, by the sign of a curvature term. Returns the analysis there (no polish).
// Cost: one dense spectrum. Throws std::invalid_argument for a bad neuron or theta.
struct SplitSaddle {
  Mlp model;
  Eigen::VectorXd theta;
  analysis::PointAnalysis analysis;
};
SplitSaddle split_to_saddle(const Objective& objective, const Eigen::VectorXd& theta,
                            Index neuron = 0, double fraction = 0.5,
                            const analysis::AnalyzeOptions& options = {});

}  // namespace locus::workflows
