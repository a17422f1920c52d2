// The dense Hessian of networks with at most one hidden layer, assembled with GEMMs
// (src/core/dense_hessian.cpp: H = B^T B + block-sparse curvature), against two independent
// references: the Hessian built column by column from exact HVPs (the R-operator of
// HessianOperator, the previous path) and central differences of the gradient.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "locus/analysis/spectrum.hpp"
#include "locus/core/objective.hpp"
#include "testing/finite_differences.hpp"
#include "testing/random_data.hpp"

namespace locus {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// The reference: column j = H e_j from the R-operator, symmetrised.
MatrixXd hvp_columns(const Objective& obj, const VectorXd& theta) {
  const HessianOperator op = obj.hessian_operator(theta);
  const Index n = obj.n_params();
  MatrixXd h(n, n);
  for (Index j = 0; j < n; ++j) h.col(j) = op.apply(VectorXd::Unit(n, j));
  return 0.5 * (h + h.transpose());
}

bool bitwise_equal(const MatrixXd& a, const MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

// One problem: activation x hidden layers (0 or 1) x bias x outputs x loss x mean field.
struct Case {
  Activation activation;
  int hidden;  // 0: a linear model (H = Gauss-Newton exactly), 1: one hidden layer
  bool bias;
  Index outputs;
  LossSpec loss;
  bool mean_field;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Activation a : all_activations()) {
    if (a == Activation::relu) continue;  // sigma'' is a Dirac mass: no FD Hessian at kinks
    out.push_back({a, 1, true, 1, {}, false});
    out.push_back({a, 1, false, 3, {.reduction = Reduction::mean}, false});
    out.push_back({a, 1, true, 3, {.kind = LossKind::cross_entropy}, true});
  }
  out.push_back({Activation::tanh, 0, true, 2, {}, false});
  out.push_back({Activation::tanh, 0, false, 3, {.kind = LossKind::cross_entropy}, false});
  return out;
}

// Entries here are sums over d = 23 points of products of O(1) numbers (normal data and
// weights): each path's rounding error is at most ~ (d + width) eps times the sum of the
// magnitudes of the terms, ~ 50 * 2.2e-16 * O(10) ~ 1e-13 relative to max |H|; 1e-12 leaves a
// factor of 10 for cancellation and still catches any missing term (those are O(0.1) or more).
constexpr double k_round_off = 1e-12;
// Central differences of the gradient: ~eps^(2/3) ~ 4e-11 times the third derivative's scale
// (see objective_test.cpp); 1e-7 leaves two orders of margin.
constexpr double k_hessian_fd_tolerance = 1e-7;

TEST(DenseHessian, MatchesHvpColumnsAndFiniteDifferences) {
  for (const Case& c : cases()) {
    std::vector<Index> widths = {3};
    if (c.hidden) widths.push_back(5);
    widths.push_back(c.outputs);
    MlpSpec spec{.widths = widths, .activation = c.activation, .mean_field = c.mean_field};
    if (!c.bias) spec.bias.assign(widths.size() - 1, false);
    const Mlp model(spec);
    Dataset data = testing::random_data(23, 3, c.outputs, 4);
    if (c.loss.kind == LossKind::cross_entropy) {  // one-hot rows, one of them left empty
      data.y.setZero();
      for (Index i = 1; i < data.size(); ++i) data.y(i, i % c.outputs) = 1.0;
    }
    VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 5, .std = 0.8});
    if (c.activation == Activation::smoolu) theta.array() += 0.3;  // keep units active
    const Objective obj(model, data, c.loss);
    const std::string what = model.describe() + " " + std::string(to_string(c.loss.kind)) + " " +
                             std::string(to_string(c.loss.reduction));
    const MatrixXd h = obj.hessian(theta);
    EXPECT_EQ((h - h.transpose()).cwiseAbs().maxCoeff(), 0.0) << what;  // symmetric bitwise
    EXPECT_LT(testing::max_scaled_error(h, hvp_columns(obj, theta)), k_round_off) << what;
    const MatrixXd h_fd = testing::central_difference_jacobian(
        [&](const VectorXd& t) { return obj.gradient(t); }, theta);
    EXPECT_LT(testing::max_scaled_error(h, h_fd), k_hessian_fd_tolerance) << what;
  }
}

// n = 11 * 40 + 41 = 481 parameters (two column blocks of 256, three tiles) and 600 points: the
// tiles run on different threads, each a GEMM of a fixed shape, so the bits cannot depend on the
// thread count; the Jacobian's columns are disjoint and neither. The large case is also checked
// against HVP columns, with the tolerance above scaled by d = 600 / 23.
TEST(DenseHessian, BitwiseIdenticalForAnyThreadCountAndMatchesHvpColumns) {
  const Mlp model({.widths = {10, 40, 1}, .activation = Activation::softplus});
  const VectorXd theta = model.init_parameters({.seed = 2});
  const Objective obj(model, testing::random_data(600, 10, 1, 8));
  const int saved = num_threads();
  std::vector<MatrixXd> hs, js;
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    hs.push_back(obj.hessian(theta));
    js.push_back(obj.jacobian(theta));
  }
  set_num_threads(saved);
  for (size_t k = 1; k < hs.size(); ++k) {
    EXPECT_TRUE(bitwise_equal(hs[k], hs[0]));
    EXPECT_TRUE(bitwise_equal(js[k], js[0]));
  }
  EXPECT_LT(testing::max_scaled_error(hs[0], hvp_columns(obj, theta)), 30 * k_round_off);
  // grad L = 2 J^T r: the same products summed in another order.
  EXPECT_LT(testing::max_scaled_error(2.0 * js[0].transpose() * obj.residuals(theta),
                                      obj.gradient(theta)),
            30 * k_round_off);
}

// The Gauss-Newton matrix 2c J^T J of a deeper net (n = 893: four column tiles of 256, the last
// 125 wide, so every kind of tile and a ragged edge) against Eigen's plain product of the same
// Jacobian. Each entry is a sum of l d = 300 products summed in another order: within
// 4 depth eps (|J|^T |J|)_ij (the usual bound is depth eps); a tile left out (zeros), a wrong
// scale or a transposed tile each break it by orders of magnitude. The same bits for 1-3 threads,
// symmetric bitwise.
TEST(GaussNewton, TiledOverThreadsMatchesTheJacobiansProduct) {
  const Mlp model({.widths = {6, 30, 20, 3}, .activation = Activation::tanh});
  ASSERT_EQ(model.n_params(), 893);
  const VectorXd theta = model.init_parameters({.seed = 4});
  const Objective obj(model, testing::random_data(100, 6, 3, 5));
  const MatrixXd j = obj.jacobian(theta);
  const double c2 = 2.0 * obj.scale();
  const MatrixXd reference = c2 * (j.transpose() * j);
  const MatrixXd bound = 4.0 * double(j.rows()) * std::numeric_limits<double>::epsilon() * c2 *
                         (j.cwiseAbs().transpose() * j.cwiseAbs());
  const int saved = num_threads();
  std::vector<MatrixXd> gs;
  for (int t : {1, 2, 3}) {
    set_num_threads(t);
    gs.push_back(obj.gauss_newton(theta));
  }
  set_num_threads(saved);
  const MatrixXd& g = gs[0];
  EXPECT_TRUE(((g - reference).cwiseAbs().array() <= bound.array()).all())
      << "largest error over bound "
      << ((g - reference).cwiseAbs().array() / bound.array().max(1e-300)).maxCoeff();
  EXPECT_TRUE(bitwise_equal(g, MatrixXd(g.transpose())));
  for (size_t k = 1; k < gs.size(); ++k) EXPECT_TRUE(bitwise_equal(gs[k], g));
}

// A Jacobian into a matrix of the right shape (a solver's buffer from the previous step, here
// NaN-filled) writes every entry: the bits of a fresh Jacobian, also through FunctionRef; a buffer
// of another shape is resized.
TEST(DenseHessian, JacobianIntoAReusedMatrixIsTheFreshJacobian) {
  const Mlp model({.widths = {4, 7, 3, 2}, .activation = Activation::tanh});
  const VectorXd theta = model.init_parameters({.seed = 4});
  const Objective obj(model, testing::random_data(90, 4, 2, 10));
  const MatrixXd fresh = obj.jacobian(theta);
  MatrixXd reused = MatrixXd::Constant(fresh.rows(), fresh.cols(), std::nan(""));
  const double* memory = reused.data();
  obj.jacobian(theta, reused);
  EXPECT_TRUE(bitwise_equal(reused, fresh));
  EXPECT_EQ(reused.data(), memory);  // no new allocation
  const FunctionRef f(obj);
  reused.setConstant(std::nan(""));
  f.jacobian(theta, reused);
  EXPECT_TRUE(bitwise_equal(reused, fresh));
  MatrixXd wrong_shape(3, 5);
  obj.jacobian(theta, wrong_shape);
  EXPECT_TRUE(bitwise_equal(wrong_shape, fresh));
}

// analysis::dense_hessian with a listener runs the same assembly (bitwise the objective's) and
// reports the columns of B^T B done after each block of 256: 256 and 481 of 481.
TEST(DenseHessian, ProgressReportsColumnBlocksAndChangesNothing) {
  const Mlp model({.widths = {10, 40, 1}, .activation = Activation::tanh});
  const VectorXd theta = model.init_parameters({.seed = 3});
  const Objective obj(model, testing::random_data(50, 10, 1, 9));
  std::vector<ProgressEvent> events;
  const MatrixXd with =
      analysis::dense_hessian(obj, theta, [&](const ProgressEvent& e) { events.push_back(e); });
  EXPECT_TRUE(bitwise_equal(with, obj.hessian(theta)));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].done, 256);
  EXPECT_EQ(events[1].done, 481);
  EXPECT_EQ(events[1].total, 481);
}

}  // namespace
}  // namespace locus
