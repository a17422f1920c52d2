// Acceptance 3: critical-point mode converges to a saddle from near one and reports its index.
// The saddle is built as in Fukumizu & Amari (2000): a minimum of a [2, 2, 1] network, with one
// hidden neuron duplicated (equal incoming weights, output weight a split into a/2 + a/2), is a
// critical point of the [2, 3, 1] network with the same loss; it lies on a line of such points.

#include "locus/solvers/critical_point.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "locus/core/random.hpp"
#include "locus/solvers/levenberg_marquardt.hpp"
#include "locus/solvers/newton.hpp"
#include "problems.hpp"
#include "testing/dense_references.hpp"

namespace locus::solvers {
namespace {

// theta of the [p, h + 1, 1] network that duplicates hidden neuron j of the [p, h, 1] network.
Eigen::VectorXd split_neuron(const Mlp& narrow, const Eigen::VectorXd& theta, const Mlp& wide,
                             Index j) {
  const Index p = narrow.input_dim(), h = narrow.layer(0).out;
  const auto w1 = narrow.weight(theta, 0);
  const auto b1 = narrow.bias(theta, 0);
  const auto w2 = narrow.weight(theta, 1);
  Eigen::VectorXd out(wide.n_params());
  const LayerSlice& l0 = wide.layer(0);
  const LayerSlice& l1 = wide.layer(1);
  for (Index o = 0; o <= h; ++o) {
    const Index src = o < h ? o : j;
    for (Index i = 0; i < p; ++i) out[l0.weight_offset + o * p + i] = w1(src, i);
    out[l0.bias_offset + o] = b1[src];
    out[l1.weight_offset + o] = (o == j || o == h) ? 0.5 * w2(0, src) : w2(0, src);
  }
  out[l1.bias_offset] = narrow.bias(theta, 1)[0];
  return out;
}

// Independent reference for the inertia: Eigen's dense solver on the same Hessian and the same
// rule (|lambda| <= factor * n * eps * max|lambda| is zero).
int negative_eigenvalues(const Objective& obj, const Eigen::VectorXd& x, double factor) {
  const Eigen::VectorXd ev = testing::symmetric_eigenvalues(obj.hessian(x));
  const double tol = factor * double(ev.size()) * std::numeric_limits<double>::epsilon() *
                     ev.cwiseAbs().maxCoeff();
  return static_cast<int>((ev.array() < -tol).count());
}

TEST(CriticalPoint, ConvergesBackToASplitNeuronSaddleAndReportsItsIndex) {
  int saddles = 0;
  for (std::uint64_t seed : {6, 7}) {
    // A strict minimum of the narrow student (nonzero loss: it cannot fit the 4-neuron teacher).
    const auto p = testing::realizable_teacher_student(seed, 40, 2, 4, 2);
    const Objective narrow = p.objective();
    NewtonOptions newton;
    newton.model = NewtonModel::exact;
    newton.stop.gradient_tolerance = 1e-12;
    const SolveResult m = solve_newton(narrow, p.x0, newton);
    ASSERT_TRUE(m.converged()) << summary(m);
    ASSERT_EQ(hessian_inertia(narrow, m.theta, 10.0).negative, 0) << "not a minimum";

    const Mlp wide(MlpSpec{{2, 3, 1}, Activation::softplus, {}, false});
    const Objective obj(wide, p.data);
    for (Index j = 0; j < 2; ++j) {
      const Eigen::VectorXd split = split_neuron(p.model, m.theta, wide, j);
      // The split point is critical with the narrow loss (to round-off).
      ASSERT_LT(obj.gradient(split).cwiseAbs().maxCoeff(), 1e-10);
      const int split_index = negative_eigenvalues(obj, split, 10.0);

      Rng rng(100 + j);
      Eigen::VectorXd x0 = split;
      for (Index i = 0; i < x0.size(); ++i) x0[i] += 1e-3 * rng.normal();
      const CriticalPointOptions options;
      const SolveResult r = solve_critical_point(obj, x0, options);
      ASSERT_EQ(r.status, Status::converged_gradient) << summary(r);
      EXPECT_LE(r.gradient_max_norm, options.stop.gradient_tolerance);
      // Back on the line of critical points through the split point: the same loss.
      EXPECT_NEAR(r.loss_final, m.loss_final, 1e-9 * m.loss_final) << summary(r);
      ASSERT_TRUE(r.inertia.has_value());
      EXPECT_EQ(r.inertia->negative,
                negative_eigenvalues(obj, r.theta, options.inertia_tolerance_factor));
      EXPECT_EQ(r.inertia->negative + r.inertia->zero + r.inertia->positive, wide.n_params());
      if (split_index > 0) {
        ++saddles;
        EXPECT_GT(r.inertia->negative, 0) << "a saddle reported as index 0\n" << summary(r);
        // A minimizer started at the same point leaves the saddle for a lower loss.
        const SolveResult lm = solve_levenberg_marquardt(obj, x0);
        EXPECT_LT(lm.loss_final, 0.9 * m.loss_final) << summary(lm);
      }
    }
  }
  EXPECT_GT(saddles, 0) << "no split point was a saddle: the test exercised nothing";
}

TEST(CriticalPoint, MatrixFreePathConvergesToo) {
  const auto p = testing::realizable_teacher_student(6, 40, 2, 4, 2);
  const Objective narrow = p.objective();
  NewtonOptions newton;
  newton.model = NewtonModel::exact;
  const SolveResult m = solve_newton(narrow, p.x0, newton);
  ASSERT_TRUE(m.converged()) << summary(m);
  Rng rng(3);
  Eigen::VectorXd x0 = m.theta;
  for (Index i = 0; i < x0.size(); ++i) x0[i] += 1e-3 * rng.normal();
  CriticalPointOptions o;
  o.dense_max_params = 0;
  o.stop.gradient_tolerance = 1e-12;
  const SolveResult r = solve_critical_point(narrow, x0, o);
  EXPECT_EQ(r.status, Status::converged_gradient) << summary(r);
  EXPECT_EQ(r.counts.factorizations, 1);  // only the final inertia
  EXPECT_NEAR(r.loss_final, m.loss_final, 1e-9 * m.loss_final);
}

TEST(HessianInertia, CountsMatchDenseEigenvalues) {
  const auto p = testing::realizable_teacher_student(0, 20, 2, 2, 3);
  const Objective obj = p.objective();
  const HessianInertia h = hessian_inertia(obj, p.x0, 10.0);
  EXPECT_EQ(h.negative, negative_eigenvalues(obj, p.x0, 10.0));
  EXPECT_EQ(h.negative + h.zero + h.positive, p.model.n_params());
  EXPECT_LE(h.eigenvalue_min, h.eigenvalue_max);
  EXPECT_THROW(hessian_inertia(obj, p.x0, -1.0), std::invalid_argument);
}

}  // namespace
}  // namespace locus::solvers
