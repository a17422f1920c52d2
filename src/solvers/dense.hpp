#pragma once
// Private dense linear algebra for the solvers, on LAPACK (OpenBLAS): blocked and threaded,
// several times faster than Eigen's own LLT / SelfAdjointEigenSolver at n ~ 10^3.

#include <Eigen/Core>

#include "locus/core/problem.hpp"

namespace locus::solvers::detail {

// Cholesky factorisation A = L L^T of a symmetric matrix (lower triangle read), in place
// (dpotrf). Returns false when A is not (numerically) positive definite.
bool cholesky_in_place(Eigen::MatrixXd& a);
// Solves L L^T x = b with the factor from cholesky_in_place: two triangular solves, O(n^2).
Eigen::VectorXd cholesky_solve(const Eigen::MatrixXd& factor, const Eigen::VectorXd& b);
// The same, overwriting b with x (no allocation).
void cholesky_solve_in_place(const Eigen::MatrixXd& factor, Eigen::VectorXd& b);

// J J^T (wide = true) or J^T J, both triangles filled. Cost O(m n min(m, n)).
Eigen::MatrixXd gram_matrix(const Eigen::MatrixXd& j, bool wide);
// The same into a, which is resized only when its size differs (an iteration that reuses a
// allocates nothing).
void gram_matrix(const Eigen::MatrixXd& j, bool wide, Eigen::MatrixXd& a);
// The same for j = f.jacobian(x), but J J^T from f.residual_gram(x) when wide and the model has
// one (an MLP loss: sum over layers of small Grams, [10,200,1] on 500 points ~6x fewer
// multiply-adds than J J^T).
void gram_matrix(FunctionRef f, const Eigen::VectorXd& x, const Eigen::MatrixXd& j, bool wide,
                 Eigen::MatrixXd& a);

// The damped Gauss-Newton step p = -(J^T J + lambda I)^{-1} J^T b from the Cholesky factor
// (cholesky_in_place) of the smaller system: when wide, factor = chol(J J^T + lambda I) and
// p = -J^T (J J^T + lambda I)^{-1} b (the push-through identity: the same p, the minimum-norm one
// as lambda -> 0); else factor = chol(J^T J + lambda I). work (length min(m, n)) holds the
// intermediate; p and work are resized only when their sizes differ. O(m n + min(m, n)^2).
void gauss_newton_step(const Eigen::MatrixXd& jac, const Eigen::MatrixXd& factor, bool wide,
                       const Eigen::VectorXd& b, Eigen::VectorXd& work, Eigen::VectorXd& p);
// Whether f's Gauss-Newton steps can go without J: a wide problem (fewer residuals than
// parameters) whose model forms J J^T itself and has J v and J^T u (an MLP loss). Then the step
// is J^T w and predictions J v, passes of the network, O(d n) each, where J alone is m n doubles.
bool gauss_newton_matrix_free(FunctionRef f);
// The wide step of gauss_newton_step without J: factor = chol(J J^T + lambda I) (from
// f.residual_gram), p = -f.jacobian_transpose_product(x, (J J^T + lambda I)^{-1} b).
void gauss_newton_step(FunctionRef f, const Eigen::VectorXd& x, const Eigen::MatrixXd& factor,
                       const Eigen::VectorXd& b, Eigen::VectorXd& work, Eigen::VectorXd& p);
// (The symmetric eigensolver is linalg::symmetric_eigen, src/linalg/eigen.hpp.)

}  // namespace locus::solvers::detail
