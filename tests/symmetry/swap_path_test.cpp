#include "locus/symmetry/swap_path.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "locus/core/random.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::symmetry {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kEps = std::numeric_limits<double>::epsilon();

MatrixXd random_inputs(Index d, Index p, std::uint64_t seed) {
  Rng rng(seed);
  MatrixXd x(d, p);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
  return x;
}

// The largest |f| over the data: outputs of the path's points are compared relative to it.
double output_scale(const Mlp& m, const VectorXd& theta, const MatrixXd& x) {
  return std::max(1.0, m.predict(theta, x).cwiseAbs().maxCoeff());
}

// Every vertex, and points inside every segment, compute the teacher's function: moving the
// incoming weights of a neuron whose outgoing weights are 0 changes nothing, and a transfer
// between neurons with the same incoming weights changes the outputs by the rounding of two
// products, a few eps |a| |sigma| <= 64 eps scale.
void expect_function_constant(const SwapPath& s, const Mlp& teacher, const VectorXd& theta,
                              const MatrixXd& x) {
  const MatrixXd f = teacher.predict(theta, x);
  const double tol = 64 * kEps * output_scale(teacher, theta, x);
  for (Index k = 0; k + 1 < s.vertices.rows(); ++k)
    for (double t : {0.0, 0.3, 0.5, 0.9}) {
      const VectorXd p =
          (1 - t) * s.vertices.row(k).transpose() + t * s.vertices.row(k + 1).transpose();
      EXPECT_LE((s.model.predict(p, x) - f).cwiseAbs().maxCoeff(), tol)
          << "segment " << k << " (" << to_string(s.segments[static_cast<size_t>(k)].kind)
          << "), t = " << t;
    }
}

TEST(SwapPath, ExchangesTwoNeuronsInPlaceThroughOneExtraNeuron) {
  const Mlp teacher(
      {.widths = {2, 4, 1}, .activation = Activation::sigmoid, .bias = {false, false}});
  const VectorXd theta = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 3});
  const SwapPath s = swap_path(teacher, theta, {{.layer = 1, .i = 0, .j = 2}});
  EXPECT_EQ(s.model.spec().widths, (std::vector<Index>{2, 5, 1}));
  ASSERT_EQ(s.vertices.rows(), 8);
  ASSERT_EQ(s.segments.size(), 7u);
  // First row: the teacher with a zero-type neuron (zero incoming and outgoing weights).
  const transforms::Surgery grown = transforms::grow(teacher, theta, {5});
  EXPECT_EQ(VectorXd(s.vertices.row(0).transpose()), grown.theta);
  // Last row: the teacher with neurons 0 and 2 exchanged, bit for bit, the extra neuron as before.
  const transforms::Surgery swapped = transforms::permute_neurons(teacher, theta, 1, {2, 1, 0, 3});
  const transforms::Surgery target = transforms::grow(swapped.model, swapped.theta, {5});
  EXPECT_EQ(VectorXd(s.vertices.row(7).transpose()), target.theta);
  expect_function_constant(s, teacher, theta, random_inputs(30, 2, 1));
  // Segment kinds alternate: move, transfer, ..., move.
  for (size_t k = 0; k < 7; ++k)
    EXPECT_EQ(s.segments[k].kind,
              k % 2 == 0 ? SwapSegmentKind::move_incoming : SwapSegmentKind::transfer_outgoing);
}

// A deep biased net: swaps in both hidden layers, one extra neuron per layer.
TEST(SwapPath, DeepNetSwapsInEveryLayerWithOneExtraNeuronPerLayer) {
  const Mlp teacher({.widths = {3, 4, 3, 2}, .activation = Activation::tanh});
  const VectorXd theta = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 5});
  const SwapPath s = swap_path(teacher, theta, {{1, 1, 3}, {2, 0, 2}});
  EXPECT_EQ(s.model.spec().widths, (std::vector<Index>{3, 5, 4, 2}));
  ASSERT_EQ(s.vertices.rows(), 15);
  transforms::Surgery p = transforms::permute_neurons(teacher, theta, 1, {0, 3, 2, 1});
  p = transforms::permute_neurons(p.model, p.theta, 2, {2, 1, 0});
  const transforms::Surgery target = transforms::grow(p.model, p.theta, {5, 4});
  EXPECT_EQ(VectorXd(s.vertices.row(14).transpose()), target.theta);
  expect_function_constant(s, teacher, theta, random_inputs(25, 3, 2));
}

TEST(SwapPath, BadSwapsAreRejectedNamingThem) {
  const Mlp teacher({.widths = {2, 3, 1}});
  const VectorXd theta = teacher.init_parameters({.seed = 1});
  auto message = [&](const std::vector<NeuronSwap>& swaps) {
    try {
      swap_path(teacher, theta, swaps);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message({}).find("no swaps"), std::string::npos);
  EXPECT_NE(message({{1, 1, 1}}).find("must differ"), std::string::npos);
  EXPECT_NE(message({{1, 0, 3}}).find("neuron 3"), std::string::npos);
  EXPECT_NE(message({{2, 0, 1}}).find("layer 2"), std::string::npos);
  EXPECT_THROW(swap_path(teacher, VectorXd::Zero(2), {{1, 0, 1}}), std::invalid_argument);
}

}  // namespace
}  // namespace locus::symmetry
