#pragma once
// Paths between points of parameter space R^n and the loss along them: polylines, quadratic
// Bezier curves and polychains; the loss profile t -> L(gamma(t)) on a grid refined around its
// maximum; the barrier in the three conventions in use.
//
//   namespace lp = locus::paths;
//   locus::Objective objective(model, data);
//   lp::Path line = lp::Path::line(theta_a, theta_b);
//   lp::LossProfile p = lp::loss_profile(objective, line, {.points = 65});
//   if (p.converged())   // t* located to t_tolerance, L(t*) to loss_tolerance
//     std::cout << p.t_max << " " << p.barriers.above_larger_end << "\n";
//   std::cout << lp::summary(p);
//
// Parameterisation. Every path is gamma(t) = sum_j w_j(t) P_j, t in [0, 1], an affine
// combination of its control points P_0 .. P_{m-1} (rows of control_points()) with weights that
// depend on t only, not on the points. For polylines and polychains the parameter is uniform per
// segment: segment k joins P_k and P_{k+1} over t in [k/(m-1), (k+1)/(m-1)] (Garipov et al. 2018
// use the same rule for their one-bend polychain). Arc-length parameterisation was not chosen:
// its weights would depend on the points, and curve fitting (curve.hpp) needs d gamma / d P_j =
// w_j(t) I.

#include <Eigen/Core>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "locus/core/options.hpp"
#include "locus/core/problem.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::paths {

enum class PathKind {
  polyline,   // through its vertices, linear between them (a straight line: 2 vertices)
  bezier,     // quadratic Bezier: start, one bend, end
  polychain,  // start, bends, end, linear between them: a polyline whose interior points are free
};
std::string_view to_string(PathKind k);
// Inverse of to_string; also accepts "line" for a polyline. Throws std::invalid_argument listing
// the names.
PathKind parse_path_kind(std::string_view name);

// A path t -> gamma(t) in R^n, t in [0, 1], gamma(0) = start, gamma(1) = end.
class Path {
 public:
  // The straight line gamma(t) = (1 - t) a + t b. Throws std::invalid_argument when a and b
  // differ in length or have non-finite entries.
  static Path line(const Eigen::VectorXd& a, const Eigen::VectorXd& b);
  // The polyline through the rows of vertices (m >= 2 rows of length n >= 1), uniform per
  // segment. Throws std::invalid_argument for fewer than 2 rows, no columns or non-finite entries.
  static Path polyline(Eigen::MatrixXd vertices);
  // gamma(t) = (1-t)^2 a + 2t(1-t) bend + t^2 b (the bend is the Bezier control point, which the
  // curve does not pass through: gamma(1/2) = (a + 2 bend + b) / 4). Throws as line().
  static Path bezier(const Eigen::VectorXd& a, const Eigen::VectorXd& bend,
                     const Eigen::VectorXd& b);
  // The polychain a -> bends.row(0) -> ... -> b (bends: k >= 1 rows of length n), uniform per
  // segment. Throws as polyline().
  static Path polychain(const Eigen::VectorXd& a, const Eigen::MatrixXd& bends,
                        const Eigen::VectorXd& b);
  // The same kind of path with new control points (same shape); throws std::invalid_argument
  // otherwise. Curve fitting moves the bends through it.
  Path with_control_points(Eigen::MatrixXd points) const;

  PathKind kind() const { return kind_; }
  Index dimension() const { return points_.cols(); }  // n
  // m x n: row 0 is the start, row m-1 the end, the rows between are the vertices or bends.
  const Eigen::MatrixXd& control_points() const { return points_; }
  Eigen::VectorXd start() const { return points_.row(0).transpose(); }
  Eigen::VectorXd end() const { return points_.row(points_.rows() - 1).transpose(); }
  // The t where gamma may have a kink, ends included, increasing: k/(m-1), k = 0..m-1 for
  // polylines and polychains; {0, 1} for a Bezier curve (smooth).
  Eigen::VectorXd breakpoints() const;

  // The weights w_j(t), j = 0..m-1, of gamma(t) = sum_j w_j(t) P_j (they sum to 1). O(m).
  // Throws std::invalid_argument unless 0 <= t <= 1.
  Eigen::VectorXd weights(double t) const;
  // gamma(t). Cost O(n) (two rows for a polyline, three for a Bezier curve). Throws as weights.
  Eigen::VectorXd at(double t) const;
  Eigen::VectorXd operator()(double t) const { return at(t); }
  // Sum of the Euclidean lengths of the control polygon's segments |P_{j+1} - P_j| (the path's
  // length for a polyline or polychain, an upper bound for a Bezier curve).
  double control_polygon_length() const;

 private:
  Path(PathKind kind, Eigen::MatrixXd points);
  PathKind kind_ = PathKind::polyline;
  Eigen::MatrixXd points_;
};

// The barrier of a loss profile in the three conventions in use, given L_0 = L(gamma(0)),
// L_1 = L(gamma(1)) and the maximum L_max = L(gamma(t*)):
struct Barriers {
  double above_larger_end = NAN;     // L_max - max(L_0, L_1)
  double above_interpolation = NAN;  // L_max - ((1 - t*) L_0 + t* L_1), at the maximum t* of L
  double above_mean = NAN;           // L_max - (L_0 + L_1) / 2
};
// The three barriers from these four numbers (no evaluation). For L_0 != L_1 the interpolation
// convention here is taken at the maximum t* of L, which is not in general the maximum over t of
// L(t) - ((1 - t) L_0 + t L_1) (Frankle et al. 2020 use the latter); it is a lower bound of it.
// Located by loss_profile, it inherits an error |L_1 - L_0| |t_max - t*| <= |L_1 - L_0| t_bracket.
Barriers barriers(double loss_start, double loss_end, double t_max, double loss_max);

// Options of loss_profile.
struct ProfileOptions {
  // Equally spaced grid points on [0, 1], ends included; the path's breakpoints are added.
  int points = 33;
  // Stop refining when the bracket [a, c] that holds t* has c - a <= t_tolerance. t* cannot be
  // located better than about sqrt(eps |L| / |L''(t*)|): below that, L's rounding hides its
  // curvature.
  double t_tolerance = 1e-6;
  // ... and L's peak estimated from the bracket exceeds the best value found by at most
  // loss_tolerance * max(1, |L_max|) (mixed absolute / relative).
  double loss_tolerance = 1e-10;
  // Loss evaluations allowed in the refinement (after the grid's).
  int max_refinements = 200;

  // Throws std::invalid_argument naming the field: points < 2, tolerances not finite and > 0,
  // max_refinements < 0.
  void validate() const;
};
// The field table of ProfileOptions: `locus path`'s flags, Python's keywords, the JSON context.
const options::Table<ProfileOptions>& profile_table();

// Adds ProfileOptions' four rows (points, t_tolerance, loss_tolerance, max_refinements, names
// kept) to the table of an options struct O that holds its profile in the member `profile`, and
// reports them as ProfileOptions': the one definition behind the curve, band and alignment
// tables.
template <class O>
options::Table<O>&& add_profile_rows(options::Table<O>&& table) {
  return std::move(table)
      .add("points", "profile: equally spaced grid points on [0, 1]",
           [](O& o) -> int& { return o.profile.points; })
      .add("t_tolerance", "profile: bracket width for t*",
           [](O& o) -> double& { return o.profile.t_tolerance; })
      .add("loss_tolerance", "profile: peak within this * max(1, |L_max|)",
           [](O& o) -> double& { return o.profile.loss_tolerance; })
      .add("max_refinements", "profile: evaluations after the grid",
           [](O& o) -> int& { return o.profile.max_refinements; })
      .reported_as("ProfileOptions");
}

enum class ProfileStatus {
  converged,        // interior maximum located to t_tolerance and loss_tolerance
  max_at_end,       // the largest grid value is at t = 0 or t = 1 (nothing to refine)
  max_refinements,  // refinement stopped by max_refinements before the tolerances were met
  non_finite,       // L was NaN/inf at some t (the profile holds the points evaluated)
};
std::string_view to_string(ProfileStatus s);

// The loss along a path.
struct LossProfile {
  ProfileStatus status = ProfileStatus::non_finite;
  std::string message;      // one sentence naming the test that ended the refinement
  Eigen::VectorXd t, loss;  // every point evaluated, sorted by t (grid, breakpoints, refinement)
  double loss_start = NAN, loss_end = NAN;  // L at t = 0 and t = 1
  double t_max = NAN;                       // t*: the t of the largest loss evaluated
  double loss_max = NAN;                    // L(gamma(t*)), an evaluated value
  double t_bracket = NAN;  // width c - a of the final bracket around t* (0 at an end)
  // Peak of the parabola through the final bracket minus loss_max (>= 0; 0 at an end): how much
  // higher the maximum may be, to second order.
  double loss_max_uncertainty = NAN;
  Barriers barriers;
  int evaluations = 0;  // loss evaluations, grid included
  bool converged() const {
    return status == ProfileStatus::converged || status == ProfileStatus::max_at_end;
  }
};

// L(gamma(t)) on the grid of options.points equally spaced t plus the path's breakpoints, then,
// when the grid's maximum is interior at t_k, golden-section refinement of the bracket
// [t_{k-1}, t_{k+1}] (L(t_k) >= both ends) until the ProfileOptions tolerances hold. The
// refinement finds a local maximum inside the grid's best bracket: a narrower peak between two
// grid points is missed (raise points). Cost: points + breakpoints + refinements evaluations of
// loss (each one path evaluation, O(n), plus L). Throws std::invalid_argument on invalid options
// or a loss whose dimension differs from the path's (n_params() != dimension());
// io::MemoryLimitError ("ProfileOptions.points = ...") when the grid exceeds the memory limit.
// progress gets "profile grid" k/m after each grid point, then "profile refinement"
// k/max_refinements with the largest loss so far.
LossProfile loss_profile(FunctionRef loss, const Path& path, const ProfileOptions& options = {},
                         const ProgressCallback& progress = {});
// The same for any callable L(theta); dimension checks are the callable's own.
LossProfile loss_profile(const std::function<double(const Eigen::VectorXd&)>& loss,
                         const Path& path, const ProfileOptions& options = {},
                         const ProgressCallback& progress = {});

// {"above_larger_end", "above_interpolation", "above_mean"}.
io::Json to_json(const Barriers& b);
// {"status", "message", "t_max", "loss_max", "loss_max_uncertainty", "t_bracket", "loss_start",
//  "loss_end", "barriers": {...}, "evaluations", "t": [...], "loss": [...]}.
io::Json to_json(const LossProfile& p);
// "profile: converged: <message>", then t*, L_max, the ends and the three barriers, labelled.
std::string summary(const LossProfile& p);

}  // namespace locus::paths
