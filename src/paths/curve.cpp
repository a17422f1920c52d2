// Curve fitting between two points: the integrated loss over the bends and its minimization with
// L-BFGS in rounds, stopped on the convergence of the curve's maximum (curve.hpp).

#include "locus/paths/curve.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "locus/io/format.hpp"
#include "locus/io/json_numbers.hpp"
#include "locus/io/memory.hpp"
#include "locus/solvers/lbfgs.hpp"

namespace locus::paths {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

void check_shape(PathKind kind, int bends) {
  if (kind == PathKind::polyline)
    throw std::invalid_argument("a fitted curve is a bezier or a polychain, not a polyline");
  if (bends < 1 || (kind == PathKind::bezier && bends != 1))
    throw std::invalid_argument("bends must be >= 1 (1 for a Bezier curve), got " +
                                std::to_string(bends));
}

}  // namespace

Quadrature gauss_legendre(int n) {
  if (n < 1)
    throw std::invalid_argument("gauss_legendre: n must be >= 1, got " + std::to_string(n));
  Quadrature q{VectorXd(n), VectorXd(n)};
  // Roots of P_n on [-1, 1], symmetric: compute the positive half (Numerical Recipes' gauleg).
  // P_n and P_n' by the three-term recurrence; Newton converges quadratically from Tricomi's
  // estimate, and stops when the step is below the rounding of z (|dz| <= eps).
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 0.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p1 = 1.0, p0 = 0.0;
      for (int j = 1; j <= n; ++j) {
        const double p2 = p0;
        p0 = p1;
        p1 = ((2.0 * j - 1.0) * z * p0 - (j - 1.0) * p2) / j;
      }
      dp = n * (z * p1 - p0) / (z * z - 1.0);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) <= std::numeric_limits<double>::epsilon()) break;
    }
    // Map [-1, 1] to [0, 1]: t = (1 + x) / 2, weights halved.
    const double w = 1.0 / ((1.0 - z * z) * dp * dp);
    q.nodes[i] = 0.5 * (1.0 - z);
    q.nodes[n - 1 - i] = 0.5 * (1.0 + z);
    q.weights[i] = q.weights[n - 1 - i] = w;
  }
  return q;
}

CurveObjective::CurveObjective(FunctionRef loss, VectorXd start, VectorXd end, PathKind kind,
                               int bends, int nodes)
    : loss_(loss), start_(std::move(start)), end_(std::move(end)), kind_(kind), bends_(bends) {
  check_shape(kind, bends);
  loss_.check_parameters(start_, "the curve's start");
  loss_.check_parameters(end_, "the curve's end");
  // The quadrature points of all segments: a Bezier curve is one smooth segment; a polychain's
  // k + 1 segments each get `nodes` points (its integrand has kinks at their boundaries, where a
  // single Gauss rule would converge slowly).
  const Quadrature base = gauss_legendre(nodes);
  const Index segments = kind == PathKind::bezier ? 1 : Index(bends) + 1;
  quadrature_.nodes.resize(Index(segments) * nodes);
  quadrature_.weights.resize(Index(segments) * nodes);
  for (Index s = 0; s < segments; ++s) {
    quadrature_.nodes.segment(Index(s) * nodes, nodes) =
        (base.nodes.array() + s) / double(segments);
    quadrature_.weights.segment(Index(s) * nodes, nodes) = base.weights / double(segments);
  }
}

Path CurveObjective::curve(const VectorXd& z) const {
  const Index n = start_.size();
  if (z.size() != n_params())
    throw std::invalid_argument("the bends have " + std::to_string(z.size()) +
                                " coordinates, expected " + std::to_string(n_params()));
  const MatrixXd bends = Eigen::Map<const MatrixXd>(z.data(), n, bends_).transpose();
  if (kind_ == PathKind::bezier) return Path::bezier(start_, bends.row(0).transpose(), end_);
  return Path::polychain(start_, bends, end_);
}

VectorXd CurveObjective::straight_bends() const {
  const Index n = start_.size();
  VectorXd z(n_params());
  for (int j = 1; j <= bends_; ++j) {
    const double t = double(j) / double(bends_ + 1);
    z.segment(Index(j - 1) * n, n) = (1 - t) * start_ + t * end_;
  }
  return z;
}

double CurveObjective::loss(const VectorXd& z) const {
  const Path c = curve(z);
  double j = 0.0;
  for (Index q = 0; q < quadrature_.nodes.size(); ++q)
    j += quadrature_.weights[q] * loss_.loss(c.at(quadrature_.nodes[q]));
  return j;
}

LossGradient CurveObjective::loss_gradient(const VectorXd& z) const {
  const Path c = curve(z);
  const Index n = start_.size();
  LossGradient out{0.0, VectorXd::Zero(n_params())};
  for (Index q = 0; q < quadrature_.nodes.size(); ++q) {
    const double t = quadrature_.nodes[q];
    const LossGradient lg = loss_.loss_gradient(c.at(t));
    const VectorXd w = c.weights(t);  // w_0 (start), w_1..w_k (bends), w_{k+1} (end)
    out.loss += quadrature_.weights[q] * lg.loss;
    for (int j = 0; j < bends_; ++j)
      if (w[j + 1] != 0.0)
        out.gradient.segment(Index(j) * n, n) += quadrature_.weights[q] * w[j + 1] * lg.gradient;
  }
  return out;
}

void CurveFitOptions::validate() const {
  auto fail = [](const std::string& field, const std::string& why) {
    throw std::invalid_argument("CurveFitOptions." + field + " " + why);
  };
  if (kind == PathKind::polyline) fail("kind", "must be bezier or polychain, got polyline");
  if (bends < 1 || (kind == PathKind::bezier && bends != 1))
    fail("bends", "must be >= 1 (1 for a Bezier curve), got " + std::to_string(bends));
  if (quadrature_nodes < 1)
    fail("quadrature_nodes", "must be >= 1, got " + std::to_string(quadrature_nodes));
  if (iterations_per_round < 1)
    fail("iterations_per_round", "must be >= 1, got " + std::to_string(iterations_per_round));
  if (max_rounds < 1) fail("max_rounds", "must be >= 1, got " + std::to_string(max_rounds));
  if (!(max_tolerance > 0))
    fail("max_tolerance", "must be > 0, got " + io::format_number(max_tolerance));
  if (!(gradient_tolerance >= 0))
    fail("gradient_tolerance", "must be >= 0, got " + io::format_number(gradient_tolerance));
  profile.validate();
}

const options::Table<CurveFitOptions>& curve_fit_table() {
  using O = CurveFitOptions;
  static const auto t = add_profile_rows(
      options::Table<O>("CurveFitOptions")
          .add_enum("kind", "the curve", &O::kind, &to_string, &parse_path_kind,
                    {PathKind::bezier, PathKind::polychain})
          .add("bends", "polychain: number of bends (bezier: 1)", &O::bends)
          .add("quadrature_nodes", "Gauss-Legendre nodes per segment", &O::quadrature_nodes)
          .add("iterations_per_round", "L-BFGS iterations between checks of the maximum",
               &O::iterations_per_round)
          .add("max_rounds", "rounds allowed", &O::max_rounds)
          .add("max_tolerance", "stop when the curve's maximum changes by <= this (relative)",
               &O::max_tolerance)
          .add("gradient_tolerance", "or when |grad J|_inf <= this", &O::gradient_tolerance));
  return t;
}

std::string_view to_string(CurveFitStatus s) {
  switch (s) {
    case CurveFitStatus::converged_maximum:
      return "converged_maximum";
    case CurveFitStatus::converged_gradient:
      return "converged_gradient";
    case CurveFitStatus::stalled:
      return "stalled";
    case CurveFitStatus::max_rounds:
      return "max_rounds";
    case CurveFitStatus::non_finite:
      return "non_finite";
  }
  return "unknown";
}

CurveFit fit_curve(FunctionRef loss, const VectorXd& start, const VectorXd& end,
                   const CurveFitOptions& options, const ProgressCallback& progress) {
  options.validate();
  // The bends (L-BFGS keeps about 20 vectors of their size) and the quadrature nodes.
  io::check_memory(8.0 * 24.0 * double(options.bends) * double(start.size()) +
                       16.0 * (double(options.bends) + 1.0) * double(options.quadrature_nodes),
                   "CurveFitOptions.bends = " + std::to_string(options.bends) +
                       ", quadrature_nodes = " + std::to_string(options.quadrature_nodes),
                   "24 vectors of bends x n, 2 per quadrature node");
  const CurveObjective objective(loss, start, end, options.kind, options.bends,
                                 options.quadrature_nodes);
  if (start == end) throw std::invalid_argument("the curve's start and end are equal");
  const LossProfile line_profile = loss_profile(loss, Path::line(start, end), options.profile);

  VectorXd z = objective.straight_bends();
  solvers::LbfgsOptions lbfgs;
  lbfgs.stop.gradient_tolerance = options.gradient_tolerance;
  lbfgs.stop.loss_tolerance = -std::numeric_limits<double>::infinity();  // J > 0 is expected
  lbfgs.stop.max_iterations = options.iterations_per_round;

  CurveFitStatus status = CurveFitStatus::max_rounds;
  std::string message;
  std::optional<LossProfile> profile;
  double j_initial = NAN, j_final = NAN, gradient = NAN;
  int rounds = 0, iterations = 0;
  std::vector<double> history;
  double previous = line_profile.loss_max;
  const long long total = (long long)options.max_rounds * options.iterations_per_round;
  solvers::IterationCallback each;  // "curve fit" k/total with J and |grad J|
  if (progress)
    each = [&](const solvers::IterationRecord& it) {
      progress({.stage = "curve fit",
                .done = iterations + it.iteration,
                .total = total,
                .loss = it.loss,
                .gradient_max_norm = it.gradient_max_norm});
      return true;
    };
  while (rounds < options.max_rounds) {
    const solvers::SolveResult r = solvers::solve_lbfgs(objective, z, lbfgs, each);
    ++rounds;
    iterations += r.iterations;
    if (rounds == 1) j_initial = r.loss_initial;
    if (r.theta.allFinite()) z = r.theta;
    j_final = r.loss_final;
    gradient = r.gradient_max_norm;
    profile = loss_profile(loss, objective.curve(z), options.profile);
    history.push_back(profile->loss_max);
    if (r.status == solvers::Status::non_finite || profile->status == ProfileStatus::non_finite) {
      status = CurveFitStatus::non_finite;
      message = "L-BFGS: " + r.message + "; profile: " + profile->message;
      break;
    }
    const double change = std::abs(profile->loss_max - previous);
    // Relative to the larger of the curve's and the straight line's maximum: where a path of
    // zero barrier exists the curve's maximum tends to 0 and would never converge relatively.
    const double allowed = options.max_tolerance *
                           std::max({std::abs(profile->loss_max), std::abs(line_profile.loss_max),
                                     std::numeric_limits<double>::min()});
    if (change <= allowed) {
      status = CurveFitStatus::converged_maximum;
      message = "the curve's maximum changed by " + io::format_number(change) +
                " <= " + io::format_number(allowed) + " in round " + std::to_string(rounds);
      break;
    }
    previous = profile->loss_max;
    if (r.status == solvers::Status::converged_gradient) {
      status = CurveFitStatus::converged_gradient;
      message = "|grad J|_inf = " + io::format_number(gradient) +
                " <= " + io::format_number(options.gradient_tolerance) + " in round " +
                std::to_string(rounds);
      break;
    }
    if (r.status != solvers::Status::max_iterations) {
      status = CurveFitStatus::stalled;
      message = "L-BFGS stopped in round " + std::to_string(rounds) + ": " + r.message;
      break;
    }
  }
  if (status == CurveFitStatus::max_rounds)
    message = "max_rounds = " + std::to_string(options.max_rounds) +
              " reached; the curve's maximum still changed by " +
              io::format_number(history.size() > 1
                                    ? std::abs(history.back() - history[history.size() - 2])
                                    : NAN);
  return CurveFit{.status = status,
                  .message = std::move(message),
                  .curve = objective.curve(z),
                  .profile = std::move(*profile),
                  .line_profile = line_profile,
                  .integrated_loss_initial = j_initial,
                  .integrated_loss_final = j_final,
                  .gradient_max_norm = gradient,
                  .rounds = rounds,
                  .iterations = iterations,
                  .loss_max_history = std::move(history)};
}

io::Json to_json(const CurveFit& f) {
  return {{"status", std::string(to_string(f.status))},
          {"message", f.message},
          {"kind", std::string(to_string(f.curve.kind()))},
          {"rounds", f.rounds},
          {"iterations", f.iterations},
          {"integrated_loss_initial", io::json_number(f.integrated_loss_initial)},
          {"integrated_loss_final", io::json_number(f.integrated_loss_final)},
          {"gradient_max_norm", io::json_number(f.gradient_max_norm)},
          {"loss_max_history", io::json_numbers(f.loss_max_history)},
          {"profile", to_json(f.profile)},
          {"line_profile", to_json(f.line_profile)}};
}

std::string summary(const CurveFit& f) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "curve fit: %s: %s\n"
                "  %s, %d rounds, %d L-BFGS iterations, |grad J|_inf = %.2e\n"
                "  integrated loss J = int L dt: %.6g -> %.6g\n"
                "  barrier above the larger end: curve %.6g (t* = %.4f), straight line %.6g\n",
                std::string(to_string(f.status)).c_str(), f.message.c_str(),
                std::string(to_string(f.curve.kind())).c_str(), f.rounds, f.iterations,
                f.gradient_max_norm, f.integrated_loss_initial, f.integrated_loss_final,
                f.profile.barriers.above_larger_end, f.profile.t_max,
                f.line_profile.barriers.above_larger_end);
  return buf + std::string("curve ") + summary(f.profile);
}

}  // namespace locus::paths
