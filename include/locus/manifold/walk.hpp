#pragma once
// The manifold of global minima M = L^{-1}(0) = H^{-1}(0) of a squared loss (Cooper Thm 2.1,
// PAPERS.md §1): projecting onto it, walking along it, and measuring its dimension.
//
//   namespace lm = locus::manifold;
//   locus::Objective obj(model, data);                 // theta_star with L(theta_star) ~ 0
//   lm::WalkResult w = lm::walk_manifold(obj, theta_star, {.steps = 40, .seed = 1});
//   // w.steps[k]: arc length, loss (<= 1e-20), rank J, corrector iterations
//   lm::LineLoss line = lm::loss_along_line(obj, theta_star,
//       lm::random_unit_direction(obj.n_params(), 2), {.length = w.arc_length});
//   lm::DimensionEstimate e = lm::manifold_dimension_by_projection(obj, theta_star);
//   // e.dimension == e.dimension_from_jacobian == n - l*d at a regular point
//
// All routines work with the residual map H(theta) = (f_theta(x_i) - y_i)_i in R^{l d} and its
// Jacobian J (Objective::residuals / jacobian). Rank decisions use the singular values of J with
// the tolerance tau = max(l d, n) * eps * sigma_max(J) (the LAPACK / NumPy convention) and report
// the gap sigma_r / sigma_{r+1} that supports them. The squared loss with reduction "sum" is
// assumed (Objective::require_squared); with "mean" the loss thresholds scale by 1/d.

#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::manifold {

// Result convention: WalkResult and ManifoldProjection carry a status (and the walk a message);
// ResidualJacobianRank, LineLoss and DimensionEstimate are measurements that cannot fail once
// their inputs are valid (invalid inputs throw), so they carry none. Each result has one
// to_json (and the walk and the dimension estimate one summary), defined in walk_report.cpp;
// the CLI and Python use them.

// Numerical rank of J(theta) = dH/dtheta from its singular values.
struct ResidualJacobianRank {
  Index rank = 0;
  Index rows = 0, cols = 0;  // l d, n
  double tolerance = 0.0;    // tau = max(rows, cols) * eps * sigma_max
  double sigma_max = 0.0;
  double sigma_min_kept = 0.0;       // sigma_rank (smallest singular value counted), 0 if rank 0
  double sigma_first_dropped = 0.0;  // sigma_{rank+1}, 0 when rank = min(rows, cols)
};
// One SVD of J (LAPACK dgesdd, singular values only). Cost O(l d n min(l d, n)).
ResidualJacobianRank residual_jacobian_rank(const Objective& objective,
                                            const Eigen::VectorXd& theta);

// Gauss-Newton projection onto M: theta <- theta - J^+ H(theta) (minimum-norm steps, J^+ the
// pseudo-inverse with singular values below tau dropped) until L <= loss_tolerance.
struct ManifoldProjectionOptions {
  // Stop when L(theta) = |H(theta)|^2 <= loss_tolerance (round-off level of a fit to |y| ~ 1).
  double loss_tolerance = 1e-26;
  int max_iterations = 20;
};
enum class ManifoldProjectionStatus {
  converged,       // L <= loss_tolerance
  stalled,         // the loss stopped halving (round-off floor above loss_tolerance)
  max_iterations,  // iteration limit reached while still decreasing
  non_finite,      // a residual became NaN/inf; theta is the last finite iterate
};
std::string_view to_string(ManifoldProjectionStatus s);
struct ManifoldProjection {
  ManifoldProjectionStatus status = ManifoldProjectionStatus::max_iterations;
  std::string message;    // one sentence: the status with the losses and steps behind it
  Eigen::VectorXd theta;  // the projected point (the best iterate)
  double loss_initial = NAN, loss_final = NAN;
  int iterations = 0;
  bool converged() const { return status == ManifoldProjectionStatus::converged; }
};
// Cost per iteration: one Jacobian (O(l d n)) and one thin SVD. Quadratic convergence near a
// regular point of H (Newton's method for an underdetermined system); the limit differs from the
// nearest point of M by O(|theta - M|^2) (the steps are orthogonal to the level sets of H at the
// current iterate, not at the limit).
ManifoldProjection project_to_manifold(const Objective& objective, const Eigen::VectorXd& theta,
                                       const ManifoldProjectionOptions& options = {});

// A predictor-corrector walk along M.
struct WalkOptions {
  int steps = 50;           // accepted steps to take
  double step_size = 0.05;  // initial predictor length (Euclidean, parameter space)
  double max_step_size = 0.5;
  // When a step must shrink below min_step_size the direction is abandoned: M has a corner or an
  // edge ahead (relu networks: a pre-activation reaches 0). So is a direction along which three
  // correctors in a row need more than half of max_corrector_iterations (a crease of M: linear
  // convergence). A new seeded random tangent direction is drawn and the step size reset, at
  // most max_turns times per walk; then a failing walk stops with step_size_too_small.
  double min_step_size = 1e-6;
  int max_turns = 10;
  // Stop once the arc length reaches this (inf: only `steps` limits the walk).
  double max_length = std::numeric_limits<double>::infinity();
  std::uint64_t seed = 0;  // the initial direction: a seeded Gaussian vector projected on ker J
  // The corrector aims for L <= loss_tolerance and accepts a point with L <= loss_acceptable
  // (when round-off stops it earlier); a step that ends above loss_acceptable is rejected and
  // retried with half the step size.
  double loss_tolerance = 1e-26;
  double loss_acceptable = 1e-20;
  int max_corrector_iterations = 8;
  bool record_path = false;  // fill WalkResult::path with every accepted point

  // Throws std::invalid_argument naming the offending field and its value.
  void validate() const;
};

enum class WalkStatus {
  completed,              // took `steps` steps or reached max_length
  step_size_too_small,    // the corrector kept failing until step_size < min_step_size
  start_not_on_manifold,  // the start point could not be projected to L <= loss_acceptable
  no_tangent,             // ker J is trivial (rank J = n): M is isolated points here
  non_finite,             // NaN/inf residuals
};
std::string_view to_string(WalkStatus s);

// One accepted point of the walk (step 0 is the start, after projection if it needed one).
struct WalkStep {
  int step = 0;
  double arc_length = 0.0;           // sum of |theta_k - theta_{k-1}| up to here
  double distance_from_start = 0.0;  // |theta_k - theta_0|
  double loss = 0.0;                 // L(theta_k) after correction
  double step_size = 0.0;            // predictor length used for this step
  int corrector_iterations = 0;
  int rejected_attempts = 0;    // predictor steps rejected (and halved) before this one
  int turns = 0;                // new random directions drawn before this step
  Index rank_jacobian = 0;      // numerical rank of J(theta_k)
  double sigma_min_kept = 0.0;  // smallest singular value counted in the rank
  double rank_tolerance = 0.0;
};

struct WalkResult {
  WalkStatus status = WalkStatus::completed;
  std::string message;
  std::vector<WalkStep> steps;
  Eigen::VectorXd theta_final;
  Eigen::MatrixXd path;  // n x steps.size() when record_path, else empty
  double arc_length = 0.0;
  double loss_max = 0.0;             // max loss over the accepted points
  Index rank_min = 0, rank_max = 0;  // of J over the accepted points
  int turns = 0;                     // directions abandoned (see WalkOptions::max_turns)
};

// Walks along M from theta0: predictor theta + h t with t the unit tangent in ker J(theta)
// (the previous direction projected onto the new kernel, so the walk keeps going one way;
// initially a seeded Gaussian vector projected onto ker J), then Gauss-Newton corrector steps
// -J^+ H back to M. Step control: h grows by 1.5 (up to max_step_size) after a corrector that
// needed <= 3 iterations, and halves after a rejected step; below min_step_size, or after
// three slow correctors in a row, the walk turns to a new random tangent direction (max_turns).
// Cost per corrector iteration: one Jacobian and one thin SVD. Throws std::invalid_argument on
// invalid options, a theta of the wrong length, or a loss that is not squared.
// `progress` gets one "walk" event per accepted step (steps out of options.steps, the loss).
WalkResult walk_manifold(const Objective& objective, const Eigen::VectorXd& theta0,
                         const WalkOptions& options = {}, const ProgressCallback& progress = {});

// The loss along the straight line theta0 + t u/|u|, t in [0, length] (n_points equally spaced).
struct LineLossOptions {
  double length = 1.0;
  int n_points = 101;
};
struct LineLoss {
  Eigen::VectorXd t;     // distance from theta0
  Eigen::VectorXd loss;  // L(theta0 + t u/|u|)
};
// Cost: n_points forward passes. Throws std::invalid_argument on a zero or wrong-length direction.
LineLoss loss_along_line(const Objective& objective, const Eigen::VectorXd& theta0,
                         const Eigen::VectorXd& direction, const LineLossOptions& options = {});

// A seeded uniformly random unit vector in R^n (normalised standard Gaussian).
Eigen::VectorXd random_unit_direction(Index n, std::uint64_t seed);
// A seeded random unit vector in ker J(theta) (the tangent space of M at a regular point); zero
// vector when ker J is trivial.
Eigen::VectorXd random_tangent_direction(const Objective& objective, const Eigen::VectorXd& theta,
                                         std::uint64_t seed);

// dim M by projection sampling: K points theta* + delta_k (|delta_k| = radius, seeded directions)
// are projected onto M (project_to_manifold); the displacements D_k = pi(theta* + delta_k) -
// theta* equal P_T delta_k + O(kappa radius^2) (P_T the projector on the tangent space, kappa the
// curvature of M), so the n x K matrix D has dim M singular values of order radius and the rest
// of order kappa radius^2. The rank is counted with the threshold
// sigma_1 * sqrt(radius) (the geometric middle of radius and radius^2 relative to sigma_1); the
// gap sigma_r / sigma_{r+1} at that cut is reported, and so is the rank at the largest gap.
// The tangent part of D is a Gaussian dim M x K matrix: its singular values spread over
// [sqrt K - sqrt dim M, sqrt K + sqrt dim M] (Marchenko-Pastur), so K must exceed dim M by a
// margin; K = 2n (the default) keeps the smallest above 0.17 sigma_1 for any dim M <= n, far
// above the threshold 0.01 sigma_1 (K = n failed at n = 385, dim M = 373: ratio 0.008).
struct DimensionOptions {
  std::optional<Index> n_samples{};  // K; unset: 2n
  double radius = 1e-4;              // |delta_k|
  std::uint64_t seed = 0;
  ManifoldProjectionOptions projection{};  // for each sample
  // Samples whose projection ends above this loss are left out of D (and counted).
  double loss_acceptable = 1e-20;
  void validate() const;  // throws std::invalid_argument naming the field
};
struct DimensionEstimate {
  Index dimension = 0;                 // rank of D at the threshold
  Index dimension_at_largest_gap = 0;  // rank of D at its largest ratio sigma_k / sigma_{k+1}
  double threshold = 0.0;              // sigma_1 * sqrt(radius)
  double gap_ratio = 0.0;  // sigma_dimension / sigma_{dimension+1} (inf if nothing dropped)
  Eigen::VectorXd singular_values;    // of D, descending
  Index n_samples = 0;                // K requested
  Index n_projected = 0;              // samples projected to L <= loss_acceptable (columns of D)
  double loss_max_projected = 0.0;    // max L over the projected samples
  ResidualJacobianRank jacobian;      // rank J(theta*) and its tolerance
  Index dimension_from_jacobian = 0;  // n - rank J(theta*)
  bool agrees() const { return dimension == dimension_from_jacobian; }
};
// Cost: K projections (2-4 Jacobians + thin SVDs each) and one SVD of the n x K matrix D
// (8 n K bytes: 1.6 GB at n = 10^4 with the default K; pass n_samples for large networks).
// Throws std::invalid_argument on invalid options or a wrong-length theta_star.
// `progress` gets one "projection samples" event per sample (k out of K).
DimensionEstimate manifold_dimension_by_projection(const Objective& objective,
                                                   const Eigen::VectorXd& theta_star,
                                                   const DimensionOptions& options = {},
                                                   const ProgressCallback& progress = {});

// ---- options tables and results as JSON / text -------------------------------------------------

// The field table of WalkOptions (rows named as the members): `locus walk`'s flags, Python's
// locus.walk keywords and the "walk" block of the JSON context. rephrase() recognises
// validate()'s "WalkOptions.<member>" messages.
const options::Table<WalkOptions>& walk_table();
// The field tables of the other option structs (rows named as the members; Python's keywords of
// project_to_manifold, loss_along_line and manifold_dimension_by_projection). dimension_table
// leaves out the nested `projection` (its own table is projection_table).
const options::Table<ManifoldProjectionOptions>& projection_table();
const options::Table<LineLossOptions>& line_loss_table();
const options::Table<DimensionOptions>& dimension_table();

// {"rank", "rows", "cols", "tolerance", "sigma_max", "sigma_min_kept", "sigma_first_dropped"}.
io::Json to_json(const ResidualJacobianRank& r);
// {"status", "loss_initial", "loss_final", "iterations"} (theta is not serialised: n numbers).
io::Json to_json(const ManifoldProjection& p);
// {"status", "message", "arc_length", "loss_max", "rank_jacobian_min", "rank_jacobian_max",
//  "turns", "steps": [{"step", "arc_length", "distance_from_start", "loss", "step_size",
//  "corrector_iterations", "rejected_attempts", "turns", "rank_jacobian", "sigma_min_kept",
//  "rank_tolerance"}, ...]}; non-finite numbers as io::json_number writes them.
io::Json to_json(const WalkResult& w);
// "walk: completed: <message>" then arc length, max loss and the range of rank J.
std::string summary(const WalkResult& w);
// {"t": [...], "loss": [...]}.
io::Json to_json(const LineLoss& line);
// {"by_projection", "at_largest_gap", "from_jacobian", "rank_jacobian", "rank_tolerance",
//  "threshold", "gap_ratio", "n_samples", "n_projected", "loss_max_projected", "agrees"}.
io::Json to_json(const DimensionEstimate& e);
// "dim M by projection sampling = 7 (n - rank J = 7, gap 1.2e+03): agrees".
std::string summary(const DimensionEstimate& e);

}  // namespace locus::manifold
