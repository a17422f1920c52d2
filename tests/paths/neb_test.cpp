// Nudged elastic band (locus/paths/neb.hpp): analytic functions whose saddles are known in closed
// form, and two permuted copies of a teacher network.

#include "locus/paths/neb.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "locus/core/mlp.hpp"
#include "locus/core/objective.hpp"
#include "testing/random_data.hpp"

namespace locus::paths {
namespace {

using Eigen::VectorXd;

// f(x, y) = (x^2 - 1)^2 + (y - x^2)^2: minima (-1, 1) and (1, 1) with f = 0, one saddle (0, 0)
// with f = 1 and Hessian diag(-4, 2) (index 1). The minimum energy path bends down through the
// saddle; the straight line y = 1 between the minima has f = 2 (x^2 - 1)^2, maximum 2.
// Exact gradient and Hessian-vector product.
struct CurvedDoubleWell {
  Index n_params() const { return 2; }
  double loss(const VectorXd& p) const {
    const double x = p[0], y = p[1];
    return (x * x - 1) * (x * x - 1) + (y - x * x) * (y - x * x);
  }
  LossGradient loss_gradient(const VectorXd& p) const {
    const double x = p[0], y = p[1];
    return {loss(p), Eigen::Vector2d(4 * x * (x * x - 1) - 4 * x * (y - x * x), 2 * (y - x * x))};
  }
  VectorXd hvp(const VectorXd& p, const VectorXd& v) const {
    const double x = p[0], y = p[1];
    const double fxx = 24 * x * x - 4 - 4 * y, fxy = -4 * x, fyy = 2;
    return Eigen::Vector2d(fxx * v[0] + fxy * v[1], fxy * v[0] + fyy * v[1]);
  }
};

// f(x) = cos(2 pi x_0) + cos(2 pi x_1): minima -2 where both x_i are half-integers, saddles 0
// where one is an integer and the other a half-integer (index 1), maxima 2. The barrier between
// neighbouring minima is exactly 2. Only L and grad L: the refinement uses the finite-difference
// Hessian of neb.cpp, like a Python callable.
struct CosineGrid {
  Index n_params() const { return 2; }
  double loss(const VectorXd& x) const {
    return std::cos(2 * M_PI * x[0]) + std::cos(2 * M_PI * x[1]);
  }
  LossGradient loss_gradient(const VectorXd& x) const {
    return {loss(x), Eigen::Vector2d(-2 * M_PI * std::sin(2 * M_PI * x[0]),
                                     -2 * M_PI * std::sin(2 * M_PI * x[1]))};
  }
};

// The refinement stops at |grad f|_inf <= 1e-12; with Hessian eigenvalues of modulus >= 2 the
// saddle is then within |g| / 2 ~ 5e-13 of (0, 0) and f within O(|g|^2) of 1. 1e-10 leaves room
// for the rounding of f (a few eps of its terms, O(1)).
TEST(Neb, CurvedDoubleWellFindsTheSaddle) {
  const CurvedDoubleWell f;
  const NebResult r = neb(f, Eigen::Vector2d(-1, 1), Eigen::Vector2d(1, 1), {.images = 8});
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_LE(r.force_max_norm, NebOptions{}.force_tolerance);
  ASSERT_TRUE(r.saddle.converged()) << r.saddle.message;
  EXPECT_LT(r.saddle.theta.cwiseAbs().maxCoeff(), 1e-10) << r.saddle.theta.transpose();
  EXPECT_NEAR(r.saddle.loss, 1.0, 1e-10);
  ASSERT_TRUE(r.saddle.inertia.has_value());
  EXPECT_EQ(r.saddle.inertia->negative, 1);
  EXPECT_EQ(r.saddle.inertia->positive, 1);
  // The ends are exact minima (f = 0): every convention gives the saddle's height.
  EXPECT_NEAR(r.barriers.above_larger_end, 1.0, 1e-10);
  EXPECT_NEAR(r.barriers.above_mean, 1.0, 1e-10);
  // The straight line's maximum is 2 at x = 0 (the profile locates it to its loss_tolerance).
  EXPECT_NEAR(r.line_profile.barriers.above_larger_end, 2.0, 1e-8);
  // The band bends away from the straight line y = 1 towards the saddle: its middle image is
  // far below it (the minimum energy path leaves the minima along the Hessian's soft direction).
  const Index middle = r.path.control_points().rows() / 2;
  EXPECT_LT(r.path.control_points()(middle, 1), 0.5);
  const io::Json j = to_json(r);
  EXPECT_EQ(j["status"], "converged");
  EXPECT_EQ(j["saddle"]["index"], 1);
  EXPECT_EQ(j["values"].size(), size_t(r.path.control_points().rows()));
  EXPECT_NE(summary(r).find("saddle index: 1"), std::string::npos) << summary(r);
}

// Acceptance 1 of issue 12: the barrier between neighbouring minima of sum_i cos(2 pi x_i) is
// 2, the saddle (0, 1/2). With an even number of images none starts on the saddle: the
// climbing image must climb there. The refinement works on finite-difference HVPs (relative
// error ~ eps^(2/3)), which slow LM's convergence but not its end test on the exact gradient:
// |g|_inf <= 1e-12 puts the saddle within |g| / (4 pi^2) ~ 3e-14 of (0, 1/2), far inside the
// 1e-4 asked, and the barrier within O(|g|^2) of 2 (1e-6 asked; rounding of cos ~ eps).
TEST(Neb, CosineGridBarrierIsTwoWithFiniteDifferenceHessian) {
  const CosineGrid f;
  const NebResult r = neb(f, Eigen::Vector2d(-0.5, 0.5), Eigen::Vector2d(0.5, 0.5), {.images = 6});
  ASSERT_TRUE(r.converged()) << r.message;
  ASSERT_TRUE(r.saddle.converged()) << r.saddle.message;
  EXPECT_NEAR(r.saddle.theta[0], 0.0, 1e-8);
  EXPECT_NEAR(r.saddle.theta[1], 0.5, 1e-8);
  EXPECT_NEAR(r.barriers.above_larger_end, 2.0, 1e-9);
  ASSERT_TRUE(r.saddle.inertia.has_value());
  EXPECT_EQ(r.saddle.inertia->negative, 1);
}

// Global L-BFGS on the band (Sheppard et al. 2008) reaches the same converged band and saddle as
// FIRE on the analytic functions, in fewer iterations (measured: 21 against 216 on the cosine
// grid, 59 against 266 on the double well; asserted with a wide margin: fewer, not 4x fewer).
TEST(Neb, LbfgsConvergesFasterThanFireOnAnalyticFunctions) {
  const CurvedDoubleWell well;
  const CosineGrid grid;
  const auto both = [](FunctionRef f, const VectorXd& a, const VectorXd& b) {
    NebOptions o{.images = 6};
    const NebResult fire = neb(f, a, b, o);
    o.optimizer = NebOptimizer::lbfgs;
    const NebResult lbfgs = neb(f, a, b, o);
    return std::pair(fire, lbfgs);
  };
  for (const auto& [fire, lbfgs] :
       {both(well, Eigen::Vector2d(-1, 1), Eigen::Vector2d(1, 1)),
        both(grid, Eigen::Vector2d(-0.5, 0.5), Eigen::Vector2d(0.5, 0.5))}) {
    ASSERT_TRUE(fire.converged()) << fire.message;
    ASSERT_TRUE(lbfgs.converged()) << lbfgs.message;
    EXPECT_LT(lbfgs.iterations, fire.iterations);
    EXPECT_EQ(lbfgs.optimizer, NebOptimizer::lbfgs);
    ASSERT_TRUE(lbfgs.saddle.converged()) << lbfgs.saddle.message;
    // Both refine to the same saddle (|g|_inf <= 1e-12 puts each within ~1e-12 of it).
    EXPECT_LT((lbfgs.saddle.theta - fire.saddle.theta).cwiseAbs().maxCoeff(), 1e-9);
    EXPECT_EQ(to_json(lbfgs)["optimizer"], "lbfgs");
  }
  EXPECT_EQ(parse_neb_optimizer("fire"), NebOptimizer::fire);
  EXPECT_THROW(parse_neb_optimizer("bfgs"), std::invalid_argument);
}

// Two barriers in a row: from (-1/2, 1/2) to (3/2, 1/2) over the saddles x = 0 and x = 1 and
// the minimum x = 1/2 between them. One image lands on that minimum, the band is flat (every
// vertex at -2) and converged at once; AutoNEB insertion finds the two peaks inside its segments
// and puts images there. The profile of the final band then peaks at the barrier 2.
TEST(Neb, InsertionResolvesTwoBarriers) {
  const CosineGrid f;
  const NebResult r = neb(f, Eigen::Vector2d(-0.5, 0.5), Eigen::Vector2d(1.5, 0.5),
                          {.images = 1, .max_inserted = 4});
  ASSERT_TRUE(r.converged()) << r.message;
  EXPECT_GE(r.images_inserted, 2);
  // loss_profile's loss_tolerance (1e-10 of max(1, |L|)) bounds the located maximum.
  EXPECT_NEAR(r.profile.loss_max, 0.0, 1e-8);
  EXPECT_NEAR(r.barriers.above_larger_end, 2.0, 1e-8);
}

// Permuted copies of a teacher [2, 3, 1] tanh that labels d = 40 > n = 13 points: both are global
// minima (loss at rounding level). NEB between them must find a finite barrier no higher than the
// straight line's, and a climbing image that refines to a critical point of index >= 1.
TEST(Neb, PermutedTeacherHasSaddleBetweenCopies) {
  const Mlp model(MlpSpec{.widths = {2, 3, 1}, .activation = Activation::tanh});
  const VectorXd a = model.init_parameters({.scheme = InitScheme::normal, .seed = 2});
  Dataset data = testing::random_data(40, 2, 1, 4);
  data.y = model.predict(a, data.x);
  const Objective objective(model, data);
  // b: hidden neurons 0 and 1 swapped (rows of W_0, entries of b_0, columns of W_1).
  VectorXd b = a;
  const LayerSlice& l0 = model.layer(0);
  const LayerSlice& l1 = model.layer(1);
  for (Index c = 0; c < l0.in; ++c)
    std::swap(b[l0.weight_offset + c], b[l0.weight_offset + l0.in + c]);
  std::swap(b[l0.bias_offset], b[l0.bias_offset + 1]);
  std::swap(b[l1.weight_offset], b[l1.weight_offset + 1]);

  // FIRE reaches max |F|_inf ~ 1e-3 here within a few thousand iterations and then creeps (the
  // images off the top sit in nearly flat valleys); the climbing image is at the saddle well
  // before, and the refinement does the rest. The band's convergence is tested on the analytic
  // functions above.
  const NebResult r = neb(objective, a, b, {.images = 9, .max_iterations = 3000});
  ASSERT_NE(r.status, NebStatus::non_finite) << r.message;
  EXPECT_TRUE(std::isfinite(r.barriers.above_larger_end));
  EXPECT_GT(r.barriers.above_larger_end, 0.0);
  // The band's top cannot exceed the line's maximum by more than the profile's loss tolerance
  // (NEB only lowers the path; its saddle lies on it).
  EXPECT_LE(r.barriers.above_larger_end,
            r.line_profile.barriers.above_larger_end * (1 + 1e-9) + 1e-12);
  ASSERT_TRUE(r.saddle.converged()) << r.saddle.message;
  // The refinement's tolerance, on a loss of scale |y|^2 = O(1).
  EXPECT_LE(r.saddle.gradient_max_norm, NebOptions{}.saddle_gradient_tolerance);
  ASSERT_TRUE(r.saddle.inertia.has_value());
  EXPECT_GE(r.saddle.inertia->negative, 1) << summary(r);
}

TEST(Neb, RejectsBadInput) {
  const CurvedDoubleWell f;
  const VectorXd a = Eigen::Vector2d(-1, 1), b = Eigen::Vector2d(1, 1);
  EXPECT_THROW(neb(f, a, a), std::invalid_argument);
  EXPECT_THROW(neb(f, a, Eigen::Vector3d(1, 1, 1)), std::invalid_argument);
  EXPECT_THROW(neb(f, a, Eigen::Vector2d(NAN, 1)), std::invalid_argument);
  try {
    neb(f, a, b, {.images = 0});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(neb_table().rephrase(e, options::Interface::cli), "--images must be >= 1, got 0");
  }
  EXPECT_THROW(neb(f, a, b, {.spring_constant = -1}), std::invalid_argument);
}

}  // namespace
}  // namespace locus::paths
