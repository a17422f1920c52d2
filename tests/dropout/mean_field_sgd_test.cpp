#include "locus/dropout/mean_field_sgd.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "testing/finite_differences.hpp"
#include "testing/random_data.hpp"

namespace locus::dropout {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

Mlp student(Index p, Index n) {
  return Mlp({.widths = {p, n, 1},
              .activation = Activation::tanh,
              .bias = {false, false},
              .mean_field = true});
}

// One online step is theta - alpha N grad (1/b) sum_j (f(x_j) - y_j)^2 on the first b fresh
// samples (x_j ~ N(0, I) drawn row by row from Rng(seed)). The reference gradient is by central
// differences (accurate to ~eps^(2/3) relative); 1e-7 relative to the step leaves room for it.
TEST(MeanFieldSgd, OneOnlineStepIsTheScaledBatchGradientStep) {
  const Index p = 3, n = 6, b = 4;
  const Mlp model = student(p, n);
  const Mlp teacher({.widths = {p, 2, 1}, .activation = Activation::tanh, .bias = {false, false}});
  const VectorXd teacher_theta = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 1});
  const VectorXd theta0 = mean_field_init(model, 2);
  const MeanFieldSgdOptions o{.step = 0.3, .steps = 1, .batch_size = b, .seed = 5};
  const MeanFieldSgdResult r = train_online(model, theta0, teacher, teacher_theta, o);
  ASSERT_EQ(r.status, SgdStatus::completed);

  Rng rng(5);
  MatrixXd x(b, p);
  for (Index i = 0; i < b; ++i)
    for (Index k = 0; k < p; ++k) x(i, k) = rng.normal();
  const MatrixXd y = teacher.predict(teacher_theta, x);
  auto batch_mse = [&](const VectorXd& t) { return (model.predict(t, x) - y).squaredNorm() / b; };
  const VectorXd g = testing::central_difference_gradient(batch_mse, theta0);
  const VectorXd expected = theta0 - 0.3 * double(n) * g;
  EXPECT_LT((r.theta - expected).cwiseAbs().maxCoeff(),
            1e-7 * (expected - theta0).cwiseAbs().maxCoeff());
  EXPECT_NEAR(r.batch_loss_first, batch_mse(theta0), 1e-12 * batch_mse(theta0));
}

// Learning a teacher from fresh samples: the held-out error falls well below its initial value
// (a realizable teacher, 3000 steps; the factor 4 is far from the ~50x seen, and far above noise).
TEST(MeanFieldSgd, OnlineTrainingLearnsTheTeacher) {
  const Index p = 4;
  const Mlp model = student(p, 64);
  const Mlp teacher({.widths = {p, 2, 1}, .activation = Activation::tanh, .bias = {false, false}});
  const VectorXd teacher_theta = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 3});
  Dataset test = testing::random_data(500, p, 1, 9);
  test.y = teacher.predict(teacher_theta, test.x);
  const Objective objective(model, test);
  const VectorXd theta0 = mean_field_init(model, 4);
  const auto r = train_online(model, theta0, teacher, teacher_theta,
                              {.step = 0.5, .steps = 3000, .batch_size = 4, .seed = 6});
  ASSERT_EQ(r.status, SgdStatus::completed) << r.message;
  EXPECT_EQ(r.samples, 12000);
  EXPECT_LT(objective.loss(r.theta), objective.loss(theta0) / 4);
}

TEST(MeanFieldSgd, EpochsOverADatasetAndDivergence) {
  const Mlp model = student(3, 10);
  const Dataset data = testing::random_data(20, 3, 1, 2);
  const Objective objective(model, data);
  const VectorXd theta0 = mean_field_init(model, 1);
  const auto r = train_epochs(model, theta0, data, {.step = 0.05, .steps = 200, .batch_size = 5});
  ASSERT_EQ(r.status, SgdStatus::completed);
  EXPECT_EQ(r.samples, 1000);  // 50 epochs
  EXPECT_LT(objective.loss(r.theta), objective.loss(theta0));
  // The same seed gives the same run.
  EXPECT_EQ(train_epochs(model, theta0, data, {.step = 0.05, .steps = 200, .batch_size = 5}).theta,
            r.theta);
  const auto bad = train_epochs(model, theta0, data, {.step = 1e300, .steps = 50, .batch_size = 5});
  EXPECT_EQ(bad.status, SgdStatus::diverged);
  EXPECT_TRUE(bad.theta.allFinite());
}

TEST(MeanFieldSgd, RejectsNetworksWithoutMeanFieldScaling) {
  const Mlp plain({.widths = {3, 10, 1}});
  const Dataset data = testing::random_data(20, 3, 1, 2);
  EXPECT_THROW(train_epochs(plain, plain.init_parameters(), data), std::invalid_argument);
  EXPECT_THROW(mean_field_init(Mlp({.widths = {3, 4, 4, 1}}), 0), std::invalid_argument);
  EXPECT_THROW(train_epochs(student(3, 10), mean_field_init(student(3, 10), 0), data, {.steps = 0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout
