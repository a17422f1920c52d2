// The chunked evaluation of the loss and its derivatives (src/core/objective.cpp): a call on one
// chunk of points runs inline on the calling thread, several chunks spread over OpenMP threads,
// and each thread reuses per-layer scratch matrices between calls. Whatever path a call takes,
// the result must be the same bits, and H v must be the Hessian's product.

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "locus/core/objective.hpp"
#include "testing/finite_differences.hpp"
#include "testing/random_data.hpp"

namespace locus {
namespace {

using Eigen::VectorXd;

bool same_bits(const VectorXd& a, const VectorXd& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

// Everything one point of the tests evaluates.
struct Results {
  double loss = 0.0;
  VectorXd gradient, hvp, apply;
};
Results evaluate(const Objective& obj, const VectorXd& theta, const VectorXd& v) {
  return {obj.loss(theta), obj.gradient(theta), obj.hvp(theta, v),
          obj.hessian_operator(theta).apply(v)};
}
void expect_same_bits(const Results& a, const Results& b) {
  EXPECT_EQ(std::memcmp(&a.loss, &b.loss, sizeof(double)), 0);
  EXPECT_TRUE(same_bits(a.gradient, b.gradient));
  EXPECT_TRUE(same_bits(a.hvp, b.hvp));
  EXPECT_TRUE(same_bits(a.apply, b.apply));
}

// Layers of three different widths (each thread's scratch holds one matrix per layer), on
// d = 200 points (one chunk: the inline path) and d = 700 (three chunks: the threaded path).
// Thread counts 1, 2, 3 and calls from inside an enclosing parallel region (three threads
// evaluating at once, each on its own scratch, each call's chunks on its own thread) all give
// the bits of the first single-threaded call; so does hvp() against HessianOperator::apply().
TEST(ObjectiveChunks, InlineAndThreadedPathsGiveTheSameBits) {
  const Mlp model({.widths = {4, 9, 6, 3}, .activation = Activation::tanh});
  const VectorXd theta = model.init_parameters({.seed = 7});
  const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 8});
  const int saved = num_threads();
  for (Index d : {200, 700}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    const Objective obj(model, testing::random_data(d, 4, 3, 9));
    set_num_threads(1);
    const Results reference = evaluate(obj, theta, v);
    EXPECT_TRUE(same_bits(reference.hvp, reference.apply));
    for (int t : {1, 2, 3}) {
      set_num_threads(t);
      expect_same_bits(evaluate(obj, theta, v), reference);
    }
    std::vector<Results> nested(3);
#pragma omp parallel for num_threads(3)
    for (int i = 0; i < 3; ++i) nested[i] = evaluate(obj, theta, v);
    for (const Results& r : nested) expect_same_bits(r, reference);
  }
  set_num_threads(saved);
}

// H v against central differences of the exact gradient, (g(theta + h v) - g(theta - h v)) / 2h
// with h = cbrt(eps) / |v|: truncation O(h^2 |v|^3 |D^3 L|) and rounding O(eps |g| / h) both
// ~ eps^(2/3) ~ 5e-11 relative to the scale of the entries for this O(1) tanh net; 1e-7 leaves
// a wide margin for the sum over d points. One chunk (inline) and three chunks (threaded).
TEST(ObjectiveChunks, HvpMatchesCentralDifferencesOfTheGradient) {
  const Mlp model({.widths = {4, 9, 6, 3}, .activation = Activation::tanh});
  const VectorXd theta = model.init_parameters({.seed = 3});
  const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 4});
  const double h = std::cbrt(std::numeric_limits<double>::epsilon()) / v.norm();
  for (Index d : {200, 700}) {
    SCOPED_TRACE("d = " + std::to_string(d));
    const Objective obj(model, testing::random_data(d, 4, 3, 5));
    const VectorXd fd = (obj.gradient(theta + h * v) - obj.gradient(theta - h * v)) / (2.0 * h);
    EXPECT_LE(testing::max_scaled_error(obj.hvp(theta, v), fd), 1e-7);
  }
}

}  // namespace
}  // namespace locus
