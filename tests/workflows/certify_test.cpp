#include "locus/workflows/certify.hpp"

#include <gtest/gtest.h>

#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"

namespace locus::workflows {
namespace {

using Eigen::VectorXd;

// An interpolating teacher (targets = the net's own outputs, l d < n) started 1e-2 away from a
// zero-loss point: LM polishes to the round-off floor and the analysis certifies a global
// minimum with the Hessian's zero eigenspace of dimension n - l d (Cooper Prop 2.3).
TEST(Certify, PolishesToACertifiedGlobalMinimum) {
  const Mlp model({.widths = {3, 8, 1}, .activation = Activation::softplus});
  Dataset data = gaussian_data(5, 3, 1, 8);
  const VectorXd theta_star = model.init_parameters({.scheme = InitScheme::normal, .seed = 7});
  data.y = model.predict(theta_star, data.x);
  const Objective obj(model, data);
  VectorXd start = theta_star;
  for (Index i = 0; i < start.size(); ++i) start[i] += 1e-2 * std::sin(double(i + 1));
  const Certificate c = certify(obj, start);
  ASSERT_EQ(c.status, CertifyStatus::certified) << c.message;
  EXPECT_EQ(c.analysis.classification, analysis::PointClass::global_minimum);
  EXPECT_TRUE(c.polish.converged()) << c.polish.message;
  EXPECT_EQ(c.polish.method, "lm");
  EXPECT_LE(c.analysis.loss, analysis::AnalyzeOptions{}.loss_tolerance);
  EXPECT_EQ(c.analysis.hessian.counts.zero, obj.n_params() - obj.n_residuals());
  const io::Json j = to_json(c);
  EXPECT_EQ(j["status"], "certified");
  EXPECT_EQ(j["analysis"]["classification"], "global_minimum");
  EXPECT_EQ(j["polish"]["method"], "lm");
  EXPECT_NE(summary(c).find("certified"), std::string::npos);
}

// theta = 0 of a bias-free tanh net with a target linear in x is an exact critical point with a
// negative Hessian eigenvalue (tests/analysis/classify_test.cpp). Newton on the gradient
// (polish = critical) stays there and the certificate is a saddle with positive index.
TEST(Certify, CertifiesASaddleWithTheCriticalPointSolver) {
  const Dataset data = gaussian_data(12, 3, 1, 8);
  const Mlp net({.widths = {3, 4, 1}, .activation = Activation::tanh, .bias = {false, false}});
  Dataset t = data;
  t.y = data.x.col(0);
  const Objective obj(net, t);
  const Certificate c =
      certify(obj, VectorXd::Zero(net.n_params()), {.polish = solvers::Method::critical});
  ASSERT_EQ(c.status, CertifyStatus::certified) << c.message;
  EXPECT_EQ(c.analysis.classification, analysis::PointClass::saddle);
  EXPECT_GT(c.analysis.index, 0);
}

// A polish given no iterations leaves a non-critical start as it is: status not_critical; a
// first-order method is refused as a polish.
TEST(Certify, ReportsNonCriticalEndsAndRejectsFirstOrderPolish) {
  const Mlp model({.widths = {2, 4, 1}, .activation = Activation::tanh});
  const Dataset data = gaussian_data(6, 2, 1, 1);
  const Objective obj(model, data);
  const VectorXd theta = model.init_parameters({.seed = 2});
  CertifyOptions o;
  o.solver.lm.stop.max_iterations = 0;
  const Certificate c = certify(obj, theta, o);
  EXPECT_EQ(c.status, CertifyStatus::not_critical) << c.message;
  EXPECT_EQ(c.analysis.classification, analysis::PointClass::not_critical);
  EXPECT_THROW(certify(obj, theta, {.polish = solvers::Method::adam}), std::invalid_argument);
  EXPECT_THROW(certify(obj, VectorXd::Zero(1)), std::invalid_argument);
}

}  // namespace
}  // namespace locus::workflows
