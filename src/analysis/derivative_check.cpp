#include "locus/analysis/derivative_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <stdexcept>

#include "locus/core/random.hpp"

namespace locus::analysis {

namespace {

constexpr double k_eps = std::numeric_limits<double>::epsilon();
// Rounding of an exact derivative relative to its own size: a generous 1e3 eps covers the sums
// of a backward pass (the consistency checks bound it properly where the terms are known).
constexpr double k_exact_rounding = 1e3 * k_eps;

std::string sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3e", v);
  return buf;
}

// The largest error seen and where; a NaN error is the worst possible and sticks.
struct Worst {
  double error = 0.0;
  Index coordinate = -1, residual = -1;
  void add(double e, Index i, Index r = -1) {
    if (std::isnan(error)) return;
    if (std::isnan(e) || e > error || coordinate < 0) {
      error = e;
      coordinate = i;
      residual = r;
    }
  }
};

DerivativeComparison make(std::string name, std::string reference, const Worst& w,
                          double reference_max_abs, double tolerance, std::string rule) {
  DerivativeComparison c;
  c.name = std::move(name);
  c.reference = std::move(reference);
  c.max_error = w.error;
  c.reference_max_abs = reference_max_abs;
  c.max_relative_error = w.error == 0.0 ? 0.0 : w.error / reference_max_abs;
  c.tolerance = tolerance;
  c.tolerance_rule = std::move(rule);
  c.worst_coordinate = w.coordinate;
  c.worst_residual = w.residual;
  return c;
}

// safety * (richardson + eps^(2/3) * differenced_scale) + 1e3 eps * exact_scale, with its rule.
std::pair<double, std::string> differenced_tolerance(double safety, double richardson,
                                                     double differenced_scale, double exact_scale,
                                                     const std::string& differenced) {
  const double rounding = std::pow(k_eps, 2.0 / 3.0) * differenced_scale;
  const double tol = safety * (richardson + rounding) + k_exact_rounding * exact_scale;
  return {tol, sci(safety) + " x (truncation max|D(2h) - D(h)| = " + sci(richardson) +
                   " + rounding eps^(2/3) max|" + differenced + "| = " + sci(rounding) +
                   ") + 1e3 eps max|exact| = " + sci(k_exact_rounding * exact_scale)};
}

// k distinct coordinates of [0, n), seeded (Floyd's sampling), in increasing order.
std::vector<Index> sample_coordinates(Index n, Index k, Rng& rng) {
  std::set<Index> chosen;
  if (k >= n) {
    for (Index i = 0; i < n; ++i) chosen.insert(i);
  } else {
    for (Index j = n - k; j < n; ++j) {
      const Index t = static_cast<Index>(rng.below(static_cast<std::uint64_t>(j + 1)));
      if (!chosen.insert(t).second) chosen.insert(j);
    }
  }
  return {chosen.begin(), chosen.end()};
}

Eigen::VectorXd random_unit(Index n, Rng& rng) {
  Eigen::VectorXd v(n);
  for (Index i = 0; i < n; ++i) v[i] = rng.normal();
  return v.normalized();
}

double max_abs(const Eigen::MatrixXd& m) { return m.size() ? m.cwiseAbs().maxCoeff() : 0.0; }

DerivativeComparison compare_gradient(const FunctionProbe& f, const Eigen::VectorXd& x,
                                      const LossGradient& lg, const std::vector<Index>& coords,
                                      double safety) {
  Eigen::VectorXd y = x;
  auto central = [&](Index i, double h) {
    y[i] = x[i] + h;
    const double fp = f.loss(y);
    y[i] = x[i] - h;
    const double fm = f.loss(y);
    y[i] = x[i];
    return (fp - fm) / (2 * h);
  };
  Worst w;
  double richardson = 0.0, ref = 0.0;
  for (Index i : coords) {
    const double h = central_difference_step(x[i]);
    const double d1 = central(i, h), d2 = central(i, 2 * h);
    w.add(std::abs(d1 - lg.gradient[i]), i);
    richardson = std::max(richardson, std::abs(d2 - d1));
    ref = std::max(ref, std::abs(d1));
  }
  const auto [tol, rule] =
      differenced_tolerance(safety, richardson, std::abs(lg.loss), max_abs(lg.gradient), "f");
  return make("gradient",
              "central differences of f on " + std::to_string(coords.size()) + " coordinates", w,
              ref, tol, rule);
}

DerivativeComparison compare_hvp(const FunctionProbe& f, const Eigen::VectorXd& x, int directions,
                                 double safety, Rng& rng) {
  // One step for the whole direction: v is a unit vector spread over all coordinates.
  const double h = central_difference_step(max_abs(x));
  Worst w;
  double richardson = 0.0, ref = 0.0, g_scale = 0.0, hv_scale = 0.0;
  for (int s = 0; s < directions; ++s) {
    const Eigen::VectorXd v = random_unit(f.n_params, rng);
    const Eigen::VectorXd gp = f.loss_gradient(x + h * v).gradient;
    const Eigen::VectorXd gm = f.loss_gradient(x - h * v).gradient;
    const Eigen::VectorXd d1 = (gp - gm) / (2 * h);
    const Eigen::VectorXd d2 =
        (f.loss_gradient(x + 2 * h * v).gradient - f.loss_gradient(x - 2 * h * v).gradient) /
        (4 * h);
    const Eigen::VectorXd hv = f.hvp(x, v);
    for (Index i = 0; i < hv.size(); ++i) w.add(std::abs(d1[i] - hv[i]), i);
    richardson = std::max(richardson, max_abs(d2 - d1));
    ref = std::max(ref, max_abs(d1));
    g_scale = std::max({g_scale, max_abs(gp), max_abs(gm)});
    hv_scale = std::max(hv_scale, max_abs(hv));
  }
  const auto [tol, rule] = differenced_tolerance(safety, richardson, g_scale, hv_scale, "g");
  return make("hessian_vector_product",
              "central differences of the gradient along " + std::to_string(directions) +
                  " random unit directions",
              w, ref, tol, rule);
}

DerivativeComparison compare_jacobian(const FunctionProbe& f, const Eigen::VectorXd& x,
                                      const Eigen::MatrixXd& jac, const std::vector<Index>& coords,
                                      double safety) {
  Eigen::VectorXd y = x;
  auto central = [&](Index j, double h) {
    y[j] = x[j] + h;
    const Eigen::VectorXd rp = f.residuals(y);
    y[j] = x[j] - h;
    const Eigen::VectorXd rm = f.residuals(y);
    y[j] = x[j];
    return std::pair<Eigen::VectorXd, double>((rp - rm) / (2 * h),
                                              std::max(max_abs(rp), max_abs(rm)));
  };
  Worst w;
  double richardson = 0.0, ref = 0.0, r_scale = 0.0;
  for (Index j : coords) {
    const double h = central_difference_step(x[j]);
    const auto [d1, scale1] = central(j, h);
    const auto [d2, scale2] = central(j, 2 * h);
    for (Index k = 0; k < d1.size(); ++k) w.add(std::abs(d1[k] - jac(k, j)), j, k);
    richardson = std::max(richardson, max_abs(d2 - d1));
    ref = std::max(ref, max_abs(d1));
    r_scale = std::max(r_scale, scale1);
  }
  const auto [tol, rule] = differenced_tolerance(safety, richardson, r_scale, max_abs(jac), "r");
  return make(
      "jacobian",
      "central differences of the residuals on " + std::to_string(coords.size()) + " columns", w,
      ref, tol, rule);
}

void finish(DerivativeCheckResult& r) {
  r.passed = true;
  for (const auto& c : r.comparisons)
    if (!c.passed()) {
      r.passed = false;
      r.message = c.name + ": max error " + sci(c.max_error) + " > tolerance " + sci(c.tolerance) +
                  " at coordinate " + std::to_string(c.worst_coordinate) +
                  (c.worst_residual >= 0 ? ", residual " + std::to_string(c.worst_residual) : "");
      return;
    }
  r.message = "all " + std::to_string(r.comparisons.size()) + " comparisons within tolerance";
}

}  // namespace

void DerivativeCheckOptions::validate() const {
  if (coordinates < 1)
    throw std::invalid_argument("coordinates must be >= 1, got " + std::to_string(coordinates));
  if (directions < 0)
    throw std::invalid_argument("directions must be >= 0, got " + std::to_string(directions));
  if (!(safety_factor >= 1.0) || !std::isfinite(safety_factor))
    throw std::invalid_argument("safety_factor must be finite and >= 1, got " +
                                std::to_string(safety_factor));
  if (max_dense_hessian_params < 0)
    throw std::invalid_argument("max_dense_hessian_params must be >= 0, got " +
                                std::to_string(max_dense_hessian_params));
  if (!(max_jacobian_bytes >= 0.0))
    throw std::invalid_argument("max_jacobian_bytes must be >= 0, got " +
                                std::to_string(max_jacobian_bytes));
}

double central_difference_step(double x) { return std::cbrt(k_eps) * std::max(1.0, std::abs(x)); }

Eigen::VectorXd central_difference_gradient(const std::function<double(const Eigen::VectorXd&)>& f,
                                            const Eigen::VectorXd& x) {
  Eigen::VectorXd g(x.size());
  Eigen::VectorXd y = x;
  for (Index i = 0; i < x.size(); ++i) {
    const double h = central_difference_step(x[i]);
    y[i] = x[i] + h;
    const double fp = f(y);
    y[i] = x[i] - h;
    const double fm = f(y);
    y[i] = x[i];
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

Eigen::MatrixXd central_difference_jacobian(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x) {
  Eigen::MatrixXd jac;
  Eigen::VectorXd y = x;
  for (Index j = 0; j < x.size(); ++j) {
    const double h = central_difference_step(x[j]);
    y[j] = x[j] + h;
    const Eigen::VectorXd fp = f(y);
    y[j] = x[j] - h;
    const Eigen::VectorXd fm = f(y);
    y[j] = x[j];
    if (j == 0) jac.resize(fp.size(), x.size());
    jac.col(j) = (fp - fm) / (2 * h);
  }
  return jac;
}

DerivativeCheckResult check_function_derivatives(const FunctionProbe& f, const Eigen::VectorXd& x,
                                                 const DerivativeCheckOptions& options) {
  options.validate();
  if (x.size() != f.n_params)
    throw std::invalid_argument("x has length " + std::to_string(x.size()) + ", the function has " +
                                std::to_string(f.n_params) + " parameters");
  if (!x.allFinite()) throw std::invalid_argument("x has NaN or inf entries");
  Rng rng(options.seed);
  const std::vector<Index> coords = sample_coordinates(f.n_params, options.coordinates, rng);
  DerivativeCheckResult r;
  const LossGradient lg = f.loss_gradient(x);
  r.comparisons.push_back(compare_gradient(f, x, lg, coords, options.safety_factor));
  if (f.hvp && options.directions > 0)
    r.comparisons.push_back(compare_hvp(f, x, options.directions, options.safety_factor, rng));
  if (f.residuals && f.jacobian) {
    const Eigen::VectorXd r0 = f.residuals(x);
    if (8.0 * double(r0.size()) * double(f.n_params) <= options.max_jacobian_bytes)
      r.comparisons.push_back(compare_jacobian(f, x, f.jacobian(x), coords, options.safety_factor));
  }
  finish(r);
  return r;
}

DerivativeCheckResult check_derivatives(const Objective& obj, const Eigen::VectorXd& theta,
                                        const DerivativeCheckOptions& options,
                                        const ProgressCallback& progress) {
  options.validate();
  if (theta.size() != obj.n_params())
    throw std::invalid_argument("theta has length " + std::to_string(theta.size()) +
                                ", the model has " + std::to_string(obj.n_params()) +
                                " parameters");
  const Index n = obj.n_params(), d = obj.data().size();
  const bool squared = obj.loss_spec().kind == LossKind::squared;
  // H v at theta from one cached forward pass; the checker only asks for H v at theta.
  const HessianOperator op(obj, theta);
  FunctionProbe p;
  p.n_params = n;
  p.loss = [&](const Eigen::VectorXd& y) { return obj.loss(y); };
  p.loss_gradient = [&](const Eigen::VectorXd& y) { return obj.loss_gradient(y); };
  p.hvp = [&](const Eigen::VectorXd& y, const Eigen::VectorXd& v) {
    return y == theta ? op.apply(v) : obj.hvp(y, v);
  };
  if (squared) {
    p.residuals = [&](const Eigen::VectorXd& y) { return obj.residuals(y); };
    p.jacobian = [&](const Eigen::VectorXd& y) { return obj.jacobian(y); };
  }
  report_progress(progress, {.stage = "finite differences", .done = 0, .total = 3});
  DerivativeCheckResult r = check_function_derivatives(p, theta, options);
  const double safety = options.safety_factor;
  // A direction independent of the differenced ones (their generator has moved on).
  Rng rng(options.seed + 0x9e3779b97f4a7c15ull);
  if (n <= options.max_dense_hessian_params) {
    report_progress(progress, {.stage = "dense Hessian", .done = 1, .total = 3});
    const Eigen::MatrixXd h = obj.hessian(theta);
    const Eigen::VectorXd v = random_unit(n, rng);
    const Eigen::VectorXd a = op.apply(v), b = h * v;
    Worst w;
    for (Index i = 0; i < n; ++i) w.add(std::abs(a[i] - b[i]), i);
    // The same sums in another order: sqrt(n + d) random-walk growth of eps per absolute term.
    const double terms = (h.cwiseAbs() * v.cwiseAbs()).maxCoeff();
    const double tol = safety * k_eps * std::sqrt(double(n + d)) * terms;
    r.comparisons.push_back(
        make("hvp_vs_dense_hessian", "dense Hessian times a random unit v", w, max_abs(b), tol,
             sci(safety) + " x eps sqrt(n + d) max_i (|H| |v|)_i = " + sci(tol)));
  }
  const double m = double(obj.n_residuals());
  if (squared && 8.0 * m * double(n) <= options.max_jacobian_bytes) {
    report_progress(progress, {.stage = "2c J^T r", .done = 2, .total = 3});
    const Eigen::MatrixXd j = obj.jacobian(theta);
    const Eigen::VectorXd res = obj.residuals(theta);
    const double c2 = 2.0 * obj.scale();
    const Eigen::VectorXd g = c2 * (j.transpose() * res);
    const Eigen::VectorXd g_exact = obj.gradient(theta);
    Worst w;
    for (Index i = 0; i < n; ++i) w.add(std::abs(g_exact[i] - g[i]), i);
    const double terms = c2 * (j.cwiseAbs().transpose() * res.cwiseAbs()).maxCoeff();
    const double tol = safety * k_eps * std::sqrt(m) * terms;
    r.comparisons.push_back(
        make("gradient_vs_jacobian", "2c J^T r", w, max_abs(g), tol,
             sci(safety) + " x eps sqrt(l d) max_i (2c |J|^T |r|)_i = " + sci(tol)));
  }
  finish(r);
  return r;
}

io::Json to_json(const DerivativeCheckResult& result) {
  io::Json list = io::Json::array();
  for (const auto& c : result.comparisons)
    list.push_back({{"name", c.name},
                    {"reference", c.reference},
                    {"max_error", c.max_error},
                    {"reference_max_abs", c.reference_max_abs},
                    {"max_relative_error", c.max_relative_error},
                    {"tolerance", c.tolerance},
                    {"tolerance_rule", c.tolerance_rule},
                    {"worst_coordinate", c.worst_coordinate},
                    {"worst_residual", c.worst_residual},
                    {"passed", c.passed()}});
  return {{"passed", result.passed}, {"message", result.message}, {"comparisons", list}};
}

std::string summary(const DerivativeCheckResult& result) {
  std::string out;
  char buf[512];
  for (const auto& c : result.comparisons) {
    std::snprintf(buf, sizeof buf, "%-23s max error %.3e %s tolerance %.3e  (%s: %s)\n",
                  c.name.c_str(), c.max_error, c.passed() ? "<=" : "> ", c.tolerance,
                  c.passed() ? "holds" : "FAILS", c.reference.c_str());
    out += buf;
  }
  return out;
}

}  // namespace locus::analysis
