#pragma once
// Loss slices through a point of parameter space, and profile slices.
//
// Plain slices (Li, Xu, Taylor, Studer & Goldstein 2018, "Visualizing the loss landscape of
// neural nets"): L(theta + alpha d1) on a line, or L(theta + alpha d1 + beta d2) on a square,
// along filter-normalised random directions: each row of each weight matrix of a Gaussian
// direction is rescaled to the norm of the same row of theta, and bias entries are zeroed (as in
// Li et al.), so that the slice's scale follows the network's own (a ReLU-like rescaling of a
// neuron leaves it unchanged). Between two points A and B the first direction is d1 = B - A
// (alpha = 0 at A, 1 at B) and the second a filter-normalised random direction made orthogonal
// to d1 and rescaled to |d1|: the plane through A and B.
//
// Profile slices: along a direction d, at each t the loss minimized over the orthogonal
// complement,
//   P(t) = min_{z . d = 0} L(theta + t d + z),
// beside the plain slice S(t) = L(theta + t d) (z = 0). P <= S everywhere (each minimization
// starts from z = 0 or from the previous t's z, whichever is lower, and the solvers never
// increase L), and P(0) = S(0) when theta is a minimum. For a quadratic
// L = c + (x - x*)^T A (x - x*) / 2 with theta = x*, P(t) = c + t^2 |d|^4 / (2 d^T A^{-1} d):
// the Schur complement of the block of A orthogonal to d. A profile that stays low where the
// slice rises shows a valley that the slice cuts across; a profile that rises too shows a real
// barrier in the direction d.
//
//   locus::Objective objective(model, data);
//   namespace lp = locus::paths;
//   lp::LossSlice s = lp::loss_slice(objective, theta, {.dims = 2, .points = 31});
//   lp::LossSlice plane = lp::loss_slice_between(objective, theta_a, theta_b, {.dims = 2});
//   lp::ProfileSlice p = lp::profile_slice(objective, theta, s.d1, s.alpha);  // a 1-D slice s
//   p.profile, p.slice;   // min_z L and L at the same t

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::paths {

// Options of loss_slice.
struct SliceOptions {
  int dims = 1;            // 1: a line, 2: a square grid
  double radius = 1.0;     // alpha (and beta) in [-radius, radius]; see loss_slice_between
  int points = 41;         // per axis
  std::uint64_t seed = 0;  // the random directions: seed, and seed + 1 for the second

  // Throws std::invalid_argument naming the field: dims not 1 or 2, points < 2, radius not
  // finite and > 0.
  void validate() const;
};
// The field table of SliceOptions: `locus path slice`'s flags, Python's keywords, the context.
const options::Table<SliceOptions>& slice_table();

struct LossSlice {
  Eigen::VectorXd alpha, beta;  // the grid on each axis (beta empty for a 1-D slice)
  Eigen::VectorXd d1, d2;       // the directions (d2 empty for a 1-D slice)
  // points x 1 (1-D) or points x points (2-D): loss(i, j) = L(theta + alpha_i d1 + beta_j d2).
  Eigen::MatrixXd loss;
};

// The filter-normalised direction described in the header comment, seeded. O(n). Throws
// std::invalid_argument for a theta that is not a parameter vector of model.
Eigen::VectorXd filter_normalized_direction(const Mlp& model, const Eigen::VectorXd& theta,
                                            std::uint64_t seed);

// L on the line theta + alpha d1 (dims 1) or the square theta + alpha d1 + beta d2 (dims 2),
// alpha and beta equally spaced on [-radius, radius], d1, d2 filter-normalised with seeds seed
// and seed + 1. Cost: points (or points^2) losses. Throws std::invalid_argument on invalid
// options or a wrong-length theta; io::MemoryLimitError ("SliceOptions.points = ...") when the
// points^dims losses would exceed the memory limit. progress gets "slice" with the losses done
// out of points (or points^2) after each row of the grid.
LossSlice loss_slice(const Objective& objective, const Eigen::VectorXd& theta,
                     const SliceOptions& options = {}, const ProgressCallback& progress = {});
// The slice through A and B: d1 = B - A, alpha on [-radius, 1 + radius]; with dims 2, d2 the
// filter-normalised direction (seed) minus its projection on d1, rescaled to |d1|, and beta on
// [-(1/2 + radius), 1/2 + radius] (a square around the segment in units of |B - A|). Throws
// std::invalid_argument as above, and when A = B or d2 vanishes (a direction parallel to d1).
LossSlice loss_slice_between(const Objective& objective, const Eigen::VectorXd& theta_a,
                             const Eigen::VectorXd& theta_b, const SliceOptions& options = {},
                             const ProgressCallback& progress = {});

// The solver of each minimization of a profile slice.
enum class ProfileSolver {
  lm,     // Levenberg-Marquardt (needs residuals: an MLP loss with the squared loss)
  lbfgs,  // L-BFGS (any differentiable function)
};
std::string_view to_string(ProfileSolver s);
// Inverse of to_string; throws std::invalid_argument listing the names.
ProfileSolver parse_profile_solver(std::string_view name);

// Options of profile_slice.
struct ProfileSliceOptions {
  ProfileSolver solver = ProfileSolver::lm;
  // Each minimization stops at |P grad L|_inf <= gradient_tolerance (P the projection onto
  // d's orthogonal complement; absolute), or after max_iterations.
  double gradient_tolerance = 1e-10;
  int max_iterations = 500;

  // Throws std::invalid_argument naming the field: gradient_tolerance not >= 0,
  // max_iterations < 1.
  void validate() const;
};
const options::Table<ProfileSliceOptions>& profile_slice_table();

struct ProfileSlice {
  Eigen::VectorXd t;
  Eigen::VectorXd slice;    // S(t) = L(theta + t d)
  Eigen::VectorXd profile;  // P(t) = min over z orthogonal to d of L(theta + t d + z)
  // |P grad L|_inf at each minimizer, and the solver's iterations and status there.
  Eigen::VectorXd gradient_max_norm;
  Eigen::VectorXi iterations;
  std::vector<std::string> solver_status;
  Eigen::VectorXd direction;  // d
  // True when every minimization reached gradient_tolerance or, for L-BFGS, the rounding floor
  // of L (line_search_failed: no decrease of L is representable any more); else the profile at
  // those t is an upper bound of the minimum, still <= the slice.
  bool converged = false;
  std::string message;
};

// The profile slice along d (see the header comment) at the given t (finite, any order; the
// plain slice's alpha, typically). The minimization runs over z = P u, u in R^n
// (P = I - d d^T / |d|^2), starting at the t nearest 0 from z = 0 and walking outwards on both
// sides in the order of t, each t warm-started from its neighbour's z or from z = 0, whichever
// has the lower loss. Cost per t: one solve of the chosen solver in n unknowns (LM: a Jacobian
// and a dense n x n factorisation per iteration). Throws std::invalid_argument on invalid
// options, a theta or d of the wrong length, d = 0, an empty or non-finite t, or solver lm on a
// loss without residuals. progress gets "profile slice" with the minimizations done out of
// t.size() and the last minimum P(t) after each.
ProfileSlice profile_slice(FunctionRef loss, const Eigen::VectorXd& theta,
                           const Eigen::VectorXd& direction, const Eigen::VectorXd& t,
                           const ProfileSliceOptions& options = {},
                           const ProgressCallback& progress = {});

// {"alpha": [...], "beta": [...], "loss": [[...], ...] (rows by alpha)}.
io::Json to_json(const LossSlice& s);
// {"converged", "message", "t", "slice", "profile", "gradient_max_norm", "iterations",
//  "solver_status"}.
io::Json to_json(const ProfileSlice& p);
// The slice's range of L and where its minimum is.
std::string summary(const LossSlice& s);
// "profile slice: converged: ...", then the largest gap S - P and the largest |P grad L|.
std::string summary(const ProfileSlice& p);

}  // namespace locus::paths
