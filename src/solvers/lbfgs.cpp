#include "locus/solvers/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>
#include <vector>

#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using Eigen::VectorXd;

void LbfgsOptions::validate() const {
  stop.validate("LbfgsOptions.stop");
  if (history < 1)
    throw std::invalid_argument("LbfgsOptions.history must be >= 1, got " +
                                std::to_string(history));
  if (!(wolfe_c1 > 0 && wolfe_c1 < wolfe_c2 && wolfe_c2 < 1))
    throw std::invalid_argument(
        "LbfgsOptions.wolfe_c1 and wolfe_c2 must satisfy 0 < c1 < c2 < 1, "
        "got c1 = " +
        format_number(wolfe_c1) + ", c2 = " + format_number(wolfe_c2));
  if (max_line_search_evaluations < 1)
    throw std::invalid_argument("LbfgsOptions.max_line_search_evaluations must be >= 1, got " +
                                std::to_string(max_line_search_evaluations));
}

namespace {

// Minimiser of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi]
// (Nocedal & Wright eq. 3.59); the midpoint of [lo, hi] when the cubic has no minimiser.
double cubic_minimizer(double x1, double f1, double g1, double x2, double f2, double g2, double lo,
                       double hi) {
  const double d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0 && std::isfinite(d2_square)) {
    const double d2 = std::copysign(std::sqrt(d2_square), x2 - x1);
    const double t = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2));
    if (std::isfinite(t)) return std::clamp(t, lo, hi);
  }
  return 0.5 * (lo + hi);
}

struct LinePoint {
  double alpha = 0.0, loss = NAN, slope = NAN;  // slope = g(x + alpha d) . d
  VectorXd gradient;
};

struct LineSearchResult {
  LinePoint point;
  bool wolfe = false;     // strong Wolfe conditions hold at point
  bool decrease = false;  // point.loss < loss at alpha = 0
};

// Strong-Wolfe line search: bracketing by cubic extrapolation, then zoom by safeguarded cubic
// interpolation (Nocedal & Wright Alg. 3.5 / 3.6; the safeguards follow minFunc / PyTorch).
LineSearchResult strong_wolfe(FunctionRef objective, const VectorXd& x, const VectorXd& d,
                              const LinePoint& start, double alpha, const LbfgsOptions& o,
                              EvaluationCounts& counts) {
  const double f0 = start.loss, gtd0 = start.slope;
  auto evaluate = [&](double a) {
    LinePoint p;
    p.alpha = a;
    LossGradient lg = objective.loss_gradient(x + a * d);
    ++counts.gradient;
    p.loss = lg.loss;
    p.gradient = std::move(lg.gradient);
    p.slope = p.gradient.dot(d);
    return p;
  };
  auto armijo_fails = [&](const LinePoint& p) {
    return !std::isfinite(p.loss) || p.loss > f0 + o.wolfe_c1 * p.alpha * gtd0;
  };
  auto curvature_holds = [&](const LinePoint& p) {
    return std::abs(p.slope) <= -o.wolfe_c2 * gtd0;
  };
  LineSearchResult best;
  best.point = start;
  auto consider = [&](const LinePoint& p) {
    if (std::isfinite(p.loss) && detail::all_finite(p.gradient) && p.loss < best.point.loss) {
      best.point = p;
      best.decrease = true;
    }
  };

  int evals = 0;
  LinePoint prev = start, lo, hi;
  bool bracketed = false;
  while (evals < o.max_line_search_evaluations) {
    LinePoint cur = evaluate(alpha);
    ++evals;
    if (armijo_fails(cur) || (evals > 1 && cur.loss >= prev.loss)) {
      lo = prev;
      hi = cur;
      bracketed = true;
      break;
    }
    consider(cur);
    if (curvature_holds(cur)) {
      best.point = cur;
      best.wolfe = true;
      best.decrease = cur.loss < f0;
      return best;
    }
    if (cur.slope >= 0) {
      lo = cur;
      hi = prev;
      bracketed = true;
      break;
    }
    // Extrapolate: between 1.01 and 10 times the current step.
    const double next =
        cubic_minimizer(prev.alpha, prev.loss, prev.slope, cur.alpha, cur.loss, cur.slope,
                        cur.alpha + 0.01 * (cur.alpha - prev.alpha), 10.0 * cur.alpha);
    prev = cur;
    alpha = next;
  }
  if (!bracketed) return best;

  // Zoom: lo always satisfies sufficient decrease and has the lower loss of the two ends.
  bool insufficient_progress = false;
  while (evals < o.max_line_search_evaluations) {
    const double width = std::abs(hi.alpha - lo.alpha);
    if (width * d.norm() <= std::numeric_limits<double>::epsilon() * (1.0 + x.norm())) break;
    const double a_min = std::min(lo.alpha, hi.alpha), a_max = std::max(lo.alpha, hi.alpha);
    // Bisect towards a non-finite end; interpolate otherwise.
    double a = std::isfinite(hi.loss) && std::isfinite(hi.slope)
                   ? cubic_minimizer(lo.alpha, lo.loss, lo.slope, hi.alpha, hi.loss, hi.slope,
                                     a_min, a_max)
                   : 0.5 * (a_min + a_max);
    // Safeguard: stay at least 10% of the bracket away from its ends (after one near miss).
    const double margin = 0.1 * (a_max - a_min);
    if (std::min(a_max - a, a - a_min) < margin) {
      if (insufficient_progress || a >= a_max || a <= a_min) {
        a = std::abs(a - a_max) < std::abs(a - a_min) ? a_max - margin : a_min + margin;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    LinePoint cur = evaluate(a);
    ++evals;
    if (armijo_fails(cur) || cur.loss >= lo.loss) {
      hi = cur;
    } else {
      consider(cur);
      if (curvature_holds(cur)) {
        best.point = cur;
        best.wolfe = true;
        best.decrease = true;
        return best;
      }
      if (cur.slope * (hi.alpha - lo.alpha) >= 0) hi = lo;
      lo = cur;
    }
  }
  return best;
}

}  // namespace

SolveResult solve_lbfgs(FunctionRef objective, VectorXd x, const LbfgsOptions& options,
                        const IterationCallback& callback) {
  options.validate();
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("lbfgs", options.stop, options.record_trace, callback);
  EvaluationCounts& counts = mon.counts();
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();

  std::deque<VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  for (int it = 1;; ++it) {
    const VectorXd& g = lg.gradient;
    // Two-loop recursion: d = -H_k g with H_0 = (s.y / y.y) I.
    VectorXd q = g;
    std::vector<double> a(s_hist.size());
    for (size_t i = s_hist.size(); i-- > 0;) {
      a[i] = rho_hist[i] * s_hist[i].dot(q);
      q -= a[i] * y_hist[i];
    }
    if (!s_hist.empty()) q *= s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    for (size_t i = 0; i < s_hist.size(); ++i) {
      const double b = rho_hist[i] * y_hist[i].dot(q);
      q += (a[i] - b) * s_hist[i];
    }
    VectorXd d = -q;
    double gtd = g.dot(d);
    if (!(gtd < 0)) {  // not a descent direction (round-off): restart from steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      d = -g;
      gtd = -g.squaredNorm();
    }
    // First step of a (re)started memory: alpha = min(1, 1/|g|_1), as PyTorch's L-BFGS.
    const double alpha0 = s_hist.empty() ? std::min(1.0, 1.0 / g.lpNorm<1>()) : 1.0;
    LinePoint start;
    start.loss = lg.loss;
    start.slope = gtd;
    start.gradient = g;
    LineSearchResult ls = strong_wolfe(objective, x, d, start, alpha0, options, counts);
    if (!ls.decrease && !s_hist.empty()) {
      // A stale curvature memory can point along a useless direction: restart once from
      // steepest descent before giving up.
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      d = -g;
      start.slope = -g.squaredNorm();
      ls =
          strong_wolfe(objective, x, d, start, std::min(1.0, 1.0 / g.lpNorm<1>()), options, counts);
    }
    if (!ls.decrease) {
      mon.stop_with(Status::line_search_failed,
                    "no step along the L-BFGS or the steepest-descent direction decreased the "
                    "loss in " +
                        std::to_string(options.max_line_search_evaluations) +
                        " evaluations each (loss = " + format_number(lg.loss) +
                        ", |g|∞ = " + format_number(max_norm(g)) +
                        "; the round-off floor, or a "
                        "non-smooth loss)");
      break;
    }
    const VectorXd s = ls.point.alpha * d;
    const VectorXd y = ls.point.gradient - g;
    const double sy = s.dot(y);
    // Keep the pair only with positive curvature (guaranteed by Wolfe, not by a fallback step).
    if (sy > std::numeric_limits<double>::epsilon() * s.norm() * y.norm()) {
      s_hist.push_back(s);
      y_hist.push_back(y);
      rho_hist.push_back(1.0 / sy);
      if (static_cast<int>(s_hist.size()) > options.history) {
        s_hist.pop_front();
        y_hist.pop_front();
        rho_hist.pop_front();
      }
    }
    x += s;
    lg.loss = ls.point.loss;
    lg.gradient = ls.point.gradient;
    IterationRecord rec;
    rec.step_norm = s.norm();
    rec.step_size = ls.point.alpha;
    if (mon.after_iteration(it, x, lg.loss, max_norm(lg.gradient), rec)) break;
  }
  return mon.finish();
}

}  // namespace locus::solvers
