#pragma once
// Derivative checker (in the spirit of Ceres' GradientChecker): compares a function's exact
// derivatives with central finite differences, each with a tolerance derived from eps and the
// function's own scale, and says which entry disagrees most.
//
//   struct Rosenbrock { ... };                           // models DifferentiableFunction
//   const auto r = locus::analysis::check_derivatives(Rosenbrock{}, x, {.seed = 1});
//   if (!r.passed) std::cerr << locus::analysis::summary(r);   // worst entry, error, tolerance
//
//   locus::Objective obj(model, data);                    // an MLP loss: all five comparisons
//   const auto c = locus::analysis::check_derivatives(obj, theta);
//
// What is compared (eps = 2^-52, h_i = eps^(1/3) max(1, |x_i|)):
//   gradient               g_i vs D_i(h) = (f(x + h_i e_i) - f(x - h_i e_i)) / 2h_i on a seeded
//                          sample of coordinates;
//   hessian_vector_product H v vs (g(x + h v) - g(x - h v)) / 2h along random unit v
//                          (h = eps^(1/3) max(1, |x|_inf)), for TwiceDifferentiableFunction;
//   jacobian               column j of J vs (r(x + h_j e_j) - r(x - h_j e_j)) / 2h_j on sampled
//                          columns, for LeastSquaresProblem;
// and, for an Objective, two consistency checks that involve no differencing:
//   hvp_vs_dense_hessian   H v from the R-operator vs the dense Hessian times v;
//   gradient_vs_jacobian   (squared loss) g vs 2c J^T r.
// Tolerances. h ~ eps^(1/3) balances truncation (h^2 f'''/6) against rounding (eps |f| / h), so
// a difference is accurate to ~eps^(2/3) relative. The truncation term is measured, not assumed:
// D(2h) - D(h) = 3x the h^2 term of D(h) plus rounding noise (Richardson). The tolerance of a
// differenced quantity is safety * (max |D(2h) - D(h)| + eps^(2/3) * scale of the differenced
// values) + 1e3 eps * scale of the exact values; for the consistency checks it is
// safety * eps * sqrt(terms summed) * (the sum of absolute terms), the random-walk bound on the
// rounding of two orders of summation. Each comparison carries its tolerance and the rule that
// made it. H v is differenced from the supplied gradient, so a wrong gradient also fails the H v
// comparison: the result's message names the first failure, which is the one to fix first.
// Non-smooth functions (relu at a kink) show up as a large Richardson term, i.e. a large
// tolerance, rather than as a failure: read the tolerance, not only the verdict.

#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/core/problem.hpp"
#include "locus/core/progress.hpp"
#include "locus/io/json.hpp"

namespace locus::analysis {

struct DerivativeCheckOptions {
  // Gradient entries and Jacobian columns compared: a seeded sample of this many coordinates
  // (all of them when n <= coordinates). Cost: 4 evaluations of f (or r) per coordinate.
  Index coordinates = 50;
  // Random unit directions v for the H v comparison (0: skip it). Cost: 4 gradients each.
  int directions = 3;
  std::uint64_t seed = 0;  // seeds the coordinate sample and the directions
  // Multiplies every error estimate in a tolerance (room for the estimates being estimates).
  double safety_factor = 10.0;
  // Objective only: the dense Hessian (n HVPs, 8 n^2 bytes) is formed up to this many parameters.
  Index max_dense_hessian_params = 5000;
  // The residual Jacobian (8 m n bytes) is formed only up to this size.
  double max_jacobian_bytes = 2e9;

  // Throws std::invalid_argument naming the field: coordinates < 1, directions < 0,
  // safety_factor < 1 or not finite, max_dense_hessian_params < 0, max_jacobian_bytes < 0.
  void validate() const;
};

// One exact quantity against its reference.
struct DerivativeComparison {
  std::string name;        // gradient | hessian_vector_product | jacobian | hvp_vs_dense_hessian |
                           // gradient_vs_jacobian
  std::string reference;   // what the exact value was compared with, in words
  double max_error = 0.0;  // max over compared entries of |exact - reference|
  double reference_max_abs = 0.0;   // max |reference| over the same entries (the scale)
  double max_relative_error = 0.0;  // max_error / reference_max_abs (0 when both are 0)
  double tolerance = 0.0;           // the bound max_error must meet (absolute)
  std::string tolerance_rule;       // how the tolerance was formed, with its terms' values
  Index worst_coordinate = -1;      // parameter index of the worst entry (gradient: i; H v:
                                    // component i; Jacobian: column j)
  Index worst_residual = -1;        // Jacobian comparisons: residual (row) index; else -1
  // True when max_error <= tolerance (false when either is NaN).
  bool passed() const { return max_error <= tolerance; }
};

// passed is true when every comparison passed; message names the first failure (or says all
// held). comparisons are in the order listed at the top of this header.
struct DerivativeCheckResult {
  bool passed = false;
  std::string message;
  std::vector<DerivativeComparison> comparisons;
};

// {"passed", "message", "comparisons": [{name, reference, max_error, reference_max_abs,
// max_relative_error, tolerance, tolerance_rule, worst_coordinate, worst_residual, passed}]}.
io::Json to_json(const DerivativeCheckResult& result);
// One line per comparison: "gradient  max error 1.2e-10 <= tolerance 3.4e-09  (holds: ...)".
std::string summary(const DerivativeCheckResult& result);

// A function seen through std::function: what check_derivatives needs from any model of the
// problem.hpp concepts. Empty hvp / residuals mean "not available" (that comparison is skipped).
struct FunctionProbe {
  Index n_params = 0;
  std::function<double(const Eigen::VectorXd&)> loss;
  std::function<LossGradient(const Eigen::VectorXd&)> loss_gradient;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&, const Eigen::VectorXd&)> hvp;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> residuals;
  std::function<Eigen::MatrixXd(const Eigen::VectorXd&)> jacobian;
};

// The differenced comparisons (gradient, H v, Jacobian) of f at x. Throws std::invalid_argument
// when x.size() != f.n_params, x is not finite, or the options are invalid. Non-finite values of
// f on the stencil are an outcome, not an error: the comparison fails with error NaN.
// Cost: 4 (coordinates + 1) losses, 4 directions + 1 gradients, 4 coordinates residual vectors.
DerivativeCheckResult check_function_derivatives(const FunctionProbe& f, const Eigen::VectorXd& x,
                                                 const DerivativeCheckOptions& options = {});

// Any DifferentiableFunction (H v and Jacobian are compared when the type provides them).
template <DifferentiableFunction F>
DerivativeCheckResult check_derivatives(const F& f, const Eigen::VectorXd& x,
                                        const DerivativeCheckOptions& options = {}) {
  FunctionProbe p;
  p.n_params = static_cast<Index>(f.n_params());
  p.loss = [&f](const Eigen::VectorXd& y) { return static_cast<double>(f.loss(y)); };
  p.loss_gradient = [&f](const Eigen::VectorXd& y) {
    const auto lg = f.loss_gradient(y);
    return LossGradient{static_cast<double>(lg.loss), Eigen::VectorXd(lg.gradient)};
  };
  if constexpr (TwiceDifferentiableFunction<F>)
    p.hvp = [&f](const Eigen::VectorXd& y, const Eigen::VectorXd& v) {
      return Eigen::VectorXd(f.hvp(y, v));
    };
  if constexpr (LeastSquaresProblem<F>) {
    p.residuals = [&f](const Eigen::VectorXd& y) { return Eigen::VectorXd(f.residuals(y)); };
    p.jacobian = [&f](const Eigen::VectorXd& y) { return Eigen::MatrixXd(f.jacobian(y)); };
  }
  return check_function_derivatives(p, x, options);
}

// An MLP loss: the differenced comparisons (H v from a HessianOperator; the Jacobian for the
// squared loss) plus hvp_vs_dense_hessian (n <= max_dense_hessian_params) and, for the squared
// loss, gradient_vs_jacobian. Throws std::invalid_argument for a theta of the wrong length.
// progress gets a stage line as each of the three parts starts (done = parts finished of 3):
// the differenced comparisons, the dense Hessian, 2c J^T r.
DerivativeCheckResult check_derivatives(const Objective& objective, const Eigen::VectorXd& theta,
                                        const DerivativeCheckOptions& options = {},
                                        const ProgressCallback& progress = {});

// Building blocks, also used by the tests as independent references.
// The central-difference step for a coordinate of value x: h = eps^(1/3) max(1, |x|).
double central_difference_step(double x);
// g_i ~ (f(x + h_i e_i) - f(x - h_i e_i)) / 2h_i for every i. Cost: 2n evaluations of f.
Eigen::VectorXd central_difference_gradient(const std::function<double(const Eigen::VectorXd&)>& f,
                                            const Eigen::VectorXd& x);
// Column j ~ (F(x + h_j e_j) - F(x - h_j e_j)) / 2h_j for a vector function F. Cost: 2n calls.
Eigen::MatrixXd central_difference_jacobian(
    const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const Eigen::VectorXd& x);

}  // namespace locus::analysis
