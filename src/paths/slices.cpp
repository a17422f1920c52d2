// Loss slices along filter-normalised random directions, and profile slices minimized over the
// orthogonal complement of their direction (slices.hpp).

#include "locus/paths/slices.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "linalg/random.hpp"
#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"
#include "locus/io/memory.hpp"
#include "locus/solvers/lbfgs.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"

namespace locus::paths {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// L(theta + alpha_i d1 [+ beta_j d2]) on the grid.
// Reports "slice" k/points (1-D) or k/points^2 after each row.
LossSlice evaluate(const Objective& objective, const VectorXd& theta, LossSlice s,
                   const ProgressCallback& progress) {
  const bool two = s.beta.size() > 0;
  s.loss.resize(s.alpha.size(), two ? s.beta.size() : 1);
  for (Index i = 0; i < s.alpha.size(); ++i) {
    if (!two)
      s.loss(i, 0) = objective.loss(theta + s.alpha[i] * s.d1);
    else
      for (Index j = 0; j < s.beta.size(); ++j)
        s.loss(i, j) = objective.loss(theta + s.alpha[i] * s.d1 + s.beta[j] * s.d2);
    report_progress(progress, {.stage = "slice",
                               .done = (long long)((i + 1) * s.loss.cols()),
                               .total = (long long)s.loss.size()});
  }
  return s;
}

// L restricted to theta + t d + P u, P = I - d d^T / |d|^2, as a function of u in R^n: gradient
// P grad L, Hessian-vector product P H P v, residuals r(.) with Jacobian J P. It forwards the
// residuals only when the loss has them (has_residuals), so LM sees a least-squares problem
// exactly when the loss is one.
struct Restricted {
  FunctionRef f;
  VectorXd base;  // theta + t d
  VectorXd unit;  // d / |d|
  VectorXd project(const VectorXd& v) const { return v - unit.dot(v) * unit; }
  VectorXd point(const VectorXd& u) const { return base + project(u); }
  Index n_params() const { return base.size(); }
  double loss(const VectorXd& u) const { return f.loss(point(u)); }
  LossGradient loss_gradient(const VectorXd& u) const {
    LossGradient lg = f.loss_gradient(point(u));
    lg.gradient = project(lg.gradient);
    return lg;
  }
  VectorXd hvp(const VectorXd& u, const VectorXd& v) const {
    return project(f.hvp(point(u), project(v)));
  }
  bool has_residuals() const { return f.has_residuals(); }
  Index n_residuals() const { return f.n_residuals(); }
  VectorXd residuals(const VectorXd& u) const { return f.residuals(point(u)); }
  MatrixXd jacobian(const VectorXd& u) const {
    MatrixXd j = f.jacobian(point(u));
    return j - (j * unit) * unit.transpose();
  }
  double residual_scale() const { return f.residual_scale(); }
  double residual_rounding_level(const VectorXd& r) const { return f.residual_rounding_level(r); }
};

}  // namespace

void SliceOptions::validate() const {
  if (dims != 1 && dims != 2)
    throw std::invalid_argument("SliceOptions.dims must be 1 or 2, got " + std::to_string(dims));
  if (points < 2)
    throw std::invalid_argument("SliceOptions.points must be >= 2, got " + std::to_string(points));
  if (!(radius > 0 && std::isfinite(radius)))
    throw std::invalid_argument("SliceOptions.radius must be finite and > 0, got " +
                                io::format_number(radius));
}

const options::Table<SliceOptions>& slice_table() {
  using O = SliceOptions;
  static const auto t =
      options::Table<O>("SliceOptions")
          .add("dims", "1: a line, 2: a square grid", &O::dims)
          .add("radius", "half-width of the grid (beyond the ends with --params-end)", &O::radius)
          .add("points", "grid points per axis", &O::points)
          .add("seed", "the random directions (seed, seed + 1)", &O::seed);
  return t;
}

VectorXd filter_normalized_direction(const Mlp& model, const VectorXd& theta, std::uint64_t seed) {
  model.check_parameters(theta);
  Rng rng(seed);
  VectorXd d = VectorXd::Zero(model.n_params());
  for (int k = 0; k < model.n_layers(); ++k) {
    const LayerSlice& s = model.layer(k);
    for (Index o = 0; o < s.out; ++o) {
      auto row = d.segment(s.weight_offset + o * s.in, s.in);
      row = linalg::gaussian_vector(s.in, rng);
      const double target = theta.segment(s.weight_offset + o * s.in, s.in).norm();
      const double norm = row.norm();
      row *= norm > 0 ? target / norm : 0.0;
    }
  }
  return d;
}

namespace {
// The grid of losses: points^dims values (and the axes).
void check_slice_memory(const SliceOptions& o) {
  const double values = o.dims == 2 ? double(o.points) * double(o.points) : double(o.points);
  io::check_memory(8.0 * (values + 2.0 * double(o.points)),
                   "SliceOptions.points = " + std::to_string(o.points) + " (" +
                       io::format_number(values) + " losses)",
                   "8 bytes x points^dims");
}
}  // namespace

LossSlice loss_slice(const Objective& objective, const VectorXd& theta, const SliceOptions& o,
                     const ProgressCallback& progress) {
  o.validate();
  check_slice_memory(o);
  LossSlice s;
  s.d1 = filter_normalized_direction(objective.model(), theta, o.seed);
  s.alpha = VectorXd::LinSpaced(o.points, -o.radius, o.radius);
  if (o.dims == 2) {
    s.d2 = filter_normalized_direction(objective.model(), theta, o.seed + 1);
    s.beta = s.alpha;
  }
  return evaluate(objective, theta, std::move(s), progress);
}

LossSlice loss_slice_between(const Objective& objective, const VectorXd& theta_a,
                             const VectorXd& theta_b, const SliceOptions& o,
                             const ProgressCallback& progress) {
  o.validate();
  check_slice_memory(o);
  const Mlp& model = objective.model();
  model.check_parameters(theta_a, "the slice's start");
  model.check_parameters(theta_b, "the slice's end");
  LossSlice s;
  s.d1 = theta_b - theta_a;
  const double length = s.d1.norm();
  if (!(length > 0)) throw std::invalid_argument("the slice's start and end are equal");
  s.alpha = VectorXd::LinSpaced(o.points, -o.radius, 1 + o.radius);
  if (o.dims == 2) {
    const VectorXd unit = s.d1 / length;
    VectorXd d2 = filter_normalized_direction(model, theta_a, o.seed);
    d2 -= unit.dot(d2) * unit;
    const double norm = d2.norm();
    // A random direction is parallel to B - A only by accident (or when the net has one weight).
    if (!(norm > 1e-12 * length))
      throw std::invalid_argument("the random direction (seed " + std::to_string(o.seed) +
                                  ") is parallel to the end minus the start");
    s.d2 = d2 * (length / norm);
    s.beta = VectorXd::LinSpaced(o.points, -(0.5 + o.radius), 0.5 + o.radius);
  }
  return evaluate(objective, theta_a, std::move(s), progress);
}

std::string_view to_string(ProfileSolver s) { return s == ProfileSolver::lm ? "lm" : "lbfgs"; }

ProfileSolver parse_profile_solver(std::string_view name) {
  if (name == "lm") return ProfileSolver::lm;
  if (name == "lbfgs") return ProfileSolver::lbfgs;
  throw std::invalid_argument("unknown profile solver '" + std::string(name) +
                              "' (valid: lm, lbfgs)");
}

void ProfileSliceOptions::validate() const {
  if (!(gradient_tolerance >= 0))
    throw std::invalid_argument("ProfileSliceOptions.gradient_tolerance must be >= 0, got " +
                                io::format_number(gradient_tolerance));
  if (max_iterations < 1)
    throw std::invalid_argument("ProfileSliceOptions.max_iterations must be >= 1, got " +
                                std::to_string(max_iterations));
}

const options::Table<ProfileSliceOptions>& profile_slice_table() {
  using O = ProfileSliceOptions;
  static const auto t =
      options::Table<O>("ProfileSliceOptions")
          .add_enum("solver", "the minimization over the orthogonal complement", &O::solver,
                    &to_string, &parse_profile_solver, {ProfileSolver::lm, ProfileSolver::lbfgs})
          .add("gradient_tolerance", "each minimization: stop at |P grad L|_inf <= this",
               &O::gradient_tolerance)
          .add("max_iterations", "each minimization: iterations allowed", &O::max_iterations);
  return t;
}

ProfileSlice profile_slice(FunctionRef loss, const VectorXd& theta, const VectorXd& direction,
                           const VectorXd& t, const ProfileSliceOptions& options,
                           const ProgressCallback& progress) {
  options.validate();
  loss.check_parameters(theta, "the profile slice's point");
  if (direction.size() != theta.size() || !direction.allFinite() || !(direction.norm() > 0))
    throw std::invalid_argument(
        "the profile slice's direction must be a nonzero finite vector "
        "of length " +
        std::to_string(theta.size()));
  if (t.size() < 1 || !t.allFinite())
    throw std::invalid_argument("the profile slice's t must be a nonempty finite vector");
  if (options.solver == ProfileSolver::lm && !loss.has_residuals())
    throw std::invalid_argument(
        "ProfileSliceOptions.solver lm needs a least-squares loss (residuals); use lbfgs");

  const Index m = t.size(), n = theta.size();
  ProfileSlice p;
  p.t = t;
  p.direction = direction;
  p.slice.resize(m);
  p.profile.resize(m);
  p.gradient_max_norm.resize(m);
  p.iterations.resize(m);
  p.solver_status.assign(size_t(m), "");
  // Visit the t in increasing order from the one nearest 0 outwards on both sides, so that each
  // minimization starts next to a solved neighbour.
  std::vector<Index> order(static_cast<size_t>(m));
  for (Index i = 0; i < m; ++i) order[size_t(i)] = i;
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return t[a] < t[b]; });
  size_t centre = 0;
  for (size_t k = 1; k < order.size(); ++k)
    if (std::abs(t[order[k]]) < std::abs(t[order[centre]])) centre = k;

  const VectorXd unit = direction.normalized();
  const VectorXd zero = VectorXd::Zero(n);
  int unconverged = 0, at_floor = 0;
  long long solved = 0;
  auto solve_at = [&](Index i, const VectorXd& warm) -> VectorXd {
    const Restricted f{loss, theta + t[i] * direction, unit};
    p.slice[i] = loss.loss(f.base);
    // Start from the neighbour's z or from z = 0, whichever is lower: then P(t) <= S(t).
    const VectorXd& u0 = f.loss(warm) < p.slice[i] ? warm : zero;
    solvers::SolveResult r;
    if (options.solver == ProfileSolver::lm) {
      solvers::LevenbergMarquardtOptions lm;
      lm.stop.gradient_tolerance = options.gradient_tolerance;
      lm.stop.max_iterations = options.max_iterations;
      r = solvers::solve_levenberg_marquardt(f, u0, lm);
    } else {
      solvers::LbfgsOptions lb;
      lb.stop.gradient_tolerance = options.gradient_tolerance;
      lb.stop.max_iterations = options.max_iterations;
      r = solvers::solve_lbfgs(f, u0, lb);
    }
    const VectorXd z = f.project(r.theta);
    // Evaluated like the slice (LM's own merit is c |r|^2, equal up to rounding).
    p.profile[i] = f.loss(r.theta);
    p.gradient_max_norm[i] = r.gradient_max_norm;
    p.iterations[i] = r.iterations;
    p.solver_status[size_t(i)] = std::string(solvers::to_string(r.status));
    // L-BFGS ends with line_search_failed where L's rounding hides any decrease: the accuracy
    // floor of a first-order method (|P grad L| ~ sqrt(lambda eps L)), counted as converged.
    if (r.status == solvers::Status::line_search_failed) ++at_floor;
    const bool ok = r.converged() || r.gradient_max_norm <= options.gradient_tolerance ||
                    r.status == solvers::Status::line_search_failed;
    if (!ok) ++unconverged;
    report_progress(progress,
                    {.stage = "profile slice", .done = ++solved, .total = m, .loss = p.profile[i]});
    return z;
  };
  VectorXd z_centre = solve_at(order[centre], zero);
  VectorXd z = z_centre;
  for (size_t k = centre + 1; k < order.size(); ++k) z = solve_at(order[k], z);
  z = z_centre;
  for (size_t k = centre; k-- > 0;) z = solve_at(order[k], z);

  p.converged = unconverged == 0;
  p.message = p.converged
                  ? "every minimization reached |P grad L|_inf <= " +
                        io::format_number(options.gradient_tolerance) +
                        (at_floor > 0 ? " or L's rounding floor (" + std::to_string(at_floor) +
                                            " of " + std::to_string(m) + ")"
                                      : std::string())
                  : std::to_string(unconverged) + " of " + std::to_string(m) +
                        " minimizations ended above |P grad L|_inf = " +
                        io::format_number(options.gradient_tolerance) +
                        " (the profile there is an upper bound)";
  return p;
}

io::Json to_json(const LossSlice& s) {
  io::Json rows = io::Json::array();
  for (Index i = 0; i < s.loss.rows(); ++i)
    rows.push_back(io::json_numbers(s.loss.row(i).transpose()));
  return {{"dims", s.beta.size() > 0 ? 2 : 1},
          {"alpha", io::json_numbers(s.alpha)},
          {"beta", io::json_numbers(s.beta)},
          {"loss", rows}};
}

io::Json to_json(const ProfileSlice& p) {
  io::Json iterations = io::Json::array(), status = io::Json::array();
  for (Index i = 0; i < p.iterations.size(); ++i) iterations.push_back(p.iterations[i]);
  for (const auto& s : p.solver_status) status.push_back(s);
  return {{"converged", p.converged},
          {"message", p.message},
          {"t", io::json_numbers(p.t)},
          {"slice", io::json_numbers(p.slice)},
          {"profile", io::json_numbers(p.profile)},
          {"gradient_max_norm", io::json_numbers(p.gradient_max_norm)},
          {"iterations", iterations},
          {"solver_status", status}};
}

std::string summary(const LossSlice& s) {
  Index i = 0, j = 0;
  const double lo = s.loss.minCoeff(&i, &j);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "slice: %d-D, %ld points per axis; L in [%.6g, %.6g], minimum at alpha = %.4g",
                s.beta.size() > 0 ? 2 : 1, long(s.alpha.size()), lo, s.loss.maxCoeff(), s.alpha[i]);
  std::string out = buf;
  if (s.beta.size() > 0) {
    std::snprintf(buf, sizeof buf, ", beta = %.4g", s.beta[j]);
    out += buf;
  }
  return out + "\n";
}

std::string summary(const ProfileSlice& p) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "profile slice: %s: %s\n  largest S - P = %.6g, profile in [%.6g, %.6g], "
                "largest |P grad L|_inf = %.2e\n",
                p.converged ? "converged" : "not converged", p.message.c_str(),
                (p.slice - p.profile).maxCoeff(), p.profile.minCoeff(), p.profile.maxCoeff(),
                p.gradient_max_norm.maxCoeff());
  return buf;
}

}  // namespace locus::paths
