#include "locus/analysis/geometry.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <cmath>

#include "locus/data/synthetic.hpp"
#include "testing/finite_differences.hpp"

namespace locus::analysis {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// An interpolating point: targets are the network's own outputs, so L ~ 1e-31 and theta lies on
// the zero set M of an overparameterized net (d l < n).
struct ZeroLoss {
  Mlp model;
  Dataset data;
  VectorXd theta;
};
ZeroLoss zero_loss(std::vector<Index> widths, Activation a, Index d, std::uint64_t seed) {
  Mlp model({.widths = widths, .activation = a});
  VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = seed});
  Dataset data = gaussian_data(d, widths.front(), widths.back(), seed + 1);
  data.y = model.predict(theta, data.x);
  return {model, data, theta};
}

// Acceptance 1 (issue 5): rank J = l d, dim M = n - l d, inertia (l d, n - l d, 0), and the
// positive eigenvalues equal 2 sigma_k(J)^2, checked against independent computations: a
// finite-difference Hessian's eigenvalues and a JacobiSVD of J.
TEST(Geometry, ZeroLossPointsOfOverparameterizedNets) {
  struct Case {
    std::vector<Index> widths;
    Activation a;
    Index d;
  };
  for (const Case& c : {Case{{3, 8, 1}, Activation::softplus, 5},
                        Case{{2, 6, 5, 2}, Activation::tanh, 4},
                        Case{{4, 10, 3}, Activation::gelu, 3},
                        Case{{2, 7, 1}, Activation::sigmoid, 6}}) {
    const ZeroLoss z = zero_loss(c.widths, c.a, c.d, 7);
    const Objective obj(z.model, z.data);
    const Index n = obj.n_params(), ld = obj.n_residuals();
    const PointAnalysis a = analyze_point(obj, z.theta);
    ASSERT_TRUE(a.at_zero_loss) << a.loss;
    EXPECT_EQ(a.jacobian.rank, ld);
    EXPECT_EQ(a.manifold_dimension, n - ld);
    EXPECT_EQ(a.hessian.counts.positive, ld);
    EXPECT_EQ(a.hessian.counts.zero, n - ld);
    EXPECT_EQ(a.hessian.counts.negative, 0);
    EXPECT_GT(a.hessian.counts.gap, 1e6);  // the zero cluster is far below the smallest 2 sigma^2
    EXPECT_LT(a.eigen_vs_gauss_newton_rtol, 1e-8);
    EXPECT_EQ(a.classification, PointClass::global_minimum) << a.reason;
    // Independent: singular values from a one-sided Jacobi SVD.
    const Eigen::JacobiSVD<MatrixXd> jsvd(obj.jacobian(z.theta));
    EXPECT_LT((jsvd.singularValues() - a.jacobian.singular_values).cwiseAbs().maxCoeff(),
              1e-12 * a.jacobian.sigma_max);
    // Independent: the Hessian by central differences of the gradient (error ~ eps^(2/3) |L'''|).
    MatrixXd hfd = testing::central_difference_jacobian(
        [&](const VectorXd& t) { return obj.gradient(t); }, z.theta);
    hfd = 0.5 * (hfd + hfd.transpose());
    const VectorXd ev = Eigen::SelfAdjointEigenSolver<MatrixXd>(hfd).eigenvalues();
    for (Index k = 0; k < ld; ++k) {
      const double two_s2 = 2.0 * std::pow(jsvd.singularValues()[k], 2);
      EXPECT_NEAR(ev[n - 1 - k], two_s2, 1e-6 * ev.cwiseAbs().maxCoeff()) << k;
    }
  }
}

// Acceptance 2: y = 0, theta = 0 with tanh. All hidden units output tanh(0) = 0, so every
// derivative through them vanishes (W2 = 0 blocks the first layer, the hidden outputs are 0 for
// W2), and only the output bias moves the residuals: J = [0 ... 0 | 1], rank 1 < l d.
TEST(Geometry, DegenerateZeroLossPointAndSardFix) {
  const Mlp model({.widths = {3, 6, 1}, .activation = Activation::tanh});
  Dataset data = gaussian_data(5, 3, 1, 2);
  data.y.setZero();
  const Objective obj(model, data);
  const VectorXd zero = VectorXd::Zero(model.n_params());
  const JacobianAnalysis j = analyze_jacobian(obj, zero);
  EXPECT_EQ(j.rank, 1);
  EXPECT_FALSE(j.full_row_rank);
  EXPECT_NEAR(j.sigma_max, std::sqrt(5.0), 1e-14);  // the ones column has norm sqrt(d)
  const SardCheck s = sard_check(obj, zero, {.seed = 3});
  EXPECT_TRUE(s.restored()) << s.rank_before << " -> " << s.rank_after;
  EXPECT_LT(s.loss_after, 1e-24);
  EXPECT_EQ(s.rank_after, 5);
}

// Acceptance 3: Lanczos extreme eigenvalues against the dense spectrum at n ~ 2e3, judged by the
// residual |H v - lambda v| <= 1e-9 |H| and by the dense eigenvalues.
TEST(Geometry, LanczosMatchesDense) {
  const Mlp model({.widths = {10, 180, 1}, .activation = Activation::softplus});
  const Dataset data = gaussian_data(100, 10, 1, 4);
  const VectorXd theta = model.init_parameters({.seed = 5});
  const Objective obj(model, data);
  ASSERT_EQ(obj.n_params(), 2161);
  const Spectrum dense = hessian_spectrum(obj, theta, {.method = SpectrumMethod::dense});
  const Spectrum lz = hessian_spectrum(obj, theta, {.method = SpectrumMethod::lanczos, .k = 6,
                                                    .seed = 1});
  ASSERT_TRUE(lz.converged) << lz.note;
  const double norm = dense.matrix_norm;
  ASSERT_EQ(lz.eigenvalues.size(), 12);
  for (Index i = 0; i < 6; ++i) {
    EXPECT_NEAR(lz.eigenvalues[i], dense.eigenvalues[i], 1e-9 * norm) << i;
    EXPECT_NEAR(lz.eigenvalues[11 - i], dense.eigenvalues[dense.eigenvalues.size() - 1 - i],
                1e-9 * norm) << i;
  }
  EXPECT_LE(lz.residuals.maxCoeff(), 1e-9 * norm);
}

// Acceptance 4: SLQ weights sum to 1 per probe, and its moments match tr(H) and tr(H^2) of the
// dense Hessian within 3 standard errors (plus the quadrature's own error, tiny for 40 steps).
TEST(Geometry, SlqDensityAndMoments) {
  const Mlp model({.widths = {4, 20, 1}, .activation = Activation::tanh});
  const Dataset data = gaussian_data(30, 4, 1, 6);
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const Objective obj(model, data);
  const Spectrum s = hessian_spectrum(
      obj, theta, {.method = SpectrumMethod::slq, .slq_probes = 30, .slq_steps = 40, .seed = 9});
  for (Index p = 0; p < s.slq_weights.rows(); ++p)
    EXPECT_NEAR(s.slq_weights.row(p).sum(), 1.0, 1e-12);
  const MatrixXd h = obj.hessian(theta);
  const double tr = h.trace(), tr2 = (h * h).trace();
  EXPECT_NEAR(s.trace_estimate, tr, 3 * s.trace_error + 1e-9 * std::abs(tr));
  EXPECT_NEAR(s.trace_sq_estimate, tr2, 3 * s.trace_sq_error + 1e-9 * tr2);
  // The broadened density integrates to 1 on a grid covering the spectrum.
  // Gaussians of width w, grid from 10 w below the smallest node to 10 w above the largest, 40
  // grid points per w: the Riemann sum of a Gaussian is then exact to far below 1e-6.
  const double w = (s.slq_nodes.maxCoeff() - s.slq_nodes.minCoeff()) / 400;
  const double lo = s.slq_nodes.minCoeff() - 10 * w, hi = s.slq_nodes.maxCoeff() + 10 * w;
  const Index points = Index((hi - lo) / (w / 40)) + 1;
  const VectorXd grid = VectorXd::LinSpaced(points, lo, hi);
  const VectorXd rho = slq_density(s, grid, w);
  EXPECT_NEAR(rho.sum() * (hi - lo) / double(points - 1), 1.0, 1e-6);
  // Hutchinson and Hutch++ against the exact trace (3 standard errors).
  const TraceEstimate hu = hutchinson_trace(obj, theta, 60, 1);
  EXPECT_NEAR(hu.value, tr, 3 * hu.standard_error + 1e-9 * std::abs(tr));
  const TraceEstimate hpp = hutchpp_trace(obj, theta, 90, 1);
  EXPECT_NEAR(hpp.value, tr, 3 * hpp.standard_error + 1e-9 * std::abs(tr));
}

// A convex least-squares problem (linear model [p, 1], d > p points) has a strict minimum at the
// least-squares solution; theta = 0 of a tanh net without biases is a saddle when the targets
// correlate with the inputs... checked by its own Hessian's negative eigenvalue.
TEST(Geometry, ClassifiesStrictMinimumSaddleAndNonCritical) {
  const Dataset data = gaussian_data(12, 3, 1, 8);
  const Mlp linear({.widths = {3, 1}});
  const Objective lin(linear, data);
  MatrixXd a(12, 4);
  a << data.x, VectorXd::Ones(12);
  const VectorXd w = a.colPivHouseholderQr().solve(data.y.col(0));
  const PointAnalysis strict = analyze_point(lin, w);
  EXPECT_EQ(strict.classification, PointClass::strict_minimum) << strict.reason;
  EXPECT_EQ(strict.hessian.counts.positive, 4);
  // Away from the solution the gradient is large.
  EXPECT_EQ(analyze_point(lin, w + VectorXd::Ones(4)).classification, PointClass::not_critical);

  const Mlp net({.widths = {3, 4, 1}, .activation = Activation::tanh, .bias = {false, false}});
  Dataset t = data;
  t.y = data.x.col(0);  // a target linear in x: the zero point is critical but not a minimum
  const Objective obj(net, t);
  const PointAnalysis s = analyze_point(obj, VectorXd::Zero(net.n_params()));
  EXPECT_LT(s.gradient_max_norm, 1e-15);  // every gradient term carries a factor tanh(0) or W = 0
  EXPECT_EQ(s.classification, PointClass::saddle) << s.reason;
  EXPECT_GT(s.index, 0);
  const io::Json j = to_json(s);
  for (const char* k : {"loss", "gradient_max_norm", "n_params", "n_residuals", "manifold_dimension",
                        "classification"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"rank", "tolerance", "gap"}) EXPECT_TRUE(j["jacobian"].contains(k)) << k;
  for (const char* k : {"method", "positive", "zero", "negative", "tolerance", "gap"})
    EXPECT_TRUE(j["hessian"].contains(k)) << k;
}

TEST(Geometry, RefusesHugeDenseHessiansAndSkipsHugeJacobians) {
  const Mlp model({.widths = {10, 50, 1}});
  const Objective obj(model, gaussian_data(20, 10, 1, 1));
  const VectorXd theta = model.init_parameters();
  EXPECT_THROW(hessian_spectrum(obj, theta, {.max_dense_bytes = 1e3}), std::invalid_argument);
  const JacobianAnalysis j = analyze_jacobian(obj, theta, {.max_bytes = 100});
  EXPECT_FALSE(j.computed);
  EXPECT_FALSE(j.skipped_reason.empty());
  // The filter-normalised direction has each weight row's norm equal to theta's.
  const VectorXd d = filter_normalized_direction(model, theta, 3);
  const LayerSlice& s = model.layer(0);
  EXPECT_NEAR(d.segment(s.weight_offset, s.in).norm(), theta.segment(s.weight_offset, s.in).norm(), 1e-12);
  EXPECT_EQ(loss_slice_1d(obj, theta, {.points = 5}).loss(2, 0), obj.loss(theta));
}

}  // namespace
}  // namespace locus::analysis
