#include "locus/constructions/cooper.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/data/builtin.hpp"
#include "testing/dense_references.hpp"
#include "testing/random_data.hpp"

namespace locus::constructions {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

using testing::random_data;

// Independent check of a construction: the network's predictions from Mlp::predict (not the
// residual the construction reports) against the targets.
double max_abs_error(const CooperConstruction& c, const Dataset& data) {
  const Mlp model(c.spec);
  return (model.predict(c.theta, data.x) - data.y).cwiseAbs().maxCoeff();
}

// Issue 6, acceptance 1: max |f(x_i) - y_i| <= 1e-9 max |y|. The measured floor is the rounding
// of the output layer's sum, eps * sum_j |m_j sigma(z_ij)| ~ 1e-12 .. 3e-10 relative at d = 200.
constexpr double k_acceptance = 1e-9;

struct RandomCase {
  Activation activation;
  Index d, p, l;
  int depth;
};
std::string case_name(const ::testing::TestParamInfo<RandomCase>& info) {
  const RandomCase& c = info.param;
  return std::string(to_string(c.activation)) + "_d" + std::to_string(c.d) + "_p" +
         std::to_string(c.p) + "_l" + std::to_string(c.l) + "_depth" + std::to_string(c.depth);
}
std::vector<RandomCase> random_cases() {
  std::vector<RandomCase> out;
  for (Activation a : {Activation::smoolu, Activation::relu}) {
    // Lemma 3.3 on d up to 200 and p from 1 to 64 (p = 1 has no choice of direction: its
    // projections have the worst gap / spread ratio, ~3e-7 at d = 200).
    for (auto [d, p] : std::vector<std::pair<Index, Index>>{
             {1, 1}, {2, 3}, {17, 1}, {50, 8}, {64, 64}, {200, 1}, {200, 8}, {200, 64}})
      out.push_back({a, d, p, 1, 1});
    // Deep (Cor 3.4, working form) with 2-4 hidden layers, and multi-output.
    for (int depth = 2; depth <= 4; ++depth) {
      out.push_back({a, 40, 5, 1, depth});
      out.push_back({a, 200, 8, 2, depth});
    }
    out.push_back({a, 100, 10, 3, 1});
    out.push_back({a, 64, 16, 10, 2});
  }
  return out;
}

class CooperRandom : public ::testing::TestWithParam<RandomCase> {};

TEST_P(CooperRandom, FitsEveryPointToAcceptanceTolerance) {
  const RandomCase& rc = GetParam();
  const Dataset data = random_data(rc.d, rc.p, rc.l, 1000 * rc.d + 10 * rc.p + rc.l);
  const CooperConstruction c =
      construct_cooper(data, {.activation = rc.activation, .depth = rc.depth});
  ASSERT_TRUE(c.ok()) << c.message;
  const double max_y = data.y.cwiseAbs().maxCoeff();
  EXPECT_LE(max_abs_error(c, data), k_acceptance * max_y) << c.message;
  // The reported residual is the network's own (Objective::residuals); predict() sums the same
  // products, so the two agree to the same rounding level.
  EXPECT_LE(c.max_abs_residual, k_acceptance * max_y);
  EXPECT_EQ(c.rank_A, rc.d);
  EXPECT_TRUE(std::isfinite(c.cond_A) && c.cond_A >= 1.0 - 1e-12);  // d = 1: A (1/A) rounds
  // Correction 3: the smallest projected gap after rescaling is min_gap (up to the rounding of
  // a.x_i, ~eps |a| |x|).
  if (rc.d >= 2) {
    EXPECT_NEAR(c.projection_gap_min, 2.0, 1e-6);
  }
  // Architecture: [p, d x depth, l], one shared hidden layer for l outputs (correction 4).
  std::vector<Index> widths = {rc.p};
  for (int t = 0; t < rc.depth; ++t) widths.push_back(rc.d);
  widths.push_back(rc.l);
  EXPECT_EQ(c.spec.widths, widths);
  EXPECT_EQ(c.n_params, Mlp(c.spec).n_params());
  // Correction 1: one hidden layer of width h has n = h (p + 2) + 1 parameters (l = 1).
  if (rc.depth == 1 && rc.l == 1) {
    EXPECT_EQ(c.n_params, rc.d * (rc.p + 2) + 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Acceptance, CooperRandom, ::testing::ValuesIn(random_cases()), case_name);

// Acceptance 1 on the built-in real datasets: seeded subsets of distinct rows (iris has a
// duplicated row, so its full set is refused: see DuplicateInputsNameTheRows), raw and
// standardised, one-hot targets (multi-output, l = 2 .. 10), one and three hidden layers.
// Measured: 1e-13 .. 4e-11 relative; the full digits set (d = 1797) reaches only ~1e-9.
TEST(CooperConstruction, FitsBuiltinRealDatasets) {
  for (const std::string& name : builtin_dataset_names()) {
    for (Index n_points : {Index{64}, Index{149}}) {
      for (bool standardize : {false, true}) {
        const Dataset data =
            load_builtin(name, {.standardize = standardize, .n_points = n_points, .seed = 1});
        for (Activation a : {Activation::smoolu, Activation::relu}) {
          for (int depth : {1, 3}) {
            const CooperConstruction c = construct_cooper(data, {.activation = a, .depth = depth});
            EXPECT_TRUE(c.ok()) << name << ": " << c.message;
            EXPECT_LE(max_abs_error(c, data), k_acceptance * data.y.cwiseAbs().maxCoeff())
                << name << " d = " << n_points << " " << to_string(a) << " depth " << depth;
          }
        }
      }
    }
  }
  // The whole of breast_cancer (569 distinct points, p = 30).
  const Dataset bc = load_builtin("breast_cancer", {.standardize = true});
  const CooperConstruction c = construct_cooper(bc);
  EXPECT_TRUE(c.ok()) << c.message;
  EXPECT_LE(max_abs_error(c, bc), k_acceptance);
}

// rank J = l d at the constructed point: the output-weight columns of J are A (kron I_l), lower
// triangular with a positive diagonal. Checked with an independent SVD (JacobiSVD) and the
// LAPACK/NumPy tolerance max(m, n) eps sigma_max.
TEST(CooperConstruction, JacobianHasFullRowRank) {
  for (Activation a : {Activation::smoolu, Activation::relu}) {
    for (auto [d, l, depth] :
         std::vector<std::tuple<Index, Index, int>>{{12, 1, 1}, {8, 2, 2}, {6, 3, 3}}) {
      const Dataset data = random_data(d, 4, l, 31 + d);
      const CooperConstruction c = construct_cooper(data, {.activation = a, .depth = depth});
      ASSERT_TRUE(c.ok()) << c.message;
      const Objective obj(Mlp(c.spec), data);
      const MatrixXd J = obj.jacobian(c.theta);
      const VectorXd s = testing::jacobi_singular_values(J);
      const double tol = static_cast<double>(std::max(J.rows(), J.cols())) *
                         std::numeric_limits<double>::epsilon() * s(0);
      Index rank = 0;
      while (rank < s.size() && s(rank) > tol) ++rank;
      EXPECT_EQ(rank, l * d) << to_string(a) << " depth " << depth;
      // The smallest of the l d singular values sits far above the tolerance (not a marginal
      // decision): measured ratios are 1e9 or more.
      EXPECT_GT(s(l * d - 1), 1e6 * tol);
    }
  }
}

TEST(CooperConstruction, ExtraHiddenUnitsAreZero) {
  const Index d = 7, h = 11;
  const Dataset data = random_data(d, 3, 1, 5);
  const CooperConstruction c = construct_cooper(data, {.width = h});
  ASSERT_TRUE(c.ok()) << c.message;
  const Mlp model(c.spec);
  const auto W = model.weight(c.theta, 0);
  const auto b = model.bias(c.theta, 0);
  const auto M = model.weight(c.theta, 1);
  for (Index j = d; j < h; ++j) {
    EXPECT_EQ(W.row(j).cwiseAbs().maxCoeff(), 0.0);
    EXPECT_EQ(b(j), 0.0);
    EXPECT_EQ(M(0, j), 0.0);
  }
  // Every used unit has the same incoming weights a (Lemma 3.3) and the output bias is 0.
  for (Index j = 0; j < d; ++j) EXPECT_EQ((W.row(j).transpose() - c.direction).norm(), 0.0);
  EXPECT_EQ(model.bias(c.theta, 1)(0), 0.0);
  EXPECT_LE(max_abs_error(c, data), k_acceptance * data.y.cwiseAbs().maxCoeff());
}

TEST(CooperConstruction, ExplicitHiddenWidths) {
  const Dataset data = random_data(9, 2, 1, 8);
  const CooperConstruction c =
      construct_cooper(data, {.activation = Activation::relu, .hidden_widths = {1, 3, 9}});
  ASSERT_TRUE(c.ok()) << c.message;
  EXPECT_EQ(c.spec.widths, (std::vector<Index>{2, 1, 3, 9, 1}));
  EXPECT_LE(max_abs_error(c, data), k_acceptance * data.y.cwiseAbs().maxCoeff());
}

TEST(CooperConstruction, DuplicateInputsNameTheRows) {
  Dataset data = random_data(10, 3, 1, 2);
  data.x.row(7) = data.x.row(3);
  try {
    construct_cooper(data);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rows 3 and 7"), std::string::npos) << e.what();
  }
  // Iris as shipped has two equal rows (0-based 101 and 142).
  try {
    construct_cooper(load_builtin("iris"));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rows 101 and 142"), std::string::npos) << e.what();
  }
}

TEST(CooperConstruction, RejectsNonRectifiedActivationByName) {
  const Dataset data = random_data(4, 2, 1, 2);
  try {
    construct_cooper(data, {.activation = Activation::softplus});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("softplus"), std::string::npos) << e.what();
  }
}

TEST(CooperConstruction, RejectsInvalidOptions) {
  const Dataset data = random_data(6, 2, 1, 2);
  EXPECT_THROW(construct_cooper(data, {.width = 5}), std::invalid_argument);  // h < d
  EXPECT_THROW(construct_cooper(data, {.depth = 0}), std::invalid_argument);
  EXPECT_THROW(construct_cooper(data, {.min_gap = 0.0}), std::invalid_argument);
  EXPECT_THROW(construct_cooper(data, {.kink_fraction = 1.0}), std::invalid_argument);
  EXPECT_THROW(construct_cooper(data, {.direction_trials = 0}), std::invalid_argument);
  EXPECT_THROW(parse_cooper_variant("printed"), std::invalid_argument);
  EXPECT_EQ(parse_cooper_variant("literal"), CooperVariant::literal);
}

// The literal Cor 3.4: only unit 1 of the last hidden layer receives signal, so A has rank 1 and
// the least-squares output weights cannot fit d >= 2 generic targets; the residual is of the
// order of the targets themselves, not of round-off.
TEST(CooperConstruction, LiteralCorollaryFailsForTwoOrMorePoints) {
  for (Activation a : {Activation::smoolu, Activation::relu}) {
    for (int depth = 2; depth <= 4; ++depth) {
      for (Index d : {2, 10}) {
        const Dataset data = random_data(d, 3, 1, 40 + d);
        const CooperConstruction c = construct_cooper(
            data, {.activation = a, .depth = depth, .variant = CooperVariant::literal});
        EXPECT_FALSE(c.ok());
        EXPECT_EQ(c.rank_A, 1);
        EXPECT_EQ(c.cond_A, std::numeric_limits<double>::infinity());
        EXPECT_GT(max_abs_error(c, data), 1e-3 * data.y.cwiseAbs().maxCoeff()) << c.message;
        // The working form on the same data and architecture succeeds.
        const CooperConstruction w = construct_cooper(data, {.activation = a, .depth = depth});
        EXPECT_TRUE(w.ok()) << w.message;
      }
    }
  }
  // One point is fitted even by the literal form (a single unit suffices).
  const Dataset one = random_data(1, 3, 1, 4);
  const CooperConstruction c =
      construct_cooper(one, {.depth = 3, .variant = CooperVariant::literal});
  EXPECT_TRUE(c.ok()) << c.message;
}

// A chain whose offset swamps the gaps (1e14 + values with gaps ~2) cannot keep the z_i distinct
// in float64: reported as a status, not a silent bad fit.
TEST(CooperConstruction, ReportsChainValuesThatCollapse) {
  const Dataset data = random_data(20, 3, 1, 6);
  const CooperConstruction c = construct_cooper(data, {.depth = 3, .chain_offset = 1e14});
  EXPECT_EQ(c.status, ConstructionStatus::chain_not_distinct) << c.message;
  EXPECT_NE(c.message.find("not distinct"), std::string::npos);
}

TEST(CooperConstruction, ReportsProjectionsThatCannotBeSeparated) {
  Dataset data = random_data(3, 1, 1, 6);
  data.x << 1.0, 1.0 + 1e-15, 2.0;  // distinct, but 4 ulps apart
  const CooperConstruction c = construct_cooper(data);
  EXPECT_EQ(c.status, ConstructionStatus::projections_not_distinct) << c.message;
}

// Why the default kink position is a quarter of each gap and not Cooper's midpoint: with
// midpoints the smooLU matrix A has a geometrically growing inverse (Toeplitz symbol with a zero
// inside the unit disc), cond(A) ~ 1e17 at d = 200, against ~1e7 at kink_fraction = 0.25.
TEST(CooperConstruction, MidpointKinksAreIllConditionedForSmoolu) {
  const Dataset data = random_data(200, 8, 1, 2008);
  const CooperConstruction quarter = construct_cooper(data);
  const CooperConstruction midpoint = construct_cooper(data, {.kink_fraction = 0.5});
  ASSERT_TRUE(quarter.ok()) << quarter.message;
  EXPECT_GT(midpoint.cond_A, 1e6 * quarter.cond_A);
  EXPECT_GT(midpoint.max_abs_residual, 1e3 * quarter.max_abs_residual);
}

TEST(CooperConstruction, IsDeterministicInTheSeed) {
  const Dataset data = random_data(15, 4, 2, 9);
  const CooperConstruction a = construct_cooper(data, {.seed = 3});
  const CooperConstruction b = construct_cooper(data, {.seed = 3});
  const CooperConstruction c = construct_cooper(data, {.seed = 4});
  EXPECT_EQ(a.theta, b.theta);
  EXPECT_NE(a.direction, c.direction);
  EXPECT_TRUE(c.ok()) << c.message;
}

// The options table reads its defaults from the struct and writes what it reads: a JSON round
// trip of non-default options gives the same network, bit for bit (same arithmetic, same seed).
TEST(CooperTable, RoundTripGivesTheSameNetwork) {
  const Dataset data = random_data(7, 3, 2, 5);
  CooperOptions a;
  cooper_table().set_text(a, "depth", "2");
  cooper_table().set_text(a, "width", "9");
  cooper_table().set_text(a, "activation", "relu");
  cooper_table().set(a, "seed", std::int64_t{4});
  const io::Json j = cooper_table().to_json(a);
  EXPECT_EQ(j["width"], 9);
  EXPECT_EQ(cooper_table().to_json(CooperOptions{})["width"], nullptr);  // unset: d
  CooperOptions b;
  cooper_table().from_json(b, j);
  EXPECT_EQ(construct_cooper(data, b).theta, construct_cooper(data, a).theta);
  EXPECT_THROW(cooper_table().set_text(b, "variant", "printed"), options::OptionError);
}

TEST(CooperTable, ResultJsonCarriesStatusMessageAndBound) {
  const Dataset data = random_data(6, 2, 1, 3);
  const CooperConstruction c = construct_cooper(data);
  const io::Json j = to_json(c);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["message"], c.message);
  EXPECT_EQ(j["residual_tolerance"].get<double>(), c.residual_bound);
  EXPECT_LE(j["max_abs_residual"].get<double>(), j["residual_tolerance"].get<double>());
  EXPECT_EQ(summary(c).rfind("cooper: ok: ", 0), 0u) << summary(c);
  // The literal corollary fails with cond(A) = inf: written by the one JSON rule, not as null.
  CooperOptions literal;
  literal.depth = 2;
  literal.variant = CooperVariant::literal;
  const io::Json l = to_json(construct_cooper(data, literal));
  EXPECT_EQ(l["status"], "residual_too_large");
  EXPECT_EQ(l["cond_A"], "inf");
}

}  // namespace
}  // namespace locus::constructions
