#include "locus/solvers/first_order.hpp"

#include <cmath>
#include <numeric>
#include <span>
#include <stdexcept>
#include <vector>

#include "locus/core/random.hpp"
#include "monitor.hpp"

namespace locus::solvers {

using detail::format_number;
using detail::max_norm;
using Eigen::VectorXd;

namespace {

void check_rate(const char* owner, double learning_rate, double momentum) {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    throw std::invalid_argument(std::string(owner) + ".learning_rate must be finite and > 0, got " +
                                format_number(learning_rate));
  if (!(momentum >= 0 && momentum < 1))
    throw std::invalid_argument(std::string(owner) + ".momentum must be in [0, 1), got " +
                                format_number(momentum));
}

std::string non_finite_message(int iteration) {
  return "the loss or gradient became non-finite at iteration " + std::to_string(iteration) +
         " (the step is too large for the curvature); x is the last finite iterate";
}

// One full-batch step of GD or Adam: moves x by `step` when the loss, the gradient and x itself
// stay finite there, and records iteration `iteration`. Returns true when the run must stop
// (non-finite: x stays the last finite iterate; otherwise the monitor's tests fired).
bool take_step(FunctionRef objective, VectorXd& x, const VectorXd& step, LossGradient& lg,
               detail::Monitor& mon, int iteration, double step_size) {
  const VectorXd x_next = x + step;
  LossGradient next = objective.loss_gradient(x_next);
  ++mon.counts().gradient;
  if (!std::isfinite(next.loss) || !detail::all_finite(next.gradient) ||
      !detail::all_finite(x_next)) {
    mon.stop_with(Status::non_finite, non_finite_message(iteration));
    return true;
  }
  x = x_next;
  lg = std::move(next);
  IterationRecord rec;
  rec.step_norm = step.norm();
  rec.step_size = step_size;
  return mon.after_iteration(iteration, x, lg.loss, max_norm(lg.gradient), rec);
}

}  // namespace

void GradientDescentOptions::validate() const {
  stop.validate("GradientDescentOptions.stop");
  check_rate("GradientDescentOptions", learning_rate, momentum);
}

void SgdOptions::validate() const {
  stop.validate("SgdOptions.stop");
  check_rate("SgdOptions", learning_rate, momentum);
  if (batch_size < 1)
    throw std::invalid_argument("SgdOptions.batch_size must be >= 1, got " +
                                std::to_string(batch_size));
}

void AdamOptions::validate() const {
  stop.validate("AdamOptions.stop");
  check_rate("AdamOptions", learning_rate, 0.0);
  if (!(beta1 >= 0 && beta1 < 1))
    throw std::invalid_argument("AdamOptions.beta1 must be in [0, 1), got " + format_number(beta1));
  if (!(beta2 >= 0 && beta2 < 1))
    throw std::invalid_argument("AdamOptions.beta2 must be in [0, 1), got " + format_number(beta2));
  if (!(epsilon > 0) || !std::isfinite(epsilon))
    throw std::invalid_argument("AdamOptions.epsilon must be finite and > 0, got " +
                                format_number(epsilon));
}

SolveResult solve_gradient_descent(FunctionRef objective, VectorXd x,
                                   const GradientDescentOptions& options,
                                   const IterationCallback& callback) {
  options.validate();
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("gd", options.stop, options.record_trace, callback);
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();
  VectorXd velocity = VectorXd::Zero(x.size());
  for (int it = 1;; ++it) {
    velocity = options.momentum * velocity - options.learning_rate * lg.gradient;
    if (take_step(objective, x, velocity, lg, mon, it, options.learning_rate)) break;
  }
  return mon.finish();
}

SolveResult solve_sgd(FunctionRef objective, VectorXd x, const SgdOptions& options,
                      const IterationCallback& callback) {
  options.validate();
  objective.require_terms("SGD");
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("sgd", options.stop, options.record_trace, callback);
  EvaluationCounts& counts = mon.counts();
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();

  const Index d = objective.n_terms();
  const Index batch = std::min<Index>(options.batch_size, d);
  std::vector<Index> order;
  VectorXd velocity = VectorXd::Zero(x.size());
  for (int epoch = 1;; ++epoch) {
    // A fresh generator per epoch, seeded from (seed, epoch): epochs are reproducible on their own.
    order = Rng(options.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(epoch))
                .permutation(d);
    double moved = 0.0;
    bool finite = true;
    VectorXd x_epoch_start = x;
    for (Index start = 0; start < d && finite; start += batch) {
      const Index b = std::min(batch, d - start);
      // The batch's terms are evaluated in place by the function (for an MLP loss: its own data,
      // indexed); d / b turns the sum over b terms into an unbiased estimate of the sum over d.
      const std::span<const Index> terms(order.data() + start, static_cast<size_t>(b));
      const double weight = static_cast<double>(d) / static_cast<double>(b);
      const VectorXd g = weight * objective.loss_gradient_terms(x, terms).gradient;
      ++counts.gradient;
      if (!detail::all_finite(g)) {
        finite = false;
        break;
      }
      velocity = options.momentum * velocity - options.learning_rate * g;
      x += velocity;
    }
    moved = (x - x_epoch_start).norm();
    LossGradient next;
    if (finite && detail::all_finite(x)) {
      next = objective.loss_gradient(x);
      ++counts.gradient;
      finite = std::isfinite(next.loss) && detail::all_finite(next.gradient);
    }
    if (!finite) {
      mon.stop_with(Status::non_finite, "the loss or gradient became non-finite during epoch " +
                                            std::to_string(epoch) +
                                            " (the step is too large for the curvature); x is "
                                            "the iterate at the start of that epoch");
      break;
    }
    lg = std::move(next);
    IterationRecord rec;
    rec.step_norm = moved;
    rec.step_size = options.learning_rate;
    if (mon.after_iteration(epoch, x, lg.loss, max_norm(lg.gradient), rec)) break;
  }
  return mon.finish();
}

SolveResult solve_adam(FunctionRef objective, VectorXd x, const AdamOptions& options,
                       const IterationCallback& callback) {
  options.validate();
  objective.check_parameters(x, "theta0");
  detail::Monitor mon("adam", options.stop, options.record_trace, callback);
  LossGradient lg = mon.start(objective, x);
  if (mon.stopped()) return mon.finish();
  VectorXd m = VectorXd::Zero(x.size()), v = VectorXd::Zero(x.size());
  double beta1_power = 1.0, beta2_power = 1.0;
  for (int it = 1;; ++it) {
    m = options.beta1 * m + (1.0 - options.beta1) * lg.gradient;
    v = options.beta2 * v + (1.0 - options.beta2) * lg.gradient.cwiseAbs2();
    beta1_power *= options.beta1;
    beta2_power *= options.beta2;
    const VectorXd m_hat = m / (1.0 - beta1_power);
    const VectorXd v_hat = v / (1.0 - beta2_power);
    const VectorXd step =
        -options.learning_rate *
        m_hat.cwiseQuotient((v_hat.cwiseSqrt().array() + options.epsilon).matrix());
    if (take_step(objective, x, step, lg, mon, it, options.learning_rate)) break;
  }
  return mon.finish();
}

}  // namespace locus::solvers
