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
// d = 200 and 700 points: chunks of 64 points for the first network (4 and 11: the threaded
// path), of 256 for the second, whose layer of 300 x 220 weights asks for them (make_chunks: one
// chunk at d = 200, the inline path, and three at 700). Thread counts 1, 2, 3 and calls from
// inside an enclosing parallel region (three threads evaluating at once, each on its own scratch,
// each call's chunks on its own thread) all give the bits of the first single-threaded call; so
// does hvp() against HessianOperator::apply(). The second network's products are deeper than 64
// (300 inputs, 256 rows): without AVX-512 they go to BLAS's dgemm (gemm.hpp), from several
// threads at once.
TEST(ObjectiveChunks, InlineAndThreadedPathsGiveTheSameBits) {
  const int saved = num_threads();
  for (const MlpSpec& spec :
       {MlpSpec{.widths = {4, 9, 6, 3}, .activation = Activation::tanh},
        MlpSpec{.widths = {300, 220, 3}, .activation = Activation::softplus}}) {
    const Mlp model(spec);
    const VectorXd theta = model.init_parameters({.seed = 7});
    const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 8});
    for (Index d : {200, 700}) {
      SCOPED_TRACE(model.describe() + ", d = " + std::to_string(d));
      const Objective obj(model, testing::random_data(d, spec.widths.front(), 3, 9));
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

// A narrow output layer (1 to 4 outputs) takes fused R-passes (r_forward_columns and
// r_backward_columns in objective.cpp; 5 outputs take the general passes): H v must still match
// central differences of the gradient (tolerance as above), with and without biases, on one chunk
// whose row count is not a multiple of 8 (77 rows: whole blocks of 8 and a tail) and on five
// chunks; from scratch, right after a gradient and through HessianOperator it must be the same
// bits, and for the one-hidden-layer net it must match the dense Hessian (assembled by separate
// GEMM code, dense_hessian.cpp) times v to round-off (1e-12 relative: sums of ~d n products).
TEST(ObjectiveChunks, NarrowOutputLayersGiveTheHessianProduct) {
  for (Index outputs = 1; outputs <= 5; ++outputs)
    for (bool bias : {true, false})
      for (int depth : {1, 2}) {
        std::vector<Index> widths = {5, 12};
        if (depth == 2) widths.push_back(7);
        widths.push_back(outputs);
        MlpSpec spec{.widths = widths, .activation = Activation::softplus};
        if (!bias) spec.bias.assign(widths.size() - 1, false);
        const Mlp model(spec);
        const VectorXd theta = model.init_parameters({.scheme = InitScheme::normal, .seed = 21});
        const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 22});
        const double h = std::cbrt(std::numeric_limits<double>::epsilon()) / v.norm();
        for (Index d : {77, 300}) {
          SCOPED_TRACE(model.describe() + (bias ? " with" : " without") +
                       " biases, d = " + std::to_string(d));
          const Dataset data = testing::random_data(d, 5, outputs, 23);
          const Objective fresh(model, data);
          const VectorXd hv = fresh.hvp(theta, v);
          const VectorXd fd =
              (fresh.gradient(theta + h * v) - fresh.gradient(theta - h * v)) / (2.0 * h);
          EXPECT_LE(testing::max_scaled_error(hv, fd), 1e-7);
          if (depth == 1) {
            EXPECT_LE(testing::max_scaled_error(hv, fresh.hessian(theta) * v), 1e-12);
          }
          const Objective obj(model, data);
          obj.loss_gradient(theta);
          EXPECT_TRUE(same_bits(obj.hvp(theta, v), hv));
          EXPECT_TRUE(same_bits(obj.hessian_operator(theta).apply(v), hv));
        }
      }
}

// loss_gradient(theta) keeps its passes for an hvp at the same theta (objective.hpp). The cached
// product must be the same bits as one from scratch, and a cache left by another theta (one bit
// apart), by a mini-batch gradient or by another thread must never serve. References come from
// an Objective that has never taken a gradient. Squared and cross-entropy losses; one chunk and
// three.
TEST(ObjectiveChunks, HvpAfterAGradientReusesItsPassesWithTheSameBits) {
  const Mlp model({.widths = {4, 9, 6, 3}, .activation = Activation::softplus});
  const VectorXd theta = model.init_parameters({.seed = 11});
  VectorXd nearby = theta;
  nearby[5] = std::nextafter(nearby[5], 1.0);
  const VectorXd other = model.init_parameters({.seed = 12});
  const VectorXd v = model.init_parameters({.scheme = InitScheme::normal, .seed = 13});
  for (LossKind kind : {LossKind::squared, LossKind::cross_entropy}) {
    for (Index d : {200, 700}) {
      SCOPED_TRACE(std::string(to_string(kind)) + ", d = " + std::to_string(d));
      Dataset data = testing::random_data(d, 4, 3, 14);
      if (kind == LossKind::cross_entropy) data.y = data.y.cwiseAbs();
      const Objective fresh(model, data, {.kind = kind});
      const VectorXd at_theta = fresh.hvp(theta, v), at_nearby = fresh.hvp(nearby, v),
                     at_other = fresh.hvp(other, v);
      const bool squared = kind == LossKind::squared;
      const VectorXd u = squared ? fresh.residuals(other) : VectorXd();
      const VectorXd jv = squared ? fresh.jacobian_product(theta, v) : VectorXd();
      const VectorXd jtu = squared ? fresh.jacobian_transpose_product(theta, u) : VectorXd();
      const Objective obj(model, data, {.kind = kind});
      const Objective::LossGradient lg = obj.loss_gradient(theta);
      EXPECT_TRUE(same_bits(lg.gradient, fresh.gradient(theta)));
      if (squared) {  // J v and J^T u reuse the cached forward pass
        EXPECT_TRUE(same_bits(obj.jacobian_product(theta, v), jv));
        EXPECT_TRUE(same_bits(obj.jacobian_transpose_product(theta, u), jtu));
      }
      EXPECT_TRUE(same_bits(obj.hvp(theta, v), at_theta));    // from the cache, left intact
      EXPECT_TRUE(same_bits(obj.hvp(theta, v), at_theta));    // the cache is left as it was
      EXPECT_TRUE(same_bits(obj.hvp(nearby, v), at_nearby));  // one bit apart: not served
      obj.loss_gradient(other);
      EXPECT_TRUE(same_bits(obj.hvp(theta, v), at_theta));
      EXPECT_TRUE(same_bits(obj.hvp(other, v), at_other));
      const std::vector<Index> batch = {3, 1, 4, 1, 5};
      obj.loss_gradient_terms(theta, batch);  // a mini-batch's passes are not the full data's
      EXPECT_TRUE(same_bits(obj.hvp(theta, v), at_theta));
      EXPECT_TRUE(same_bits(obj.hvp(other, v), at_other));
      const Objective copy(obj);  // a copy starts with its own, empty cache
      EXPECT_TRUE(same_bits(copy.hvp(other, v), at_other));
      // Three threads alternating gradients at two points and products at both.
      std::vector<int> ok(6, 0);
#pragma omp parallel for num_threads(3)
      for (int i = 0; i < 6; ++i) {
        const VectorXd& point = i % 2 ? theta : other;
        obj.loss_gradient(point);
        ok[i] = same_bits(obj.hvp(point, v), i % 2 ? at_theta : at_other) &&
                same_bits(obj.hvp(i % 2 ? other : theta, v), i % 2 ? at_other : at_theta);
      }
      for (int i = 0; i < 6; ++i) EXPECT_TRUE(ok[i]) << "thread call " << i;
    }
  }
}

}  // namespace
}  // namespace locus
