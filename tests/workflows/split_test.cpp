#include "locus/workflows/split.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "locus/data/synthetic.hpp"
#include "locus/solvers/solve.hpp"

namespace locus::workflows {
namespace {

using Eigen::VectorXd;

// Simsek et al.'s teacher directions (PAPERS.md section 4), doubled, in a bias-free two-layer
// teacher of width r with output weights 1; 40 Gaussian points in the plane.
Dataset teacher_data(int r, Activation a) {
  const Mlp teacher({.widths = {2, r, 1}, .activation = a, .bias = {false, false}});
  const double w[4][2] = {{0.6, 0.5}, {-0.5, 0.5}, {-0.2, -0.6}, {0.1, -0.6}};
  VectorXd t(3 * r);
  for (int i = 0; i < r; ++i) {
    t[2 * i] = 2 * w[i][0];
    t[2 * i + 1] = 2 * w[i][1];
    t[2 * r + i] = 1.0;
  }
  Dataset d = gaussian_data(40, 2, 1, /*seed=*/1);
  d.y = teacher.predict(t, d.x);
  return d;
}

// Levenberg-Marquardt to a minimum, then Newton on the gradient to |g| at round-off.
VectorXd critical_point(const Objective& obj, const VectorXd& start) {
  solvers::TrainOptions o;
  o.method = solvers::Method::lm;
  o.polish = solvers::Method::critical;
  const solvers::SolveResult r = solvers::solve(obj, start, o);
  EXPECT_TRUE(r.converged()) << r.message;
  return r.theta;
}

// Splitting changes the loss only by the rounding of the outputs: each residual moves by a few
// eps |f_i|, so |L' - L| <= 2 |r|_1 * 64 eps max|f| + O(eps^2); 1e-12 max(1, L) covers it for
// d = 40 outputs of order 1.
double loss_tolerance(double loss) { return 1e-12 * std::max(1.0, loss); }

// A width-1 tanh student of a width-3 teacher: LM from seed 0 ends at a strict minimum (index 0,
// no zero eigenvalue) with loss ~3.8. Fukumizu & Amari (2000): splitting it with fractions in
// (0, 1) gives a (non-strict) minimum, with fractions outside [0, 1] a saddle. Both stay critical
// with the same loss and one zero eigenvalue per added neuron.
TEST(SplitCriticalPoint, StrictMinimumOfTheNarrowNetBecomesASaddle) {
  const Dataset data = teacher_data(3, Activation::tanh);
  const Mlp narrow({.widths = {2, 1, 1}, .activation = Activation::tanh, .bias = {false, false}});
  const Objective obj(narrow, data);
  const VectorXd theta =
      critical_point(obj, narrow.init_parameters({.scheme = InitScheme::normal, .seed = 0}));

  const SplitCheck inside = split_critical_point(obj, theta, {1, 0}, {0.5, 0.5});
  ASSERT_TRUE(inside.critical()) << inside.message;
  EXPECT_GT(inside.loss_before, 1.0);  // not a global minimum: the narrow net cannot fit
  EXPECT_EQ(inside.index_before, 0);
  EXPECT_EQ(inside.zero_before, 0);  // strict minimum
  EXPECT_GE(inside.spectrum_before.counts.gap, 1e6);
  EXPECT_LE(inside.gradient_max_norm_after, 1e-10 * inside.gradient_scale);
  EXPECT_NEAR(inside.loss_after, inside.loss_before, loss_tolerance(inside.loss_before));
  EXPECT_EQ(inside.zero_expected, 1);
  EXPECT_GE(inside.zero_after, 1);
  EXPECT_GE(inside.spectrum_after.counts.gap, 1e6);  // the zero count is a claim
  EXPECT_EQ(inside.index_after, 0);

  const SplitCheck outside = split_critical_point(obj, theta, {1, 0}, {1.5, -0.5});
  ASSERT_TRUE(outside.critical()) << outside.message;
  EXPECT_NEAR(outside.loss_after, outside.loss_before, loss_tolerance(outside.loss_before));
  EXPECT_GE(outside.zero_after, 1);
  EXPECT_GE(outside.spectrum_after.counts.gap, 1e6);
  EXPECT_GE(outside.index_after, 1) << summary(outside);  // the strict minimum became a saddle

  // Width 1 -> 3: two zero eigenvalues.
  const SplitCheck three = split_critical_point(obj, theta, {1, 0}, {0.2, 0.3, 0.5});
  ASSERT_TRUE(three.critical()) << three.message;
  EXPECT_EQ(three.widths_after, (std::vector<Index>{2, 3, 1}));
  EXPECT_GE(three.zero_after, 2);

  // The contrast: a zero-type neuron with other incoming weights is not critical; its outgoing
  // weight's derivative 2 sum_i r_i sigma(w . x_i) is of the size of the residuals.
  EXPECT_GT(inside.zero_neuron_outgoing_gradient_max_norm, 1e6 * inside.gradient_tolerance);
  EXPECT_EQ(inside.zero_neuron_gradient_max_norm, inside.zero_neuron_outgoing_gradient_max_norm);

  const io::Json j = to_json(outside);
  EXPECT_EQ(j["status"], "critical");
  EXPECT_EQ(j["after"]["index"], outside.index_after);
  EXPECT_EQ(j["widths_after"], (std::vector<Index>{2, 2, 1}));
  EXPECT_EQ(j["after"]["eigenvalues"].size(), 6u);
  EXPECT_NE(summary(outside).find("index 0 -> "), std::string::npos);
}

// Splits of a global minimum stay global minima (loss 0, Hessian PSD), here in a deep net with
// biases: a [2,3,3,1] softplus teacher, the student started near it and polished to zero loss,
// a neuron of the second hidden layer split into three.
TEST(SplitCriticalPoint, SplitsOfADeepGlobalMinimumStayGlobal) {
  const Mlp net({.widths = {2, 3, 3, 1}, .activation = Activation::softplus});
  const VectorXd teacher = net.init_parameters({.scheme = InitScheme::normal, .seed = 3});
  Dataset data = gaussian_data(40, 2, 1, /*seed=*/2);
  data.y = net.predict(teacher, data.x);
  const Objective obj(net, data);
  VectorXd start = teacher;
  for (Index i = 0; i < start.size(); ++i) start[i] += 1e-2 * std::sin(double(i + 1));
  const VectorXd theta = critical_point(obj, start);
  const SplitCheck s = split_critical_point(obj, theta, {2, 1}, {0.25, 0.25, 0.5});
  ASSERT_TRUE(s.critical()) << s.message;
  EXPECT_LE(s.loss_before, 1e-20);
  EXPECT_LE(s.loss_after, 1e-20);
  EXPECT_EQ(s.index_after, 0);
  EXPECT_GE(s.zero_after, s.zero_before + 2);
  EXPECT_LE(s.gradient_max_norm_after, 1e-10 * s.gradient_scale);
  // At zero loss every residual vanishes, so a zero-type neuron keeps the point critical: the
  // contrast needs a nonzero loss.
  EXPECT_LE(s.zero_neuron_outgoing_gradient_max_norm, s.gradient_tolerance);
}

// A point that is not critical is reported, not certified; invalid options and splits throw.
TEST(SplitCriticalPoint, ReportsNonCriticalInputsAndRejectsBadInput) {
  const Dataset data = teacher_data(3, Activation::tanh);
  const Mlp narrow({.widths = {2, 2, 1}, .activation = Activation::tanh, .bias = {false, false}});
  const Objective obj(narrow, data);
  const VectorXd theta = narrow.init_parameters({.seed = 5});
  const SplitCheck s = split_critical_point(obj, theta, {1, 1}, {0.5, 0.5});
  EXPECT_EQ(s.status, SplitStatus::not_critical);
  EXPECT_NE(s.message.find("not critical"), std::string::npos);
  EXPECT_THROW(split_critical_point(obj, theta, {2, 0}, {0.5, 0.5}), std::invalid_argument);
  EXPECT_THROW(split_critical_point(obj, theta, {1, 0}, {0.5, 0.6}), std::invalid_argument);
  EXPECT_THROW(
      split_critical_point(obj, theta, {1, 0}, {0.5, 0.5}, {.gradient_tolerance_relative = -1.0}),
      options::OptionError);
  SplitOptions o;
  split_table().set_text(o, "seed", "7");
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(split_table().to_json(o)["zero_tolerance_factor"], 10.0);
}

}  // namespace
}  // namespace locus::workflows
