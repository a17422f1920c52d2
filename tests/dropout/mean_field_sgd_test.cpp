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

Mlp student3(Index p, Index n1, Index n2, bool bias) {
  return Mlp({.widths = {p, n1, n2, 1},
              .activation = Activation::tanh,
              .bias = {bias, bias, bias},
              .mean_field = true});
}

// Three layers, in mean-field coordinates phi = (w, b1, U = N1 W2, c = b2, a, b3): one step is
// phi - alpha m * grad_phi(batch MSE) with m = N1 for (w, b1), N1 N2 for U, N2 for (c, a, b3)
// (Nguyen & Pham's multilayer scaling). The reference maps phi -> theta itself and takes the
// gradient in phi by central differences (~eps^(2/3) relative); 1e-6 of the step's size leaves
// room for that and for the O(N1) larger U entries.
TEST(MeanFieldSgd, OneStepOfAThreeLayerNetIsTheMeanFieldStep) {
  const Index p = 3, n1 = 5, n2 = 4, b = 6;
  const Mlp model = student3(p, n1, n2, true);
  const Dataset data = testing::random_data(b, p, 1, 4);
  VectorXd theta0 = mean_field_init(model, 2);
  theta0 += 0.1 * model.init_parameters({.scheme = InitScheme::normal, .seed = 3});  // biases
  const double alpha = 0.2;
  const auto r = train_epochs(model, theta0, data, {.step = alpha, .steps = 1, .batch_size = b});
  ASSERT_EQ(r.status, SgdStatus::completed);

  const LayerSlice& middle = model.layer(1);
  VectorXd to_theta = VectorXd::Ones(model.n_params()), m(model.n_params());
  to_theta.segment(middle.weight_offset, n2 * n1).setConstant(1.0 / double(n1));
  m.head(middle.weight_offset).setConstant(double(n1));
  m.tail(model.n_params() - middle.weight_offset).setConstant(double(n2));
  m.segment(middle.weight_offset, n2 * n1).setConstant(double(n1 * n2));
  const VectorXd phi0 = theta0.cwiseQuotient(to_theta);
  auto batch_mse = [&](const VectorXd& phi) {
    return (model.predict(phi.cwiseProduct(to_theta), data.x) - data.y).squaredNorm() / double(b);
  };
  const VectorXd g = testing::central_difference_gradient(batch_mse, phi0);
  const VectorXd expected = (phi0 - alpha * m.cwiseProduct(g)).cwiseProduct(to_theta);
  EXPECT_LT((r.theta - expected).cwiseAbs().maxCoeff(),
            1e-6 * (expected - theta0).cwiseAbs().maxCoeff());
}

// Learning a teacher from fresh samples, with one and with two hidden layers: the held-out error
// falls below a quarter of its initial value (a realizable teacher, 3000 steps; ~50x is seen for
// one hidden layer, 55x (1301 -> 23.6) for two: far from 4, and far above noise).
TEST(MeanFieldSgd, OnlineTrainingLearnsTheTeacher) {
  const Index p = 4;
  for (const Mlp& model : {student(p, 64), student3(p, 32, 32, false)}) {
    const Mlp teacher(
        {.widths = {p, 2, 1}, .activation = Activation::tanh, .bias = {false, false}});
    const VectorXd teacher_theta =
        teacher.init_parameters({.scheme = InitScheme::normal, .seed = 3});
    Dataset test = testing::random_data(500, p, 1, 9);
    test.y = teacher.predict(teacher_theta, test.x);
    const Objective objective(model, test);
    const VectorXd theta0 = mean_field_init(model, 4);
    const auto r = train_online(model, theta0, teacher, teacher_theta,
                                {.step = 0.5, .steps = 3000, .batch_size = 4, .seed = 6});
    ASSERT_EQ(r.status, SgdStatus::completed) << r.message;
    EXPECT_EQ(r.samples, 12000);
    EXPECT_LT(objective.loss(r.theta), objective.loss(theta0) / 4) << model.describe();
  }
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
  EXPECT_THROW(mean_field_init(Mlp({.widths = {3, 1}}), 0), std::invalid_argument);
  EXPECT_THROW(train_epochs(student(3, 10), mean_field_init(student(3, 10), 0), data, {.steps = 0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace locus::dropout
