#include "locus/analysis/trace.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "operators.hpp"
#include "testing/tolerances.hpp"

namespace locus::analysis {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using testing::k_eps;

// Hutchinson and Hutch++ on a loss Hessian against the exact trace (3 standard errors, plus a
// relative 1e-9 for the round-off of the HVPs against the dense Hessian).
TEST(Trace, HessianEstimatesMatchExactTrace) {
  const Mlp model({.widths = {4, 20, 1}, .activation = Activation::tanh});
  const Dataset data = gaussian_data(30, 4, 1, 6);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const Objective obj(model, data);
  const double tr = obj.hessian(theta).trace();
  const TraceEstimate hu = hutchinson_trace(obj, theta, 60, 1);
  EXPECT_EQ(hu.matvecs, 60);
  EXPECT_NEAR(hu.value, tr, 3 * hu.standard_error + 1e-9 * std::abs(tr));
  const TraceEstimate hpp = hutchpp_trace(obj, theta, 90, 1);
  EXPECT_EQ(hpp.matvecs, 90);
  EXPECT_NEAR(hpp.value, tr, 3 * hpp.standard_error + 1e-9 * std::abs(tr));
  EXPECT_THROW(hutchinson_trace(obj, theta, 1, 0), std::invalid_argument);
  EXPECT_THROW(hutchpp_trace(obj, theta, 5, 0), std::invalid_argument);
}

// On operators that are not Hessians. Hutch++ with matvecs >= 3 n sketches the whole space (Q is
// n x n orthogonal), so it returns tr(Q^T A Q) = tr(A) exactly up to round-off: n terms
// q^T A q, each within ~ n eps |A| (the constant 10 as in the spectrum tests). Hutchinson is a
// random estimate: 3 standard errors plus the same round-off.
TEST(Trace, NonHessianOperators) {
  for (Index n : {Index(10), Index(100)}) {
    const testing::TridiagonalOperator t{.n = n, .a = 0.5, .b = -1.0};
    const testing::DiagonalPlusLowRank d(n, 3);
    for (const MatrixXd& a : {t.dense(), d.dense()}) {
      SCOPED_TRACE(n);
      const double norm = a.operatorNorm();
      const double round_off = 10.0 * double(n) * double(n) * k_eps * norm;
      const double tr = a.trace();
      // The same matrix as an operator, through the type-erased view.
      struct Dense {
        using Scalar = double;
        const MatrixXd* m;
        Index rows() const { return m->rows(); }
        Index cols() const { return m->cols(); }
        void perform_op(const double* v, double* y) const {
          Eigen::Map<VectorXd>(y, m->rows()) = *m * Eigen::Map<const VectorXd>(v, m->cols());
        }
      } op{&a};
      if (n == 10) {
        const TraceEstimate exact = hutchpp_trace(op, int(3 * n), 5);
        EXPECT_NEAR(exact.value, tr, round_off);
      }
      const TraceEstimate hu = hutchinson_trace(op, 200, 5);
      EXPECT_NEAR(hu.value, tr, 3 * hu.standard_error + round_off);
      const TraceEstimate hpp = hutchpp_trace(op, 60, 5);
      EXPECT_NEAR(hpp.value, tr, 3 * hpp.standard_error + round_off);
    }
  }
  // And a matrix-free operator passed directly.
  const testing::TridiagonalOperator t{.n = 10, .a = 0.5, .b = -1.0};
  EXPECT_NEAR(hutchpp_trace(t, 30, 1).value, 5.0, 10.0 * 100 * k_eps * 2.5);
}

}  // namespace
}  // namespace locus::analysis
