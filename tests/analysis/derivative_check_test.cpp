#include "locus/analysis/derivative_check.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "locus/core/random.hpp"

namespace locus::analysis {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Rosenbrock f(x) = sum_k r_k^2 with r_{2i} = 10 (x_{2i+1} - x_{2i}^2), r_{2i+1} = 1 - x_{2i}
// (n even): a least-squares problem with a known exact gradient, Hessian and Jacobian.
// wrong_* plants one deliberate error so that the checker must fail.
struct Rosenbrock {
  Index n = 6;
  double gradient_error = 0.0;  // added to g_0
  double hvp_error = 0.0;       // added to (H v)_1
  double jacobian_error = 0.0;  // added to J(1, 0)

  Index n_params() const { return n; }
  Index n_residuals() const { return n; }
  VectorXd residuals(const VectorXd& x) const {
    VectorXd r(n);
    for (Index i = 0; i < n; i += 2) {
      r[i] = 10 * (x[i + 1] - x[i] * x[i]);
      r[i + 1] = 1 - x[i];
    }
    return r;
  }
  MatrixXd jacobian(const VectorXd& x) const {
    MatrixXd j = MatrixXd::Zero(n, n);
    for (Index i = 0; i < n; i += 2) {
      j(i, i) = -20 * x[i];
      j(i, i + 1) = 10;
      j(i + 1, i) = -1;
    }
    j(1, 0) += jacobian_error;
    return j;
  }
  double loss(const VectorXd& x) const { return residuals(x).squaredNorm(); }
  LossGradient loss_gradient(const VectorXd& x) const {
    VectorXd g(n);
    for (Index i = 0; i < n; i += 2) {
      g[i] = -400 * x[i] * (x[i + 1] - x[i] * x[i]) - 2 * (1 - x[i]);
      g[i + 1] = 200 * (x[i + 1] - x[i] * x[i]);
    }
    g[0] += gradient_error;
    return {loss(x), g};
  }
  VectorXd hvp(const VectorXd& x, const VectorXd& v) const {
    VectorXd y(n);
    for (Index i = 0; i < n; i += 2) {
      const double a = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2, b = -400 * x[i];
      y[i] = a * v[i] + b * v[i + 1];
      y[i + 1] = b * v[i] + 200 * v[i + 1];
    }
    y[1] += hvp_error * v[0];
    return y;
  }
};
static_assert(TwiceDifferentiableFunction<Rosenbrock> && LeastSquaresProblem<Rosenbrock>);

// Only loss and gradient: the H v and Jacobian comparisons must be skipped, not invented.
struct Quadratic {
  Index n_params() const { return 3; }
  double loss(const VectorXd& x) const { return 0.5 * x.squaredNorm() + x[0] * x[2]; }
  LossGradient loss_gradient(const VectorXd& x) const {
    VectorXd g = x;
    g[0] += x[2];
    g[2] += x[0];
    return {loss(x), g};
  }
};

VectorXd point(Index n, std::uint64_t seed) {
  Rng rng(seed);
  VectorXd x(n);
  for (Index i = 0; i < n; ++i) x[i] = rng.normal();
  return x;
}

const DerivativeComparison* find(const DerivativeCheckResult& r, const std::string& name) {
  for (const auto& c : r.comparisons)
    if (c.name == name) return &c;
  return nullptr;
}

TEST(DerivativeCheck, RosenbrockPassesEveryComparison) {
  const Rosenbrock f;
  const auto r = check_derivatives(f, point(f.n, 3));
  ASSERT_TRUE(r.passed) << r.message << "\n" << summary(r);
  ASSERT_EQ(r.comparisons.size(), 3u);
  for (const auto& c : r.comparisons) {
    // Exact derivatives of a quartic agree with central differences to ~eps^(2/3) ~ 4e-11
    // relative: a relative error above 1e-6 would mean the tolerance, not the code, is passing.
    EXPECT_LT(c.max_relative_error, 1e-6) << c.name;
    EXPECT_GT(c.tolerance, 0.0) << c.name;
    EXPECT_FALSE(c.tolerance_rule.empty());
  }
}

TEST(DerivativeCheck, WrongGradientFailsAndNamesTheCoordinate) {
  // An error of 1e-4 in one entry of a gradient of size ~1e2-1e3: far above eps^(2/3) * scale.
  const Rosenbrock f{.gradient_error = 1e-4};
  const auto r = check_derivatives(f, point(f.n, 3));
  EXPECT_FALSE(r.passed);
  const auto* g = find(r, "gradient");
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(g->passed());
  EXPECT_EQ(g->worst_coordinate, 0);
  EXPECT_NEAR(g->max_error, 1e-4, 1e-6);  // the planted error, measured to FD accuracy
  EXPECT_NE(r.message.find("gradient"), std::string::npos) << r.message;
  EXPECT_NE(summary(r).find("FAILS"), std::string::npos);
}

TEST(DerivativeCheck, WrongHessianVectorProductAndJacobianFail) {
  const VectorXd x = point(6, 4);
  const auto rh = check_derivatives(Rosenbrock{.hvp_error = 1e-3}, x);
  EXPECT_FALSE(rh.passed);
  EXPECT_FALSE(find(rh, "hessian_vector_product")->passed());
  EXPECT_TRUE(find(rh, "gradient")->passed());
  EXPECT_EQ(find(rh, "hessian_vector_product")->worst_coordinate, 1);
  const auto rj = check_derivatives(Rosenbrock{.jacobian_error = 1e-3}, x);
  EXPECT_FALSE(rj.passed);
  const auto* j = find(rj, "jacobian");
  EXPECT_FALSE(j->passed());
  EXPECT_EQ(j->worst_coordinate, 0);
  EXPECT_EQ(j->worst_residual, 1);
}

TEST(DerivativeCheck, SkipsWhatTheFunctionDoesNotProvide) {
  const auto r = check_derivatives(Quadratic{}, point(3, 5));
  EXPECT_TRUE(r.passed) << r.message;
  ASSERT_EQ(r.comparisons.size(), 1u);
  EXPECT_EQ(r.comparisons[0].name, "gradient");
}

TEST(DerivativeCheck, MlpLossPassesAllFiveComparisons) {
  const Mlp model({.widths = {3, 5, 4, 2}, .activation = Activation::tanh});
  Rng rng(8);
  Dataset data{MatrixXd(20, 3), MatrixXd(20, 2), "random"};
  for (Index i = 0; i < data.x.size(); ++i) data.x.data()[i] = rng.normal();
  for (Index i = 0; i < data.y.size(); ++i) data.y.data()[i] = rng.normal();
  for (Reduction red : {Reduction::sum, Reduction::mean}) {
    const Objective obj(model, data, {.reduction = red});
    const VectorXd theta = model.init_parameters({.seed = 2});
    const auto r = check_derivatives(obj, theta, {.coordinates = 1000, .seed = 1});
    ASSERT_TRUE(r.passed) << r.message << "\n" << summary(r);
    EXPECT_EQ(r.comparisons.size(), 5u);
    EXPECT_EQ(find(r, "gradient")
                  ->reference.find("central differences of f on " + std::to_string(obj.n_params())),
              0u);
  }
  // Cross-entropy has no residuals: no Jacobian comparisons.
  Dataset labels = data;
  labels.y.setZero();
  for (Index i = 0; i < labels.size(); ++i) labels.y(i, i % 2) = 1.0;
  const Objective ce(model, labels, {.kind = LossKind::cross_entropy});
  const auto r = check_derivatives(ce, model.init_parameters({.seed = 3}));
  EXPECT_TRUE(r.passed) << r.message;
  EXPECT_EQ(r.comparisons.size(), 3u);
  EXPECT_EQ(find(r, "jacobian"), nullptr);
}

TEST(DerivativeCheck, CallerErrorsNameTheInput) {
  const Rosenbrock f;
  EXPECT_THROW(check_derivatives(f, VectorXd::Zero(5)), std::invalid_argument);
  VectorXd bad = VectorXd::Zero(6);
  bad[2] = NAN;
  EXPECT_THROW(check_derivatives(f, bad), std::invalid_argument);
  try {
    check_derivatives(f, VectorXd::Zero(6), {.coordinates = 0});
    FAIL() << "coordinates = 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("coordinates"), std::string::npos);
  }
  EXPECT_THROW(check_derivatives(f, VectorXd::Zero(6), {.safety_factor = 0.5}),
               std::invalid_argument);
}

TEST(DerivativeCheck, JsonAndSummaryCarryEveryComparison) {
  const auto r = check_derivatives(Rosenbrock{}, point(6, 9));
  const io::Json j = to_json(r);
  EXPECT_EQ(j["passed"], true);
  ASSERT_EQ(j["comparisons"].size(), r.comparisons.size());
  EXPECT_EQ(j["comparisons"][0]["name"], "gradient");
  EXPECT_EQ(j["comparisons"][0]["tolerance"].get<double>(), r.comparisons[0].tolerance);
  const std::string s = summary(r);
  for (const auto& c : r.comparisons) EXPECT_NE(s.find(c.name), std::string::npos);
}

TEST(CentralDifferences, GradientAndJacobianOfRosenbrock) {
  const Rosenbrock f;
  const VectorXd x = point(6, 10);
  const VectorXd g = f.loss_gradient(x).gradient;
  const VectorXd g_fd =
      central_difference_gradient([&](const VectorXd& y) { return f.loss(y); }, x);
  // eps^(2/3) ~ 4e-11 relative accuracy, times the gradient's scale; 1e-7 leaves a wide margin.
  EXPECT_LT((g - g_fd).cwiseAbs().maxCoeff(), 1e-7 * g.cwiseAbs().maxCoeff());
  const MatrixXd j_fd =
      central_difference_jacobian([&](const VectorXd& y) { return f.residuals(y); }, x);
  EXPECT_LT((f.jacobian(x) - j_fd).cwiseAbs().maxCoeff(),
            1e-7 * f.jacobian(x).cwiseAbs().maxCoeff());
}

}  // namespace
}  // namespace locus::analysis
