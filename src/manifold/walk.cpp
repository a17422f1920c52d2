#include "locus/manifold/walk.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "linalg/random.hpp"
#include "linalg/svd.hpp"
#include "locus/core/random.hpp"
#include "locus/io/format.hpp"
#include "locus/io/memory.hpp"

namespace locus::manifold {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr double k_eps = std::numeric_limits<double>::epsilon();
constexpr double k_inf = std::numeric_limits<double>::infinity();

// The thin SVD of J with its numerical rank (linalg's rank rule, tau = max(m, n) eps sigma_max as
// in LAPACK's and NumPy's rank): everything the projection, the tangent space and the rank report
// need.
using JacobianSvd = linalg::RankedSvd;
JacobianSvd jacobian_svd(const MatrixXd& J) {
  return linalg::ranked_svd(J, linalg::SvdVectors::thin);
}

ResidualJacobianRank report(const JacobianSvd& jsvd, Index rows, Index cols) {
  ResidualJacobianRank r;
  r.rank = jsvd.decision.rank;
  r.rows = rows;
  r.cols = cols;
  r.tolerance = jsvd.decision.tolerance;
  r.sigma_max = jsvd.decision.sigma_max;
  r.sigma_min_kept = jsvd.decision.sigma_min_kept;
  r.sigma_first_dropped = jsvd.decision.sigma_first_dropped;
  return r;
}

void check_theta(const Objective& objective, const VectorXd& theta, std::string_view what) {
  objective.require_squared(what);
  objective.model().check_parameters(theta, what);
}

VectorXd gaussian(Index n, Rng& rng) { return linalg::gaussian_vector(n, rng); }

}  // namespace

ResidualJacobianRank residual_jacobian_rank(const Objective& objective, const VectorXd& theta) {
  check_theta(objective, theta, "residual_jacobian_rank: theta");
  const MatrixXd J = objective.jacobian(theta);
  return report(linalg::ranked_svd(J, linalg::SvdVectors::none), J.rows(), J.cols());
}

std::string_view to_string(ManifoldProjectionStatus s) {
  switch (s) {
    case ManifoldProjectionStatus::converged:
      return "converged";
    case ManifoldProjectionStatus::stalled:
      return "stalled";
    case ManifoldProjectionStatus::max_iterations:
      return "max_iterations";
    case ManifoldProjectionStatus::non_finite:
      return "non_finite";
  }
  return "unknown";
}

std::string_view to_string(WalkStatus s) {
  switch (s) {
    case WalkStatus::completed:
      return "completed";
    case WalkStatus::step_size_too_small:
      return "step_size_too_small";
    case WalkStatus::start_not_on_manifold:
      return "start_not_on_manifold";
    case WalkStatus::no_tangent:
      return "no_tangent";
    case WalkStatus::non_finite:
      return "non_finite";
  }
  return "unknown";
}

ManifoldProjection project_to_manifold(const Objective& objective, const VectorXd& theta,
                                       const ManifoldProjectionOptions& options) {
  check_theta(objective, theta, "project_to_manifold: theta");
  if (!(options.loss_tolerance >= 0))
    throw std::invalid_argument("ManifoldProjectionOptions.loss_tolerance must be >= 0, got " +
                                io::format_number(options.loss_tolerance));
  if (options.max_iterations < 0)
    throw std::invalid_argument("ManifoldProjectionOptions.max_iterations must be >= 0, got " +
                                std::to_string(options.max_iterations));
  ManifoldProjection out;
  out.theta = theta;
  // Sets out's status and its one-sentence message.
  const auto done = [&](ManifoldProjectionStatus status) {
    out.status = status;
    const std::string losses = "loss " + io::format_number(out.loss_initial) + " -> " +
                               io::format_number(out.loss_final) + " in " +
                               std::to_string(out.iterations) + " Newton steps (tolerance " +
                               io::format_number(options.loss_tolerance) + ")";
    switch (status) {
      case ManifoldProjectionStatus::converged:
        out.message = "reached the manifold: " + losses;
        break;
      case ManifoldProjectionStatus::stalled:
        out.message = "stalled: a Newton step did not halve the loss, " + losses;
        break;
      case ManifoldProjectionStatus::max_iterations:
        out.message = "max_iterations reached: " + losses;
        break;
      case ManifoldProjectionStatus::non_finite:
        out.message = "the loss became NaN/inf: " + losses;
        break;
    }
    return out;
  };
  VectorXd r = objective.residuals(theta);
  const double loss = r.squaredNorm();
  out.loss_initial = out.loss_final = loss;
  if (!std::isfinite(loss)) {
    return done(ManifoldProjectionStatus::non_finite);
  }
  double best_loss = loss;
  for (int it = 0; it < options.max_iterations; ++it) {
    if (best_loss <= options.loss_tolerance) break;
    // Newton's method for the underdetermined system H(theta) = 0: the minimum-norm solution of
    // the linearisation J dtheta = -r.
    const JacobianSvd jsvd = jacobian_svd(objective.jacobian(out.theta));
    const VectorXd next = out.theta - jsvd.pinv_solve(r);
    const VectorXd r_next = objective.residuals(next);
    const double loss_next = r_next.squaredNorm();
    ++out.iterations;
    if (!std::isfinite(loss_next)) {
      return done(ManifoldProjectionStatus::non_finite);
    }
    // Newton's iterates gain orders of magnitude per step; less than a halving means the
    // round-off floor (near M), a kink of a relu network between the iterates, or a start
    // outside Newton's basin. Keep the better point and stop.
    const bool progress = loss_next < 0.5 * best_loss;
    if (loss_next < best_loss) {
      best_loss = loss_next;
      out.theta = next;
      out.loss_final = loss_next;
      r = r_next;
    }
    if (!progress) {
      return done(best_loss <= options.loss_tolerance ? ManifoldProjectionStatus::converged
                                                      : ManifoldProjectionStatus::stalled);
    }
  }
  return done(best_loss <= options.loss_tolerance ? ManifoldProjectionStatus::converged
                                                  : ManifoldProjectionStatus::max_iterations);
}

void WalkOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("WalkOptions." + field + " " + why);
  };
  if (steps < 0) fail("steps", "must be >= 0, got " + std::to_string(steps));
  if (!(step_size > 0) || !std::isfinite(step_size))
    fail("step_size", "must be finite and > 0, got " + io::format_number(step_size));
  if (!(max_step_size >= step_size))
    fail("max_step_size", "must be >= step_size, got " + io::format_number(max_step_size));
  if (!(min_step_size > 0) || !(min_step_size <= step_size))
    fail("min_step_size", "must be > 0 and <= step_size, got " + io::format_number(min_step_size));
  if (max_turns < 0) fail("max_turns", "must be >= 0, got " + std::to_string(max_turns));
  if (!(max_length > 0)) fail("max_length", "must be > 0, got " + io::format_number(max_length));
  if (!(loss_tolerance >= 0))
    fail("loss_tolerance", "must be >= 0, got " + io::format_number(loss_tolerance));
  if (!(loss_acceptable >= loss_tolerance))
    fail("loss_acceptable", "must be >= loss_tolerance, got " + io::format_number(loss_acceptable));
  if (max_corrector_iterations < 1)
    fail("max_corrector_iterations",
         "must be >= 1, got " + std::to_string(max_corrector_iterations));
}

WalkResult walk_manifold(const Objective& objective, const VectorXd& theta0,
                         const WalkOptions& options, const ProgressCallback& progress) {
  options.validate();
  check_theta(objective, theta0, "walk_manifold: theta0");
  const Index n = objective.n_params();
  if (options.record_path)
    io::check_memory(8.0 * double(n) * (double(options.steps) + 1.0),
                     "WalkOptions.record_path with steps = " + std::to_string(options.steps),
                     "one n-vector per step");
  const ManifoldProjectionOptions corrector{.loss_tolerance = options.loss_tolerance,
                                            .max_iterations = options.max_corrector_iterations};
  WalkResult w;

  // Start on M: project theta0 first when it is not already within loss_tolerance.
  ManifoldProjection start = project_to_manifold(objective, theta0, corrector);
  if (!(start.loss_final <= options.loss_acceptable)) {
    w.status = std::isfinite(start.loss_final) ? WalkStatus::start_not_on_manifold
                                               : WalkStatus::non_finite;
    w.message = "the start point has loss " + io::format_number(start.loss_initial) +
                " and its projection reached only " + io::format_number(start.loss_final) + " > " +
                io::format_number(options.loss_acceptable);
    w.theta_final = theta0;
    w.loss_max = start.loss_final;
    return w;
  }
  VectorXd theta = start.theta;
  std::vector<VectorXd> path;
  auto record = [&](const WalkStep& s, const JacobianSvd& jsvd) {
    WalkStep step = s;
    step.rank_jacobian = jsvd.decision.rank;
    step.rank_tolerance = jsvd.decision.tolerance;
    step.sigma_min_kept = jsvd.decision.sigma_min_kept;
    w.steps.push_back(step);
    w.loss_max = std::max(w.loss_max, step.loss);
    if (w.steps.size() == 1) {
      w.rank_min = w.rank_max = step.rank_jacobian;
    } else {
      w.rank_min = std::min(w.rank_min, step.rank_jacobian);
      w.rank_max = std::max(w.rank_max, step.rank_jacobian);
    }
    if (options.record_path) path.push_back(theta);
    report_progress(progress, {.stage = "walk steps",
                               .done = static_cast<long long>(w.steps.size()) - 1,
                               .total = options.steps,
                               .loss = step.loss});
  };
  JacobianSvd jsvd = jacobian_svd(objective.jacobian(theta));
  record({.step = 0, .loss = start.loss_final, .corrector_iterations = start.iterations}, jsvd);

  // Initial direction: a seeded Gaussian vector projected onto ker J.
  Rng rng(options.seed);
  VectorXd t = jsvd.kernel_component(gaussian(n, rng));
  if (jsvd.decision.rank >= n || !(t.norm() > 0)) {
    w.status = WalkStatus::no_tangent;
    w.message =
        "rank J = " + std::to_string(jsvd.decision.rank) + " = n: M has no tangent directions here";
    w.theta_final = theta;
    return w;
  }
  t.normalize();

  double h = options.step_size;
  int rejected = 0, turns = 0, hard_steps = 0, turns_left = options.max_turns;
  w.status = WalkStatus::completed;
  while (static_cast<int>(w.steps.size()) <= options.steps && w.arc_length < options.max_length) {
    const double h_used = std::min(h, options.max_length - w.arc_length);
    const VectorXd predicted = theta + h_used * t;
    const ManifoldProjection c = project_to_manifold(objective, predicted, corrector);
    // Accept when the corrector reached M and stayed close to the predictor: a correction longer
    // than the step itself means it fell onto another sheet of M (or diverged).
    const bool accepted =
        c.loss_final <= options.loss_acceptable && (c.theta - predicted).norm() <= h_used;
    if (!accepted) {
      if (!std::isfinite(c.loss_initial)) {
        w.status = WalkStatus::non_finite;
        w.message = "non-finite residuals at a predicted point (step size " +
                    io::format_number(h_used) + ")";
        break;
      }
      ++rejected;
      h *= 0.5;
      if (h < options.min_step_size) {
        if (turns_left == 0) {
          w.status = WalkStatus::step_size_too_small;
          w.message = "the corrector failed at every step size down to " + io::format_number(h) +
                      " in " + std::to_string(w.turns + 1) + " directions (last corrector loss " +
                      io::format_number(c.loss_final) + ")";
          break;
        }
        // A corner or an edge of M lies ahead: turn to a fresh random tangent direction.
        --turns_left;
        ++w.turns;
        ++turns;
        const VectorXd fresh = jsvd.kernel_component(gaussian(n, rng));
        t = fresh.normalized();
        h = options.step_size;
      }
      continue;
    }
    const double chord = (c.theta - theta).norm();
    theta = c.theta;
    w.arc_length += chord;
    jsvd = jacobian_svd(objective.jacobian(theta));
    record({.step = static_cast<int>(w.steps.size()),
            .arc_length = w.arc_length,
            .distance_from_start = (theta - start.theta).norm(),
            .loss = c.loss_final,
            .step_size = h_used,
            .corrector_iterations = c.iterations,
            .rejected_attempts = rejected,
            .turns = turns},
           jsvd);
    rejected = turns = 0;
    // Continue in the previous direction, projected onto the new tangent space.
    VectorXd t_next = jsvd.kernel_component(t);
    if (!(t_next.norm() > 1e-3)) t_next = jsvd.kernel_component(gaussian(n, rng));
    if (!(t_next.norm() > 0)) {
      w.status = WalkStatus::no_tangent;
      w.message = "ker J became trivial at step " + std::to_string(w.steps.size() - 1);
      break;
    }
    t = t_next.normalized();
    // Newton needs ~2 steps from a good predictor, plus one that finds the round-off floor.
    if (c.iterations <= 3) h = std::min(1.5 * h, options.max_step_size);
    // Correctors that keep needing more than half their iterations converge linearly: the walk
    // is riding a crease of M (relu: a pre-activation held at 0, the iterates zigzag across it).
    // After three such steps in a row, turn to a fresh direction.
    hard_steps = 2 * c.iterations > options.max_corrector_iterations ? hard_steps + 1 : 0;
    if (hard_steps >= 3 && turns_left > 0) {
      --turns_left;
      ++w.turns;
      ++turns;
      hard_steps = 0;
      t = jsvd.kernel_component(gaussian(n, rng)).normalized();
      h = options.step_size;
    }
  }
  w.theta_final = theta;
  if (options.record_path) {
    w.path.resize(n, static_cast<Index>(path.size()));
    for (size_t k = 0; k < path.size(); ++k) w.path.col(static_cast<Index>(k)) = path[k];
  }
  if (w.status == WalkStatus::completed)
    w.message = std::to_string(w.steps.size() - 1) + " steps, arc length " +
                io::format_number(w.arc_length) + ", max loss " + io::format_number(w.loss_max) +
                ", rank J in [" + std::to_string(w.rank_min) + ", " + std::to_string(w.rank_max) +
                "]";
  return w;
}

LineLoss loss_along_line(const Objective& objective, const VectorXd& theta0,
                         const VectorXd& direction, const LineLossOptions& options) {
  check_theta(objective, theta0, "loss_along_line: theta0");
  if (direction.size() != theta0.size() || !(direction.norm() > 0) ||
      !std::isfinite(direction.norm()))
    throw std::invalid_argument(
        "loss_along_line: direction must be a finite non-zero vector of "
        "length " +
        std::to_string(theta0.size()));
  if (!(options.length > 0) || !std::isfinite(options.length))
    throw std::invalid_argument("LineLossOptions.length must be finite and > 0, got " +
                                io::format_number(options.length));
  if (options.n_points < 2)
    throw std::invalid_argument("LineLossOptions.n_points must be >= 2, got " +
                                std::to_string(options.n_points));
  io::check_memory(16.0 * options.n_points,
                   "LineLossOptions.n_points = " + std::to_string(options.n_points),
                   "t and the loss, 2 doubles per point");
  const VectorXd u = direction.normalized();
  LineLoss out;
  out.t = VectorXd::LinSpaced(options.n_points, 0.0, options.length);
  out.loss.resize(options.n_points);
  for (int k = 0; k < options.n_points; ++k) out.loss(k) = objective.loss(theta0 + out.t(k) * u);
  return out;
}

VectorXd random_unit_direction(Index n, std::uint64_t seed) {
  if (n < 1) throw std::invalid_argument("random_unit_direction: n must be >= 1");
  Rng rng(seed);
  return gaussian(n, rng).normalized();
}

VectorXd random_tangent_direction(const Objective& objective, const VectorXd& theta,
                                  std::uint64_t seed) {
  check_theta(objective, theta, "random_tangent_direction: theta");
  const JacobianSvd jsvd = jacobian_svd(objective.jacobian(theta));
  const Index n = objective.n_params();
  if (jsvd.decision.rank >= n) return VectorXd::Zero(n);
  Rng rng(seed);
  const VectorXd t = jsvd.kernel_component(gaussian(n, rng));
  return t.norm() > 0 ? VectorXd(t.normalized()) : VectorXd::Zero(n);
}

void DimensionOptions::validate() const {
  if (n_samples && *n_samples < 1)
    throw std::invalid_argument("DimensionOptions.n_samples must be >= 1, got " +
                                std::to_string(*n_samples));
  if (!(radius > 0) || !std::isfinite(radius))
    throw std::invalid_argument("DimensionOptions.radius must be finite and > 0, got " +
                                io::format_number(radius));
  if (!(loss_acceptable >= 0))
    throw std::invalid_argument("DimensionOptions.loss_acceptable must be >= 0, got " +
                                io::format_number(loss_acceptable));
}

DimensionEstimate manifold_dimension_by_projection(const Objective& objective,
                                                   const VectorXd& theta_star,
                                                   const DimensionOptions& options,
                                                   const ProgressCallback& progress) {
  options.validate();
  check_theta(objective, theta_star, "manifold_dimension_by_projection: theta_star");
  const Index n = objective.n_params();
  DimensionEstimate e;
  {
    const MatrixXd J = objective.jacobian(theta_star);
    e.jacobian = report(linalg::ranked_svd(J, linalg::SvdVectors::none), J.rows(), J.cols());
  }
  e.dimension_from_jacobian = n - e.jacobian.rank;
  e.n_samples = options.n_samples.value_or(2 * n);

  Rng rng(options.seed);
  MatrixXd D(n, e.n_samples);
  for (Index k = 0; k < e.n_samples; ++k) {
    report_progress(progress, {.stage = "projection samples", .done = k, .total = e.n_samples});
    const VectorXd delta = options.radius * gaussian(n, rng).normalized();
    const ManifoldProjection p =
        project_to_manifold(objective, theta_star + delta, options.projection);
    if (!(p.loss_final <= options.loss_acceptable)) continue;
    D.col(e.n_projected++) = p.theta - theta_star;
    e.loss_max_projected = std::max(e.loss_max_projected, p.loss_final);
  }
  if (e.n_projected == 0) return e;
  e.singular_values = linalg::svd(D.leftCols(e.n_projected), linalg::SvdVectors::none).values;
  const VectorXd& s = e.singular_values;
  // Tangent components scale like radius, normal ones like curvature * radius^2: the geometric
  // middle sigma_1 sqrt(radius) separates them while curvature * radius << sqrt(radius).
  e.threshold = s(0) * std::sqrt(options.radius);
  while (e.dimension < s.size() && s(e.dimension) > e.threshold) ++e.dimension;
  // s(0) > threshold whenever s(0) > 0, so dimension >= 1 unless every displacement vanished.
  if (e.dimension == 0)
    e.gap_ratio = 0.0;
  else if (e.dimension == s.size())
    e.gap_ratio = k_inf;
  else
    e.gap_ratio = s(e.dimension - 1) / std::max(s(e.dimension), std::numeric_limits<double>::min());
  // The largest ratio of consecutive singular values, with values below the round-off level of
  // the displacements (~eps |theta*| per entry) clipped to that level so noise cannot win.
  const double floor = 100.0 * k_eps * std::max(1.0, theta_star.cwiseAbs().maxCoeff()) *
                       std::sqrt(static_cast<double>(n));
  double best = 0.0;
  for (Index k = 0; k + 1 < s.size(); ++k) {
    const double ratio = std::max(s(k), floor) / std::max(s(k + 1), floor);
    if (ratio > best) {
      best = ratio;
      e.dimension_at_largest_gap = k + 1;
    }
  }
  if (s.size() == 1 || best <= 1.0) e.dimension_at_largest_gap = s.size();
  return e;
}

}  // namespace locus::manifold
