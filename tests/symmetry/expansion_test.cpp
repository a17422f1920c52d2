// The pieces of the expansion manifold: enumeration (counts, validity, distinctness), each piece
// against an independent description (its defining linear constraints, built here from the
// definition, with Eigen's own rank), zero loss along the piece, the intersection rule against
// the numerical test pair by pair, the connected components, and the teacher checks.
#include "locus/symmetry/expansion.hpp"

#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "locus/core/objective.hpp"
#include "locus/core/random.hpp"
#include "locus/symmetry/counts.hpp"
#include "testing/dense_references.hpp"
#include "testing/random_data.hpp"
#include "testing/tolerances.hpp"

namespace ls = locus::symmetry;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using locus::Activation;
using locus::Index;
using locus::Mlp;

namespace {

using locus::testing::k_eps;

// Simsek et al.'s teacher (PAPERS.md §4): incoming vectors (0.6, 0.5), (-0.5, 0.5), (-0.2, -0.6),
// (0.1, -0.6), output weights 1, no biases; the first r neurons of it. With biases: hidden biases
// 0.1 i - 0.2, output weights 1 + 0.5 i, output bias 0.3.
struct Teacher {
  Mlp model;
  VectorXd theta;
};
Teacher simsek_teacher(int r, Activation act = Activation::sigmoid, bool biases = false) {
  const double w[4][2] = {{0.6, 0.5}, {-0.5, 0.5}, {-0.2, -0.6}, {0.1, -0.6}};
  Mlp model({.widths = {2, r, 1}, .activation = act, .bias = {biases, biases}});
  VectorXd theta = VectorXd::Zero(model.n_params());
  for (int i = 0; i < r; ++i) {
    theta(model.layer(0).weight_offset + 2 * i) = w[i][0];
    theta(model.layer(0).weight_offset + 2 * i + 1) = w[i][1];
    if (biases) theta(model.layer(0).bias_offset + i) = 0.1 * i - 0.2;
    theta(model.layer(1).weight_offset + i) = biases ? 1.0 + 0.5 * i : 1.0;
  }
  if (biases) theta(model.layer(1).bias_offset) = 0.3;
  return {model, theta};
}

// The piece's defining equations C theta = e, written from the definition (not from the
// library): copies u_j = u*_i and sum_{j -> i} a_j = a*_i; a zero block shares its first
// member's incoming vector and has sum a_j = 0; the output bias equals the teacher's.
std::pair<MatrixXd, VectorXd> constraints(const Teacher& t, const ls::ExpansionMap& map) {
  const Mlp student = ls::expansion_student(t.model, static_cast<Index>(map.phi.size()));
  const Index m = static_cast<Index>(map.phi.size()), n = student.n_params();
  const Index d = t.model.input_dim();
  const bool hb = t.model.has_bias(0), ob = t.model.has_bias(1);
  const Index n_in = d + (hb ? 1 : 0);
  auto u_index = [&](const Mlp& net, Index j, Index c) {
    return c < d ? net.layer(0).weight_offset + j * d + c : net.layer(0).bias_offset + j;
  };
  auto a_index = [](const Mlp& net, Index j) { return net.layer(1).weight_offset + j; };
  std::vector<VectorXd> rows;
  std::vector<double> rhs;
  auto add = [&](VectorXd row, double value) {
    rows.push_back(std::move(row));
    rhs.push_back(value);
  };
  const int r = static_cast<int>(t.model.spec().widths[1]);
  for (int i = 0; i < r; ++i) {
    VectorXd sum = VectorXd::Zero(n);
    for (Index j = 0; j < m; ++j)
      if (map.phi[j] == i) {
        sum(a_index(student, j)) = 1;
        for (Index c = 0; c < n_in; ++c) {
          VectorXd row = VectorXd::Zero(n);
          row(u_index(student, j, c)) = 1;
          add(row, t.theta(u_index(t.model, i, c)));
        }
      }
    add(sum, t.theta(a_index(t.model, i)));
  }
  for (int b = 0; b < map.n_blocks(); ++b) {
    VectorXd sum = VectorXd::Zero(n);
    Index first = -1;
    for (Index j = 0; j < m; ++j)
      if (map.phi[j] < 0 && map.block[j] == b) {
        sum(a_index(student, j)) = 1;
        if (first < 0) {
          first = j;
          continue;
        }
        for (Index c = 0; c < n_in; ++c) {
          VectorXd row = VectorXd::Zero(n);
          row(u_index(student, j, c)) = 1;
          row(u_index(student, first, c)) = -1;
          add(row, 0.0);
        }
      }
    add(sum, 0.0);
  }
  if (ob) {
    VectorXd row = VectorXd::Zero(n);
    row(student.layer(1).bias_offset) = 1;
    add(row, t.theta(t.model.layer(1).bias_offset));
  }
  MatrixXd c(rows.size(), n);
  for (size_t k = 0; k < rows.size(); ++k) c.row(k) = rows[k].transpose();
  return {c, Eigen::Map<VectorXd>(rhs.data(), rhs.size())};
}

MatrixXd inputs(Index d, std::uint64_t seed) {
  return locus::testing::random_data(d, 2, 1, seed).x;
}

}  // namespace

TEST(ExpansionMaps, CountDistinctValid) {
  for (auto convention : {ls::ZeroConvention::single, ls::ZeroConvention::groups})
    for (int r = 1; r <= 4; ++r)
      for (int m = r; m <= 6; ++m) {
        const auto maps = ls::expansion_maps(r, m, convention, 1000000);
        const ls::ExpansionCounts c = ls::expansion_counts(r, m);
        EXPECT_EQ(std::to_string(maps.size()),
                  convention == ls::ZeroConvention::single ? c.T : c.T_groups)
            << "r = " << r << ", m = " << m;
        std::set<std::pair<std::vector<int>, std::vector<int>>> seen;
        for (const auto& map : maps) {
          seen.insert({map.phi, map.block});
          std::set<int> covered;
          int next_block = 0;
          for (int j = 0; j < m; ++j) {
            if (map.phi[j] >= 0) {
              covered.insert(map.phi[j]);
              EXPECT_EQ(map.block[j], -1);
            } else {
              // Blocks are numbered in order of first appearance; single: each its own.
              EXPECT_LE(map.block[j], next_block);
              if (map.block[j] == next_block) ++next_block;
              if (convention == ls::ZeroConvention::single) {
                EXPECT_EQ(map.block[j], next_block - 1);
              }
            }
          }
          EXPECT_EQ(static_cast<int>(covered.size()), r);
        }
        EXPECT_EQ(seen.size(), maps.size());
      }
  EXPECT_THROW(ls::expansion_maps(4, 6, ls::ZeroConvention::single, 3359), std::invalid_argument);
}

// Every piece equals its definition: the point solves C theta = e, the basis is orthonormal and
// spans ker C (C B = 0 and dim = n - rank C, the formula), and the loss is zero at the point and
// at random points of the piece.
TEST(ExpansionPieces, MatchDefiningEquationsAndHaveZeroLoss) {
  for (bool biases : {false, true})
    for (auto convention : {ls::ZeroConvention::single, ls::ZeroConvention::groups}) {
      const Teacher t = simsek_teacher(2, biases ? Activation::tanh : Activation::sigmoid, biases);
      const int m = 4;
      const Index n_in = biases ? 3 : 2;
      const Mlp student = ls::expansion_student(t.model, m);
      const MatrixXd x = inputs(30, 5);
      const locus::Dataset data{x, t.model.predict(t.theta, x), "teacher"};
      const locus::Objective objective(student, data);
      const auto maps = ls::expansion_maps(2, m, convention, 1000);
      locus::Rng rng(17);
      for (size_t p = 0; p < maps.size(); ++p) {
        const ls::AffinePiece piece = ls::affine_piece(t.model, t.theta, maps[p], 100 + p);
        const auto [c, e] = constraints(t, maps[p]);
        const int dim = ls::piece_dimension(maps[p], 2, n_in);
        ASSERT_EQ(piece.basis.cols(), dim);
        const double scale = std::max(1.0, piece.theta.cwiseAbs().maxCoeff());
        // Entries of C are 0/+-1 with at most m ones per row: C theta - e is exact to a few ulps
        // of m * scale.
        EXPECT_LE((c * piece.theta - e).cwiseAbs().maxCoeff(), 4 * m * k_eps * scale);
        EXPECT_LE((c * piece.basis).cwiseAbs().maxCoeff(), 4 * m * k_eps);
        EXPECT_LE((piece.basis.transpose() * piece.basis - MatrixXd::Identity(dim, dim))
                      .cwiseAbs()
                      .maxCoeff(),
                  8 * m * k_eps);
        // C's nonzero singular values are >= 1/sqrt(m) here: its rank counts those above
        // 1e3 eps sigma_max.
        const VectorXd s = locus::testing::jacobi_singular_values(c);
        const Index rank = (s.array() > 1e3 * k_eps * s(0)).count();
        EXPECT_EQ(student.n_params() - rank, dim) << "piece " << p;
        // The loss at the point and at a random point of the piece (step of norm ~ 1): each
        // residual is a difference of sums of ~ m terms of size <= |a| (1 + |u|_1 |x|_inf),
        // exact in exact arithmetic; round-off ~ 4 (m + n_in) eps S per residual.
        VectorXd v(dim);
        for (Index k = 0; k < dim; ++k) v(k) = rng.normal();
        for (const VectorXd& theta : {piece.theta, VectorXd(piece.theta + piece.basis * v)}) {
          const VectorXd a = theta.segment(student.layer(1).weight_offset, m);
          const double s =
              a.cwiseAbs().sum() * (1 + 3 * theta.cwiseAbs().maxCoeff() * x.cwiseAbs().maxCoeff()) +
              data.y.cwiseAbs().maxCoeff() + 1.0;
          const double bound = 4.0 * (m + n_in) * k_eps * s;
          EXPECT_LE(objective.loss(theta), x.rows() * bound * bound) << "piece " << p;
        }
      }
    }
}

// No two maps give the same affine set: same dimension, the same directions and a point of one
// on the other would be needed.
TEST(ExpansionPieces, AreDistinctAffineSets) {
  const Teacher t = simsek_teacher(2, Activation::sigmoid, true);
  for (auto convention : {ls::ZeroConvention::single, ls::ZeroConvention::groups}) {
    const auto maps = ls::expansion_maps(2, 4, convention, 1000);
    std::vector<ls::AffinePiece> pieces;
    for (size_t p = 0; p < maps.size(); ++p)
      pieces.push_back(ls::affine_piece(t.model, t.theta, maps[p], p));
    for (size_t p = 0; p < pieces.size(); ++p)
      for (size_t q = 0; q < p; ++q) {
        const auto& a = pieces[p];
        const auto& b = pieces[q];
        if (a.basis.cols() != b.basis.cols()) continue;
        // Distances of b's directions and of b's point from a's affine span: one must be O(1).
        const MatrixXd off = b.basis - a.basis * (a.basis.transpose() * b.basis);
        const VectorXd delta = b.theta - a.theta;
        const double apart =
            std::max(off.norm(), (delta - a.basis * (a.basis.transpose() * delta)).norm());
        // Distinct pieces differ by a teacher vector (entries >= 0.1 apart), a unit direction
        // (distance >= 1/sqrt(2) from the other span) or a point off by O(1): far above 1e-3.
        EXPECT_GT(apart, 1e-3) << "pieces " << q << " and " << p << " coincide";
      }
  }
}

// The combinatorial rule and the numerical test agree on every pair, with a wide margin.
TEST(ExpansionComponents, RuleAgreesWithNumericsOnEveryPair) {
  for (auto [r, m, convention] : {std::tuple{2, 3, ls::ZeroConvention::single},
                                  {3, 3, ls::ZeroConvention::single},
                                  {2, 4, ls::ZeroConvention::single},
                                  {3, 4, ls::ZeroConvention::single},
                                  {2, 5, ls::ZeroConvention::groups},
                                  {3, 5, ls::ZeroConvention::groups}}) {
    const Teacher t = simsek_teacher(r, Activation::g, true);
    const auto maps = ls::expansion_maps(r, m, convention, 1000);
    std::vector<ls::AffinePiece> pieces;
    for (size_t p = 0; p < maps.size(); ++p)
      pieces.push_back(ls::affine_piece(t.model, t.theta, maps[p], 7 * p));
    double tolerance = 0, intersecting_max = 0, disjoint_min = INFINITY;
    int n_intersecting = 0;
    for (size_t p = 0; p < maps.size(); ++p)
      for (size_t q = 0; q < p; ++q) {
        const ls::AffineIntersection x = ls::affine_intersection(pieces[p], pieces[q]);
        const bool rule = ls::pieces_intersect(maps[p], maps[q]);
        EXPECT_EQ(rule, x.intersects) << "r = " << r << ", m = " << m << ", pieces " << q << ", "
                                      << p << ": residual " << x.residual;
        tolerance = std::max(tolerance, x.tolerance);
        if (rule) {
          ++n_intersecting;
          intersecting_max = std::max(intersecting_max, x.residual);
        } else {
          disjoint_min = std::min(disjoint_min, x.residual);
        }
      }
    // Intersecting pieces meet to round-off: residuals of a few eps per entry, ~ n eps scale
    // at most (measured: 1/58 of the tolerance 64 n eps scale at r = 4, m = 6), asked to be 16x
    // below it; disjoint pieces are apart by the teacher's separations (>= 0.3 here, tolerance
    // ~ 1e-13): the decisions have wide margins on both sides.
    EXPECT_LT(intersecting_max, tolerance / 16);
    EXPECT_GT(disjoint_min, 1e6 * tolerance);
    if (m > r) {
      EXPECT_GT(n_intersecting, 0);
    }
  }
}

TEST(ExpansionComponents, FactorialAtMEqualsROneBeyondUpToR4M6) {
  const MatrixXd x = inputs(12, 3);
  for (int r = 1; r <= 4; ++r)
    for (int m = r; m <= 6; ++m) {
      const Teacher t = simsek_teacher(r);
      const ls::ExpansionEnumeration e =
          ls::enumerate_expansion(t.model, t.theta, x, {.m = m, .seed = 11});
      const std::string at = "r = " + std::to_string(r) + ", m = " + std::to_string(m);
      ASSERT_TRUE(e.ok()) << at << ": " << e.message;
      EXPECT_EQ(std::to_string(e.n_pieces), ls::expansion_counts(r, m).T) << at;
      long factorial = 1;
      for (int i = 2; i <= r; ++i) factorial *= i;
      const long expected = m == r ? factorial : 1;
      EXPECT_EQ(e.by_rule.count, expected) << at;
      EXPECT_EQ(e.numerical.count, expected) << at;
      EXPECT_EQ(e.by_rule.component, e.numerical.component) << at;
      std::int64_t total = 0;
      for (auto h : e.dimension_histogram) total += h;
      EXPECT_EQ(total, e.n_pieces);
      // Minimum dimension h = m - r (all neurons copies, k = m), maximum (m - r) D (k = r).
      EXPECT_EQ(e.dimension_min, m - r) << at;
      EXPECT_EQ(e.dimension_max, (m - r) * 2) << at;
    }
}

TEST(ExpansionComponents, ZeroGroupsNumerically) {
  const MatrixXd x = inputs(12, 4);
  const Teacher t = simsek_teacher(2);
  for (int m : {2, 4}) {
    const ls::ExpansionEnumeration e =
        ls::enumerate_expansion(t.model, t.theta, x, {.m = m, .zero_groups = true});
    ASSERT_TRUE(e.ok()) << e.message;
    EXPECT_EQ(std::to_string(e.n_pieces), ls::expansion_counts(2, m).T_groups);
    EXPECT_EQ(e.numerical.count, m == 2 ? 2 : 1);
    EXPECT_EQ(e.by_rule.component, e.numerical.component);
  }
}

namespace {
std::string problem(const Teacher& t) { return ls::irreducibility_problem(t.model, t.theta); }
}  // namespace

TEST(Irreducibility, NamesTheNeurons) {
  EXPECT_EQ(problem(simsek_teacher(4)), "");
  EXPECT_EQ(problem(simsek_teacher(4, Activation::tanh, true)), "");
  Teacher t = simsek_teacher(3);
  t.theta.segment(t.model.layer(0).weight_offset + 4, 2) << 0.6, 0.5;  // neuron 2 = neuron 0
  EXPECT_NE(problem(t).find("teacher neurons 0 and 2 have equal incoming vectors"),
            std::string::npos)
      << problem(t);
  EXPECT_THROW(ls::require_irreducible(t.model, t.theta), std::invalid_argument);
  t = simsek_teacher(3);
  t.theta(t.model.layer(1).weight_offset + 1) = 0.0;
  EXPECT_NE(problem(t).find("teacher neuron 1 has output weight 0"), std::string::npos);
  t = simsek_teacher(3);
  t.theta.segment(t.model.layer(0).weight_offset + 2, 2).setZero();
  EXPECT_NE(problem(t).find("teacher neuron 1 has a zero incoming vector"), std::string::npos);
  // Opposite incoming vectors: reducible for tanh (odd), for sigmoid only with an output bias.
  for (auto [act, biases, reducible] : {std::tuple{Activation::tanh, false, true},
                                        {Activation::sigmoid, false, false},
                                        {Activation::sigmoid, true, true},
                                        {Activation::g, true, false}}) {
    t = simsek_teacher(2, act, biases);
    for (Index c = 0; c < 2; ++c)
      t.theta(t.model.layer(0).weight_offset + 2 + c) =
          -t.theta(t.model.layer(0).weight_offset + c);
    if (biases) t.theta(t.model.layer(0).bias_offset + 1) = -t.theta(t.model.layer(0).bias_offset);
    EXPECT_EQ(problem(t).find("teacher neurons 0 and 1 have opposite") != std::string::npos,
              reducible)
        << to_string(act) << " " << biases << ": " << problem(t);
  }
  // relu: positively parallel vectors merge (positive homogeneity).
  t = simsek_teacher(2, Activation::relu);
  t.theta.segment(t.model.layer(0).weight_offset + 2, 2) << 1.2, 1.0;
  EXPECT_NE(problem(t).find("positively parallel"), std::string::npos) << problem(t);
  EXPECT_NE(problem(simsek_teacher(2, Activation::identity)).find("identity"), std::string::npos);
  // Not a two-layer net with one output.
  const Mlp deep({.widths = {2, 3, 3, 1}});
  EXPECT_THROW(ls::irreducibility_problem(deep, VectorXd::Zero(deep.n_params())),
               std::invalid_argument);
}

TEST(ExpansionEnumeration, RefusesBadInput) {
  const Teacher t = simsek_teacher(3);
  const MatrixXd x = inputs(10, 1);
  EXPECT_THROW(ls::enumerate_expansion(t.model, t.theta, x, {.m = 2}), std::invalid_argument);
  EXPECT_THROW(ls::enumerate_expansion(t.model, t.theta, MatrixXd::Zero(10, 3), {.m = 4}),
               std::invalid_argument);
  EXPECT_THROW(ls::enumerate_expansion(t.model, t.theta, x, {.m = 8, .max_pieces = 100}),
               std::invalid_argument);
  EXPECT_THROW(ls::enumerate_expansion(t.model, t.theta, x, {.m = 0}), std::invalid_argument);
  Teacher dup = simsek_teacher(2);
  dup.theta.segment(2, 2) = dup.theta.segment(0, 2);
  EXPECT_THROW(ls::enumerate_expansion(dup.model, dup.theta, x), std::invalid_argument);
  // Components skipped above max_component_pieces (60 pieces here), said in the message.
  const ls::ExpansionEnumeration skipped =
      ls::enumerate_expansion(t.model, t.theta, x, {.max_component_pieces = 59});
  EXPECT_TRUE(skipped.ok());
  EXPECT_FALSE(skipped.numerical.computed || skipped.by_rule.computed);
  EXPECT_NE(skipped.message.find("components skipped"), std::string::npos) << skipped.message;
  EXPECT_THROW(ls::enumerate_expansion(t.model, t.theta, x, {.max_component_pieces = -1}),
               std::invalid_argument);
  const auto j = ls::to_json(ls::enumerate_expansion(t.model, t.theta, x));
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["m"], 4);
  EXPECT_EQ(j["count_exact"], "60");  // T(3, 4) = 3! S(5, 4)
}
