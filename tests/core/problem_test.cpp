// FunctionRef: the type-erased view solvers take. It forwards to the model, detects optional
// capabilities, supplies the fallbacks (dense Hessian from HVPs, HVP from a dense Hessian) and
// names what is missing. Objective's sum-of-terms evaluation indexes its own data.

#include "locus/core/problem.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/data/builtin.hpp"
#include "locus/data/synthetic.hpp"
#include "testing/functions.hpp"
#include "testing/tolerances.hpp"

namespace locus {
namespace {

using testing::k_eps;

Objective small_objective(LossSpec loss = {}) {
  Dataset data = gaussian_data(/*d=*/300, /*p=*/3, /*l=*/2, /*seed=*/4);
  if (loss.kind == LossKind::cross_entropy) data.y = data.y.cwiseAbs();
  const Mlp model(MlpSpec{{3, 5, 2}, Activation::tanh, {}, true});
  return Objective(model, data, loss);
}

TEST(FunctionRef, ForwardsEveryMemberOfAnObjectiveBitForBit) {
  const Objective obj = small_objective();
  const FunctionRef f = obj;
  const Mlp& m = obj.model();
  const Eigen::VectorXd x = m.init_parameters(InitOptions{InitScheme::glorot, 2, 1.0});
  const Eigen::VectorXd v = m.init_parameters(InitOptions{InitScheme::glorot, 3, 1.0});
  EXPECT_EQ(f.n_params(), obj.n_params());
  EXPECT_EQ(f.loss(x), obj.loss(x));
  EXPECT_EQ(f.loss_gradient(x).gradient, obj.gradient(x));
  EXPECT_EQ(f.hvp(x, v), obj.hvp(x, v));
  EXPECT_EQ(f.hessian(x), obj.hessian(x));
  const HessianAt h = f.hessian_at(x);
  EXPECT_EQ(h.apply(v), HessianOperator(obj, x).apply(v));
  EXPECT_EQ(h.loss(), obj.loss_gradient(x).loss);
  EXPECT_EQ(f.residuals(x), obj.residuals(x));
  EXPECT_EQ(f.jacobian(x), obj.jacobian(x));
  EXPECT_TRUE(f.has_residual_gram() && f.has_jacobian_products());
  EXPECT_EQ(f.residual_gram(x), obj.residual_gram(x));
  Eigen::MatrixXd g(2, 2);
  f.residual_gram(x, g);  // into a matrix of another shape
  EXPECT_EQ(g, obj.residual_gram(x));
  const Eigen::VectorXd u = obj.residuals(v);
  EXPECT_EQ(f.jacobian_product(x, v), obj.jacobian_product(x, v));
  EXPECT_EQ(f.jacobian_transpose_product(x, u), obj.jacobian_transpose_product(x, u));
  EXPECT_TRUE(f.has_residuals());
  EXPECT_TRUE(f.has_second_derivatives());
  EXPECT_EQ(f.n_terms(), 300);
  EXPECT_THROW(f.check_parameters(Eigen::VectorXd::Zero(3), "x0"), std::invalid_argument);
}

// A least-squares model with residuals and jacobian only: J J^T, J v and J^T u come from its
// Jacobian (J v and J^T u the same products, so the same bits; J J^T by a symmetric rank update,
// whose two-term sums may round differently: 4 eps of the largest entry), and wrong lengths are
// named.
TEST(FunctionRef, FormsJacobianProductsFromTheJacobian) {
  const testing::RosenbrockLeastSquares model;
  const FunctionRef f = model;
  EXPECT_FALSE(f.has_residual_gram() || f.has_jacobian_products());
  const Eigen::VectorXd x = testing::Rosenbrock::start(), v = Eigen::Vector2d(0.3, -2.0);
  const Eigen::MatrixXd j = model.jacobian(x);
  const Eigen::MatrixXd g = f.residual_gram(x);
  const Eigen::MatrixXd jjt = j * j.transpose();
  EXPECT_LE((g - jjt).cwiseAbs().maxCoeff(), 4 * k_eps * jjt.cwiseAbs().maxCoeff());
  EXPECT_EQ(g, g.transpose());
  Eigen::MatrixXd into = Eigen::MatrixXd::Constant(5, 1, NAN);
  f.residual_gram(x, into);
  EXPECT_EQ(into, g);
  EXPECT_EQ(f.jacobian_product(x, v), (j * v).eval());
  EXPECT_EQ(f.jacobian_transpose_product(x, v), (j.transpose() * v).eval());
  EXPECT_THROW(f.jacobian_product(x, Eigen::VectorXd::Zero(3)), std::invalid_argument);
  EXPECT_THROW(f.jacobian_transpose_product(x, Eigen::VectorXd::Zero(3)), std::invalid_argument);
}

TEST(FunctionRef, CrossEntropyObjectiveHasNoResidualsAndSaysWhy) {
  const Objective obj = small_objective({LossKind::cross_entropy, Reduction::mean});
  const FunctionRef f = obj;
  EXPECT_FALSE(f.has_residuals());
  EXPECT_EQ(f.residual_scale(), 1.0 / 300);
  try {
    f.require_residuals("Levenberg-Marquardt");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Levenberg-Marquardt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("squared"), std::string::npos) << e.what();
  }
}

// Rosenbrock has hvp only: the dense Hessian is assembled from two HVPs. At (1, 1) every entry
// is a small integer computed exactly, so the comparison is exact.
TEST(FunctionRef, AssemblesTheDenseHessianFromHvps) {
  const testing::Rosenbrock rosenbrock;
  const FunctionRef f = rosenbrock;
  Eigen::MatrixXd expected(2, 2);
  expected << 802, -400, -400, 200;
  EXPECT_EQ(f.hessian(Eigen::Vector2d(1, 1)), expected);
  EXPECT_FALSE(f.has_residuals());
  EXPECT_THROW(f.residuals(Eigen::Vector2d(1, 1)), std::invalid_argument);
}

// The cosh valley has a dense Hessian only: HVPs and the cached operator multiply by it.
TEST(FunctionRef, MultipliesByTheDenseHessianWhenThereIsNoHvp) {
  const testing::CoshValley valley;
  const FunctionRef f = valley;
  const Eigen::Vector2d x(0.3, -0.4), v(1.5, -2.0);
  const Eigen::VectorXd hv = valley.hessian(x) * v;
  EXPECT_EQ(f.hvp(x, v), hv);
  const HessianAt h = f.hessian_at(x);
  EXPECT_EQ(h.apply(v), hv);
  EXPECT_EQ(h.loss(), valley.loss(x));
  EXPECT_EQ(h.gradient(), valley.loss_gradient(x).gradient);
}

TEST(FunctionRef, NamesTheMissingCapability) {
  const testing::LambdaFunction plain{2, [](const Eigen::VectorXd& x) { return x.squaredNorm(); },
                                      [](const Eigen::VectorXd& x) {
                                        return LossGradient{x.squaredNorm(), 2 * x};
                                      }};
  const FunctionRef f = plain;
  EXPECT_EQ(f.loss(Eigen::Vector2d(3, 4)), 25.0);
  EXPECT_FALSE(f.has_second_derivatives());
  EXPECT_FALSE(f.has_terms());
  for (auto [call, words] : std::vector<std::pair<std::function<void()>, std::vector<std::string>>>{
           {[&] { f.require_second_derivatives("Newton"); }, {"Newton", "hvp", "hessian"}},
           {[&] { f.require_terms("SGD"); }, {"SGD", "n_terms", "loss_gradient_terms"}},
           {[&] { f.require_residuals("LM"); }, {"LM", "residuals", "jacobian"}},
           {[&] { f.hessian(Eigen::Vector2d(1, 1)); }, {"hessian", "hvp"}},
           {[&] { f.check_parameters(Eigen::Vector3d(1, 2, 3), "x0"); }, {"x0", "3", "2"}},
           {[&] { f.check_parameters(Eigen::Vector2d(1, NAN), "x0"); }, {"x0", "non-finite"}},
       }) {
    try {
      call();
      ADD_FAILURE() << "no exception for " << words.front();
    } catch (const std::invalid_argument& e) {
      for (const std::string& w : words)
        EXPECT_NE(std::string(e.what()).find(w), std::string::npos) << e.what();
    }
  }
}

// The terms of an MLP loss are its data points: all of them in order give exactly the full
// evaluation (same chunks, same arithmetic); any list gives the sum of the single-point terms
// (to the rounding of a sum of |list| terms: |list| eps relative to the sum of magnitudes).
TEST(ObjectiveTerms, SumOverAListOfPointsIndexingTheData) {
  for (Reduction reduction : {Reduction::sum, Reduction::mean}) {
    const Objective obj = small_objective({LossKind::squared, reduction});
    const Eigen::VectorXd x = obj.model().init_parameters(InitOptions{InitScheme::glorot, 2, 1.0});
    std::vector<Index> all(300);
    std::iota(all.begin(), all.end(), Index{0});
    const LossGradient full = obj.loss_gradient(x), by_terms = obj.loss_gradient_terms(x, all);
    EXPECT_EQ(by_terms.loss, full.loss);
    EXPECT_EQ(by_terms.gradient, full.gradient);

    const std::vector<Index> batch = {17, 3, 299, 3, 150};  // 3 twice: counted twice
    const LossGradient b = obj.loss_gradient_terms(x, batch);
    LossGradient sum{0.0, Eigen::VectorXd::Zero(obj.n_params())};
    Eigen::VectorXd magnitude = Eigen::VectorXd::Zero(obj.n_params());
    for (Index i : batch) {
      const Index one[] = {i};
      const LossGradient t = obj.loss_gradient_terms(x, one);
      sum.loss += t.loss;
      sum.gradient += t.gradient;
      magnitude += t.gradient.cwiseAbs();
    }
    const double tol = 8 * batch.size() * k_eps;
    EXPECT_NEAR(b.loss, sum.loss, tol * sum.loss);
    EXPECT_LE(((b.gradient - sum.gradient).array().abs() - tol * magnitude.array()).maxCoeff(),
              0.0);
  }
  const Objective obj = small_objective();
  const Eigen::VectorXd x = obj.model().init_parameters(InitOptions{InitScheme::glorot, 2, 1.0});
  const std::vector<Index> outside = {0, 300};
  EXPECT_THROW(obj.loss_gradient_terms(x, outside), std::invalid_argument);
  EXPECT_THROW(obj.loss_gradient_terms(x, {}), std::invalid_argument);
}

}  // namespace
}  // namespace locus
