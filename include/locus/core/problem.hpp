#pragma once
// The problem interface: what locus's algorithms need from a function, stated as C++20 concepts.
// Solvers and spectral routines accept any type that models them: an MLP loss (Objective), a
// test function (Rosenbrock), the energy of a nudged elastic band, a curve objective, a Python
// callable behind a binding.
//
//   struct Rosenbrock {                                   // f(x) = (1 - x0)^2 + 100 (x1 - x0^2)^2
//     Eigen::Index n_params() const { return 2; }
//     double loss(const Eigen::VectorXd& x) const;
//     locus::LossGradient loss_gradient(const Eigen::VectorXd& x) const;
//   };
//   static_assert(locus::DifferentiableFunction<Rosenbrock>);
//
// Every member is const: evaluating a function never changes it, so one instance may be shared
// by threads and by the stages of a pipeline. A model owns (or references) its data; the
// algorithms never copy them.

#include <Eigen/Core>
#include <cmath>
#include <concepts>

namespace locus {

// f(x) and grad f(x), computed together (one forward and one backward pass for an MLP loss).
struct LossGradient {
  double loss = NAN;
  Eigen::VectorXd gradient;
};

// f : R^n -> R, once differentiable: n_params() = n, loss(x) = f(x), loss_gradient(x) = (f, grad f).
template <class F>
concept DifferentiableFunction = requires(const F& f, const Eigen::VectorXd& x) {
  { f.n_params() } -> std::convertible_to<Eigen::Index>;
  { f.loss(x) } -> std::convertible_to<double>;
  { f.loss_gradient(x).loss } -> std::convertible_to<double>;
  { f.loss_gradient(x).gradient } -> std::convertible_to<Eigen::VectorXd>;
};

// Adds the exact Hessian-vector product hvp(x, v) = grad^2 f(x) v.
template <class F>
concept TwiceDifferentiableFunction =
    DifferentiableFunction<F> && requires(const F& f, const Eigen::VectorXd& x) {
      { f.hvp(x, x) } -> std::convertible_to<Eigen::VectorXd>;
    };

// f(x) = sum_k r_k(x)^2 with residuals r : R^n -> R^m: adds n_residuals() = m, residuals(x) = r(x)
// and jacobian(x) = dr/dx (m x n). grad f = 2 J^T r; 2 J^T J is the Gauss-Newton matrix.
template <class F>
concept LeastSquaresProblem =
    DifferentiableFunction<F> && requires(const F& f, const Eigen::VectorXd& x) {
      { f.n_residuals() } -> std::convertible_to<Eigen::Index>;
      { f.residuals(x) } -> std::convertible_to<Eigen::VectorXd>;
      { f.jacobian(x) } -> std::convertible_to<Eigen::MatrixXd>;
    };

// A symmetric linear operator y = A v on R^n, matrix-free: Spectra's OpType (rows, cols,
// perform_op on raw arrays of length rows()). HessianOperator models it.
template <class Op>
concept SymmetricOperator = requires(const Op& op, const double* v, double* y) {
  requires std::same_as<typename Op::Scalar, double>;
  { op.rows() } -> std::convertible_to<Eigen::Index>;
  { op.cols() } -> std::convertible_to<Eigen::Index>;
  op.perform_op(v, y);
};

}  // namespace locus
