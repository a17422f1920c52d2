#include "locus/core/objective.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <stdexcept>

#include "locus/core/random.hpp"
#include "testing/finite_differences.hpp"
#include "testing/random_data.hpp"

namespace locus {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::random_data;

// One configuration of the derivative tests: activation x depth x bias x outputs.
struct Config {
  Activation activation;
  int depth;  // hidden layers
  bool bias;
  Index outputs;
};
std::string name(const ::testing::TestParamInfo<Config>& info) {
  const Config& c = info.param;
  return std::string(to_string(c.activation)) + "_depth" + std::to_string(c.depth) +
         (c.bias ? "_bias" : "_nobias") + "_l" + std::to_string(c.outputs);
}
std::vector<Config> all_configs() {
  std::vector<Config> out;
  for (Activation a : all_activations()) {
    if (a == Activation::relu) continue;  // not C^2: the FD Hessian does not exist at kinks
    for (int depth = 1; depth <= 3; ++depth)
      for (bool bias : {true, false}) out.push_back({a, depth, bias, depth == 2 ? 1 : 2});
  }
  return out;
}

class Derivatives : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override {
    const Config& c = GetParam();
    std::vector<Index> widths = {3};
    for (int k = 0; k < c.depth; ++k) widths.push_back(4 - k % 2);
    widths.push_back(c.outputs);
    MlpSpec spec{.widths = widths, .activation = c.activation};
    if (!c.bias) spec.bias.assign(widths.size() - 1, false);
    model = std::make_unique<Mlp>(spec);
    data = random_data(7, 3, c.outputs, 11);
    // Normal(0, 0.8) weights and a shift keep smoolu units partly active (z > 0 for some points).
    theta = model->init_parameters({.scheme = InitScheme::normal, .seed = 5, .std = 0.8});
    if (c.activation == Activation::smoolu) theta.array() += 0.3;
    obj = std::make_unique<Objective>(*model, data);
  }
  std::unique_ptr<Mlp> model;
  Dataset data;
  VectorXd theta;
  std::unique_ptr<Objective> obj;
};

// Central differences with h = cbrt(eps) max(1,|x|) are accurate to ~eps^(2/3) ~ 4e-11 times
// the scale of the third derivative; losses here are O(10), so rounding contributes
// ~eps * 10 / h ~ 4e-10. 1e-7 (relative to the largest entry) leaves two orders of margin and
// still catches any wrong term (those are O(1)).
constexpr double k_fd_tolerance = 1e-7;

TEST_P(Derivatives, GradientMatchesCentralDifferences) {
  const VectorXd g = obj->gradient(theta);
  const VectorXd g_fd =
      testing::central_difference_gradient([&](const VectorXd& t) { return obj->loss(t); }, theta);
  EXPECT_LT(testing::max_scaled_error(g, g_fd), k_fd_tolerance)
      << "analytic: " << g.transpose() << "\nnumeric:  " << g_fd.transpose();
  EXPECT_DOUBLE_EQ(obj->loss_gradient(theta).loss, obj->loss(theta));
}

TEST_P(Derivatives, JacobianMatchesCentralDifferencesAndGradient) {
  const MatrixXd j = obj->jacobian(theta);
  const MatrixXd j_fd = testing::central_difference_jacobian(
      [&](const VectorXd& t) { return obj->residuals(t); }, theta);
  EXPECT_LT(testing::max_scaled_error(j, j_fd), k_fd_tolerance);
  // grad L = 2 J^T r exactly in exact arithmetic; in floating point both are sums of the same
  // O(n) products, so they agree to a few ulps of the gradient scale.
  const VectorXd g = obj->gradient(theta);
  EXPECT_LT(testing::max_scaled_error(2.0 * j.transpose() * obj->residuals(theta), g), 1e-13);
}

TEST_P(Derivatives, HessianAndHvpMatchFiniteDifferencesOfTheGradient) {
  const MatrixXd h = obj->hessian(theta);
  const MatrixXd h_fd = testing::central_difference_jacobian(
      [&](const VectorXd& t) { return obj->gradient(t); }, theta);
  EXPECT_LT(testing::max_scaled_error(h, h_fd), k_fd_tolerance);
  // H v from the R-operator against the dense Hessian times v: same arithmetic up to the order of
  // summation, so round-off level (n ~ 50 terms of O(1)).
  Rng rng(3);
  VectorXd v(theta.size());
  for (Index i = 0; i < v.size(); ++i) v[i] = rng.normal();
  EXPECT_LT(testing::max_scaled_error(obj->hvp(theta, v), h * v), 1e-12);
  EXPECT_EQ((h - h.transpose()).cwiseAbs().maxCoeff(), 0.0);  // symmetrised exactly
}

// J J^T formed layer by layer (objective.hpp) against the product of the explicit Jacobian. Each
// entry is a sum of n products J_ak J_bk in both; the standard bound on a computed sum of n
// products, n eps sum_k |J_ak J_bk| <= n eps |J_a| |J_b| (Cauchy-Schwarz), holds for each, so
// the two differ by at most 2 n eps |J_a| |J_b|; the test allows 4 n eps (the layered form's
// Hadamard products add one rounding per layer). Products in the subnormal range (smoolu's
// e^(-1/x) near 0) carry an absolute error of up to one subnormal step each instead: n of them
// are added to the bound. Row norms by stableNorm (|J_a|^2 underflows for rows of ~1e-165).
void expect_gram_matches_jacobian(const Objective& obj, const VectorXd& theta) {
  const MatrixXd j = obj.jacobian(theta);
  const MatrixXd g = obj.residual_gram(theta);
  const MatrixXd reference = j * j.transpose();
  ASSERT_EQ(g.rows(), j.rows());
  ASSERT_EQ(g.cols(), j.rows());
  const VectorXd norms = j.rowwise().stableNorm();
  const double eps = std::numeric_limits<double>::epsilon();
  double worst = 0.0;  // largest |difference| / (n eps |J_a| |J_b|)
  for (Index b = 0; b < g.cols(); ++b)
    for (Index a = 0; a < g.rows(); ++a) {
      const double n = double(j.cols());
      const double bound =
          n * eps * norms[a] * norms[b] + n * std::numeric_limits<double>::denorm_min();
      worst = std::max(worst, std::abs(g(a, b) - reference(a, b)) / bound);
    }
  EXPECT_LE(worst, 4.0);
  EXPECT_EQ((g - g.transpose()).cwiseAbs().maxCoeff(), 0.0);  // symmetric bitwise
}

TEST_P(Derivatives, ResidualGramEqualsJacobianTimesItsTranspose) {
  expect_gram_matches_jacobian(*obj, theta);
}

// J v by the R-forward pass and J^T u by the backward pass against the explicit Jacobian's
// products: the same O(n) (resp. O(l d)) products summed in another order, so round-off level
// relative to the largest entry (as grad L = 2 J^T r above).
TEST_P(Derivatives, JacobianProductsMatchTheJacobian) {
  const MatrixXd j = obj->jacobian(theta);
  Rng rng(17);
  VectorXd v(theta.size()), u(obj->n_residuals());
  for (Index i = 0; i < v.size(); ++i) v[i] = rng.normal();
  for (Index i = 0; i < u.size(); ++i) u[i] = rng.normal();
  EXPECT_LT(testing::max_scaled_error(obj->jacobian_product(theta, v), j * v), 1e-13);
  EXPECT_LT(testing::max_scaled_error(obj->jacobian_transpose_product(theta, u), j.transpose() * u),
            1e-13);
  EXPECT_THROW(obj->jacobian_product(theta, u), std::invalid_argument);
  EXPECT_THROW(obj->jacobian_transpose_product(theta, v), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(AllSmoothActivations, Derivatives, ::testing::ValuesIn(all_configs()),
                         name);

// At an interpolating point the residuals vanish and grad^2 L = 2 J^T J + 2 sum_i r_i grad^2 r_i
// reduces to 2 J^T J. Targets are the network's own outputs, so |r_i| <~ 1e-15 and the
// difference is round-off: 1e-12 relative to the Hessian's scale.
TEST(Hessian, EqualsGaussNewtonAtZeroLoss) {
  for (Activation a : {Activation::softplus, Activation::tanh, Activation::smoolu}) {
    const Mlp model({.widths = {2, 6, 5, 2}, .activation = a});
    VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 9, .std = 0.9});
    if (a == Activation::smoolu) theta.array() += 0.4;
    Dataset data = random_data(4, 2, 2, 1);
    data.y = model.predict(theta, data.x);
    const Objective obj(model, data);
    ASSERT_LT(obj.loss(theta), 1e-28);
    const MatrixXd h = obj.hessian(theta);
    const MatrixXd gn = obj.gauss_newton(theta);
    EXPECT_LT((h - gn).cwiseAbs().maxCoeff(), 1e-12 * h.cwiseAbs().maxCoeff()) << to_string(a);
    // And the Hessian really has a second-order part away from the minimum.
    data.y.array() += 0.5;
    const Objective off(model, data);
    EXPECT_GT((off.hessian(theta) - off.gauss_newton(theta)).cwiseAbs().maxCoeff(), 1e-3);
  }
}

TEST(Loss, SumMeanAndCrossEntropyDerivatives) {
  const Mlp model({.widths = {3, 5, 4}, .activation = Activation::gelu});
  const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  Dataset data = random_data(9, 3, 4, 4);
  const Objective sum(model, data), mean(model, data, {.reduction = Reduction::mean});
  EXPECT_NEAR(mean.loss(theta), sum.loss(theta) / 9.0, 1e-14 * sum.loss(theta));
  // Cross-entropy with one-hot labels.
  data.y.setZero();
  for (Index i = 0; i < 9; ++i) data.y(i, i % 4) = 1.0;
  const Objective ce(model, data, {.kind = LossKind::cross_entropy});
  const MatrixXd logits = model.predict(theta, data.x);
  double expected = 0;
  for (Index i = 0; i < 9; ++i)
    expected -= logits(i, i % 4) - std::log(logits.row(i).array().exp().sum());
  EXPECT_NEAR(ce.loss(theta), expected, 1e-13 * expected);
  const VectorXd g_fd =
      testing::central_difference_gradient([&](const VectorXd& t) { return ce.loss(t); }, theta);
  EXPECT_LT(testing::max_scaled_error(ce.gradient(theta), g_fd), k_fd_tolerance);
  const MatrixXd h_fd = testing::central_difference_jacobian(
      [&](const VectorXd& t) { return ce.gradient(t); }, theta);
  EXPECT_LT(testing::max_scaled_error(ce.hessian(theta), h_fd), k_fd_tolerance);
  EXPECT_THROW(ce.jacobian(theta), std::invalid_argument);
}

// Chunks (256 points each) are processed by any thread but summed in a fixed order, so loss,
// gradient and HVP must be bitwise equal for 1, 2 and 3 threads. d = 1000 gives 4 chunks.
TEST(Loss, BitwiseIdenticalForAnyThreadCount) {
  const Mlp model({.widths = {5, 16, 8, 2}, .activation = Activation::tanh});
  const VectorXd theta = model.init_parameters({.seed = 1});
  const Objective obj(model, random_data(1000, 5, 2, 3));
  VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const int saved = num_threads();
  std::vector<double> losses;
  std::vector<VectorXd> grads, hvps;
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    losses.push_back(obj.loss(theta));
    grads.push_back(obj.gradient(theta));
    hvps.push_back(obj.hvp(theta, v));
  }
  set_num_threads(saved);
  for (size_t k = 1; k < 3; ++k) {
    EXPECT_EQ(std::memcmp(&losses[k], &losses[0], sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(grads[k].data(), grads[0].data(), sizeof(double) * grads[0].size()), 0);
    EXPECT_EQ(std::memcmp(hvps[k].data(), hvps[0].data(), sizeof(double) * hvps[0].size()), 0);
  }
}

bool bitwise_equal(const VectorXd& a, const VectorXd& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

// The residual Gram in several tiles of 256 rows with l = 3 outputs, so that tile boundaries
// fall inside a point's rows (256 = 3 * 85 + 1), two hidden layers: J J^T to the bound above, and
// the same bits for 1, 2 and 3 threads (fixed tiles, one single-threaded GEMM each). The
// cross-entropy loss has no residuals.
TEST(ResidualGram, TilesOutputsAndThreads) {
  const Mlp model({.widths = {4, 12, 7, 3}, .activation = Activation::softplus});
  const VectorXd theta = model.init_parameters({.seed = 21});
  const Objective obj(model, random_data(200, 4, 3, 22));  // 600 residual rows: 3 row tiles
  expect_gram_matches_jacobian(obj, theta);
  // J v and J^T u over four chunks of points (64 rows each) against the Jacobian's products.
  const MatrixXd j = obj.jacobian(theta);
  const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 24});
  const VectorXd u = obj.residuals(theta);
  EXPECT_LT(testing::max_scaled_error(obj.jacobian_product(theta, v), j * v), 1e-13);
  EXPECT_LT(testing::max_scaled_error(obj.jacobian_transpose_product(theta, u), j.transpose() * u),
            1e-13);
  const int saved = num_threads();
  set_num_threads(1);
  const MatrixXd one = obj.residual_gram(theta);
  const VectorXd jtu = obj.jacobian_transpose_product(theta, u);
  for (int t : {2, 3}) {
    set_num_threads(t);
    const MatrixXd g = obj.residual_gram(theta);
    EXPECT_EQ(std::memcmp(g.data(), one.data(), sizeof(double) * one.size()), 0) << t << " threads";
    EXPECT_TRUE(bitwise_equal(obj.jacobian_transpose_product(theta, u), jtu)) << t << " threads";
  }
  set_num_threads(saved);
  // Into a caller's matrix: the same bits whether it arrives empty, of another shape, or holding
  // an earlier Gram of its shape (kept memory, not a fresh block).
  const auto same_bits = [](const MatrixXd& a, const MatrixXd& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
  };
  MatrixXd into = MatrixXd::Constant(7, 3, NAN);
  obj.residual_gram(theta, into);
  EXPECT_TRUE(same_bits(into, one));
  const double* kept = into.data();
  obj.residual_gram(v, into);
  EXPECT_EQ(into.data(), kept);
  EXPECT_TRUE(same_bits(into, obj.residual_gram(v)));
  // One output, 300 points: a diagonal tile of 256 rows and one of 44, each formed in blocks of
  // 64 rows on and below its diagonal (the last 0 or 44 rows), and an off-diagonal 44 x 256 tile.
  const Mlp narrow({.widths = {3, 9, 1}, .activation = Activation::tanh});
  expect_gram_matches_jacobian(Objective(narrow, random_data(300, 3, 1, 25)),
                               narrow.init_parameters({.seed = 26}));
  Dataset labels = random_data(20, 4, 3, 23);
  labels.y = labels.y.cwiseAbs();
  const Objective ce(model, labels, {.kind = LossKind::cross_entropy});
  EXPECT_THROW(ce.residual_gram(theta), std::invalid_argument);
  EXPECT_THROW(obj.residual_gram(VectorXd::Zero(3)), std::invalid_argument);
}

// Each thread reuses one workspace (layer matrices, per-chunk n-vectors) for every objective and
// every kind of call. Interleaving calls on two objectives of different shapes (4 chunks and 1;
// squared and cross-entropy) must give bitwise what each call gives first thing, and hvp() must
// be bitwise HessianOperator::apply() (the same arithmetic, from scratch), also when the output
// overlaps the input vector.
TEST(Loss, ReusedWorkspacesGiveTheSameBits) {
  const Mlp big({.widths = {5, 16, 8, 2}, .activation = Activation::tanh});
  const Mlp small({.widths = {3, 6, 4}, .activation = Activation::softplus});
  const Objective a(big, random_data(1000, 5, 2, 3));
  Dataset one_hot = random_data(40, 3, 4, 4);
  one_hot.y.setZero();
  for (Index i = 0; i < 40; ++i) one_hot.y(i, i % 4) = 1.0;
  const Objective b(small, one_hot, {.kind = LossKind::cross_entropy});
  const VectorXd ta = big.init_parameters({.seed = 1});
  const VectorXd va = big.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  const VectorXd tb = small.init_parameters({.seed = 5});
  const VectorXd vb = small.init_parameters({.scheme = InitScheme::normal, .seed = 6});

  const VectorXd hva = a.hvp(ta, va);
  const VectorXd ga = a.gradient(ta);
  const double la = a.loss(ta);
  const VectorXd hvb = b.hvp(tb, vb);
  const VectorXd gb = b.gradient(tb);
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(bitwise_equal(b.gradient(tb), gb));
    EXPECT_TRUE(bitwise_equal(a.hvp(ta, va), hva));
    EXPECT_TRUE(bitwise_equal(b.hvp(tb, vb), hvb));
    EXPECT_TRUE(bitwise_equal(a.gradient(ta), ga));
    EXPECT_EQ(a.loss(ta), la);
    EXPECT_EQ(a.jacobian(ta).rows(), a.n_residuals());
  }
  const HessianOperator op = a.hessian_operator(ta);
  EXPECT_TRUE(bitwise_equal(op.apply(va), hva));
  EXPECT_TRUE(bitwise_equal(op.gradient(), ga));
  EXPECT_TRUE(bitwise_equal(b.hessian_operator(tb).apply(vb), hvb));
  VectorXd in_place = va;
  op.perform_op(in_place.data(), in_place.data());
  EXPECT_TRUE(bitwise_equal(in_place, hva));
}

TEST(Loss, BadInputsAreRejected) {
  const Mlp model({.widths = {3, 4, 1}});
  Dataset data = random_data(5, 3, 1, 1);
  EXPECT_THROW(Objective(model, random_data(5, 2, 1, 1)), std::invalid_argument);
  EXPECT_THROW(Objective(model, random_data(5, 3, 2, 1)), std::invalid_argument);
  Dataset bad = data;
  bad.x(2, 1) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(Objective(model, bad), std::invalid_argument);
  bad = data;
  bad.y.conservativeResize(4, 1);
  EXPECT_THROW(Objective(model, bad), std::invalid_argument);
  const Objective obj(model, data);
  EXPECT_THROW(obj.loss(VectorXd::Zero(model.n_params() + 1)), std::invalid_argument);
  EXPECT_THROW(obj.hvp(VectorXd::Zero(model.n_params()), VectorXd::Zero(2)), std::invalid_argument);
}

}  // namespace
}  // namespace locus
