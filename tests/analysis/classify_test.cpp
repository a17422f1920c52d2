#include "locus/analysis/classify.hpp"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "testing/dense_references.hpp"
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
TEST(Classify, ZeroLossPointsOfOverparameterizedNets) {
  struct Case {
    std::vector<Index> widths;
    Activation a;
    Index d;
  };
  for (const Case& c :
       {Case{{3, 8, 1}, Activation::softplus, 5}, Case{{2, 6, 5, 2}, Activation::tanh, 4},
        Case{{4, 10, 3}, Activation::gelu, 3}, Case{{2, 7, 1}, Activation::sigmoid, 6}}) {
    const ZeroLoss z = zero_loss(c.widths, c.a, c.d, 7);
    const Objective obj(z.model, z.data);
    const Index n = obj.n_params(), ld = obj.n_residuals();
    const PointAnalysis a = analyze_point(obj, z.theta);
    ASSERT_TRUE(a.at_zero_loss) << a.loss;
    EXPECT_EQ(a.jacobian.rank, ld);
    EXPECT_EQ(a.manifold_dimension, n - ld);
    EXPECT_EQ(a.fibre_dimension, n - ld);  // at zero loss the fibre through theta is M
    EXPECT_EQ(a.hessian.counts.positive, ld);
    EXPECT_EQ(a.hessian.counts.zero, n - ld);
    EXPECT_EQ(a.hessian.counts.negative, 0);
    EXPECT_GT(a.hessian.counts.gap, 1e6);  // the zero cluster is far below the smallest 2 sigma^2
    EXPECT_LT(a.eigen_vs_gauss_newton_rtol, 1e-8);
    EXPECT_EQ(a.classification, PointClass::global_minimum) << a.reason;
    // Independent: singular values from a Jacobi SVD (Eigen::JacobiSVD).
    const VectorXd s = testing::jacobi_singular_values(obj.jacobian(z.theta));
    EXPECT_LT((s - a.jacobian.singular_values).cwiseAbs().maxCoeff(), 1e-12 * a.jacobian.sigma_max);
    // Independent: the Hessian by central differences of the gradient (error ~ eps^(2/3) |L'''|).
    MatrixXd hfd = testing::central_difference_jacobian(
        [&](const VectorXd& t) { return obj.gradient(t); }, z.theta);
    hfd = 0.5 * (hfd + hfd.transpose());
    const VectorXd ev = testing::symmetric_eigenvalues(hfd);
    for (Index k = 0; k < ld; ++k) {
      const double two_s2 = 2.0 * std::pow(s[k], 2);
      EXPECT_NEAR(ev[n - 1 - k], two_s2, 1e-6 * ev.cwiseAbs().maxCoeff()) << k;
    }
  }
}

// A convex least-squares problem (linear model [p, 1], d > p points) has a strict minimum at the
// least-squares solution; theta = 0 of a tanh net without biases is a saddle when the targets
// correlate with the inputs... checked by its own Hessian's negative eigenvalue.
TEST(Classify, StrictMinimumSaddleAndNonCritical) {
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
  for (const char* k : {"loss", "gradient_max_norm", "n_params", "n_residuals", "fibre_dimension",
                        "manifold_dimension", "classification"})
    EXPECT_TRUE(j.contains(k)) << k;
  // Loss > 0: n - rank J is the fibre's dimension, not the dimension of a manifold of minima.
  ASSERT_FALSE(s.at_zero_loss);
  ASSERT_TRUE(s.jacobian.computed);
  EXPECT_EQ(s.fibre_dimension, net.n_params() - s.jacobian.rank);
  EXPECT_EQ(s.manifold_dimension, -1);
  EXPECT_TRUE(j["manifold_dimension"].is_null());
  EXPECT_EQ(j["fibre_dimension"], s.fibre_dimension);
  for (const char* k : {"rank", "tolerance", "gap"}) EXPECT_TRUE(j["jacobian"].contains(k)) << k;
  for (const char* k : {"method", "positive", "zero", "negative", "tolerance", "gap"})
    EXPECT_TRUE(j["hessian"].contains(k)) << k;
}

TEST(Classify, RejectsInvalidOptions) {
  const Mlp model({.widths = {2, 3, 1}});
  const Objective obj(model, gaussian_data(4, 2, 1, 1));
  const VectorXd theta = model.init_parameters();
  EXPECT_THROW(analyze_point(obj, theta, {.min_gap = 0.5}), std::invalid_argument);
  EXPECT_THROW(analyze_point(obj, theta, {.gradient_tolerance = -1}), std::invalid_argument);
  EXPECT_THROW(analyze_point(obj, VectorXd::Zero(1)), std::invalid_argument);
}

}  // namespace
}  // namespace locus::analysis
