#include "locus/symmetry/categorize.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>

#include "locus/core/random.hpp"
#include "locus/data/synthetic.hpp"
#include "locus/transforms/surgery.hpp"

namespace locus::symmetry {
namespace {

namespace lt = locus::transforms;
using Eigen::VectorXd;

// The expansion student of Simsek's teacher built by surgery, with the phi of the construction:
// teacher neuron 0 split in two (fractions 0.3, 0.7), neuron 2 in three (1.5, -0.2, -0.3: a
// negative fraction is allowed), one zero-type neuron and one zero group of two (a = +-0.4), all
// with seeded incoming vectors, then the neurons permuted.
struct Built {
  lt::Surgery student;
  std::vector<int> phi;
  std::vector<Index> permutation;
};

Built expansion_student(const TeacherStudent& t, bool with_group, std::uint64_t seed) {
  Rng rng(seed);
  lt::Surgery s = lt::split_neuron(t.teacher, t.teacher_parameters, {1, 0}, {0.3, 0.7});
  s = lt::split_neuron(s.model, s.theta, {1, 2}, {1.5, -0.2, -0.3});
  std::vector<int> phi = {0, 1, 2, 3, 0, 2, 2};
  VectorXd w(2);
  w << rng.normal(), rng.normal();
  s = lt::add_zero_neuron(s.model, s.theta, 1, {.incoming = w});
  phi.push_back(-1);
  if (with_group) {
    w << rng.normal(), rng.normal();
    Eigen::MatrixXd a(1, 2);
    a << 0.4, -0.4;
    s = lt::add_zero_group(s.model, s.theta, 1, w, 0.0, a);
    phi.push_back(-1);
    phi.push_back(-1);
  }
  const std::vector<Index> perm = Rng(seed + 1).permutation(static_cast<Index>(phi.size()));
  s = lt::permute_neurons(s.model, s.theta, 1, perm);
  std::vector<int> phi_permuted(phi.size());
  for (std::size_t i = 0; i < phi.size(); ++i) phi_permuted[i] = phi[perm[i]];  // new i = old p[i]
  return {std::move(s), std::move(phi_permuted), perm};
}

TEST(Categorize, RecoversTheConstructionOfAGammaPhiStudent) {
  const TeacherStudent t = simsek_teacher();
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    const Built b = expansion_student(t, /*with_group=*/false, seed);
    const Categorization c =
        categorize(t.teacher, t.teacher_parameters, b.student.model, b.student.theta);
    ASSERT_TRUE(c.on_expansion_manifold) << summary(c);
    EXPECT_EQ(c.phi, b.phi);
    EXPECT_EQ(c.piece, "Gamma(phi)");
    // m = 8, k = 7, r = 4, D = 2: (k - r) + (m - k) D = 3 + 2.
    EXPECT_EQ(c.k, 7);
    EXPECT_EQ(c.piece_dimension, 5);
    EXPECT_EQ(c.zero_type.size(), 1u);
    EXPECT_TRUE(c.zero_groups.empty());
    // The split copies are exact (the incoming vectors are copied bit for bit) and the outgoing
    // sums are the teacher's to round-off of a sum of 3 products: a few eps.
    for (const TeacherCopies& tc : c.teacher) {
      EXPECT_EQ(tc.incoming_deviation, 0.0);
      EXPECT_LE(tc.output_error, 8 * std::numeric_limits<double>::epsilon());
    }
    EXPECT_EQ(c.teacher[2].copies.size(), 3u);
  }
}

TEST(Categorize, RecoversZeroGroupsAndNamesTheZeroGroupPiece) {
  const TeacherStudent t = simsek_teacher();
  const Built b = expansion_student(t, /*with_group=*/true, 5);
  const Categorization c =
      categorize(t.teacher, t.teacher_parameters, b.student.model, b.student.theta);
  ASSERT_TRUE(c.on_expansion_manifold) << summary(c);
  EXPECT_EQ(c.phi, b.phi);
  EXPECT_EQ(c.piece, "zero-group piece");
  ASSERT_EQ(c.zero_groups.size(), 1u);
  EXPECT_EQ(c.zero_groups[0].neurons.size(), 2u);
  EXPECT_EQ(c.zero_type.size(), 1u);
  // (k - r) + z D + (D + g - 1) = 3 + 2 + 3.
  EXPECT_EQ(c.piece_dimension, 8);
  // The zero group's neurons are where the construction put them (old indices 8 and 9).
  for (Index j : c.zero_groups[0].neurons) EXPECT_GE(b.permutation[j], 8);
}

TEST(Categorize, RandomStudentIsUnexplained) {
  const TeacherStudent t = simsek_teacher();
  Mlp student({.widths = {2, 5, 1}, .activation = Activation::sigmoid, .bias = {false, false}});
  const VectorXd theta = student.init_parameters({.seed = 4});
  const Categorization c = categorize(t.teacher, t.teacher_parameters, student, theta);
  EXPECT_FALSE(c.on_expansion_manifold);
  EXPECT_EQ(c.unexplained.size(), 5u) << summary(c);
  EXPECT_EQ(c.piece, "none");
  EXPECT_EQ(c.piece_dimension, -1);
  for (int p : c.phi) EXPECT_EQ(p, -1);
}

// The tolerances decide: moving a copy's outgoing weight by 1e3 x output_tolerance breaks the
// sum; moving it by 1e-3 x output_tolerance does not. Moving a copy's incoming vector by 1e3 x
// weight_tolerance makes it unexplained.
TEST(Categorize, PerturbationsAgainstTheTolerances) {
  const TeacherStudent t = simsek_teacher();
  const Built b = expansion_student(t, false, 7);
  const Categorization c0 =
      categorize(t.teacher, t.teacher_parameters, b.student.model, b.student.theta);
  Index copy = 0;
  while (c0.phi[copy] != 0) ++copy;
  const lt::NeuronIndices ix = lt::neuron_indices(b.student.model, {1, copy});
  for (double factor : {1e-3, 1e3}) {
    VectorXd theta = b.student.theta;
    theta(ix.outgoing[0]) += factor * c0.output_tolerance;
    const Categorization c = categorize(t.teacher, t.teacher_parameters, b.student.model, theta);
    EXPECT_EQ(c.on_expansion_manifold, factor < 1) << summary(c);
    EXPECT_EQ(c.phi, b.phi);
  }
  VectorXd theta = b.student.theta;
  theta(ix.incoming[0]) += 1e3 * c0.weight_tolerance;
  const Categorization c = categorize(t.teacher, t.teacher_parameters, b.student.model, theta);
  EXPECT_FALSE(c.on_expansion_manifold);
  EXPECT_EQ(c.unexplained, std::vector<Index>{copy});
}

// tanh is odd: a copy with (v, a) -> (-v, -a) computes the same and is matched with sign -1; with
// sign_symmetry off it is unexplained. Biases are part of v; c = 0 adds no constraint.
TEST(Categorize, OddActivationSignFlipsWithBiases) {
  Mlp teacher({.widths = {3, 3, 1}, .activation = Activation::tanh});
  const VectorXd tt = teacher.init_parameters({.scheme = InitScheme::normal, .seed = 11});
  lt::Surgery s = lt::split_neuron(teacher, tt, {1, 1}, {0.6, 0.4});  // copy at index 3
  const lt::NeuronIndices ix = lt::neuron_indices(s.model, {1, 3});
  for (Index q : ix.incoming) s.theta(q) = -s.theta(q);
  s.theta(ix.bias) = -s.theta(ix.bias);
  s.theta(ix.outgoing[0]) = -s.theta(ix.outgoing[0]);
  const Categorization c = categorize(teacher, tt, s.model, s.theta);
  ASSERT_TRUE(c.on_expansion_manifold) << summary(c);
  EXPECT_EQ(c.phi, (std::vector<int>{0, 1, 2, 1}));
  EXPECT_EQ(c.signs[3], -1);
  EXPECT_EQ(c.incoming_dim, 4);     // (w, b)
  EXPECT_EQ(c.piece_dimension, 1);  // k - r = 1, no free neurons
  const Categorization off = categorize(teacher, tt, s.model, s.theta, {.sign_symmetry = false});
  EXPECT_FALSE(off.on_expansion_manifold);
  EXPECT_EQ(off.unexplained, std::vector<Index>{3});
}

// The sigmoid's reflection sigma(-z) = 1 - sigma(z): flipping a neuron (v, a) -> (-v, -a) adds
// the constant a. Two flips whose constants cancel keep f: teacher neuron 0 split with fractions
// (2, -1) and its copy (a = -1) flipped to (-v*_0, 1) adds +1; teacher neuron 2 flipped to
// (-v*_2, -1) adds -1. A trained width-5 student on the grid (seed 6) lands on such a point.
TEST(Categorize, SigmoidReflectionsWithCancellingConstants) {
  const TeacherStudent t = simsek_teacher();
  lt::Surgery s = lt::split_neuron(t.teacher, t.teacher_parameters, {1, 0}, {2.0, -1.0});
  for (Index j : {Index{2}, Index{4}}) {
    const lt::NeuronIndices ix = lt::neuron_indices(s.model, {1, j});
    for (Index q : ix.incoming) s.theta(q) = -s.theta(q);
    s.theta(ix.outgoing[0]) = -s.theta(ix.outgoing[0]);
  }
  // The function is the teacher's up to round-off of sums of O(1) terms (a few eps).
  const Eigen::MatrixXd diff =
      s.model.predict(s.theta, t.data.x) - t.teacher.predict(t.teacher_parameters, t.data.x);
  ASSERT_LE(diff.cwiseAbs().maxCoeff(), 16 * std::numeric_limits<double>::epsilon());
  const Categorization c = categorize(t.teacher, t.teacher_parameters, s.model, s.theta);
  ASSERT_TRUE(c.on_expansion_manifold) << summary(c);
  EXPECT_EQ(c.phi, (std::vector<int>{0, 1, 2, 3, 0}));
  EXPECT_EQ(c.signs, (std::vector<int>{1, 1, -1, 1, -1}));
  EXPECT_EQ(c.flipped, 2);
  EXPECT_EQ(c.piece, "Gamma(phi) with sign flips");
  // Five outgoing weights, four sums and the constant a_2 + a_4 = 0: a point (dimension 0),
  // where the unflipped Gamma(phi) of a split has dimension 1.
  EXPECT_EQ(c.piece_dimension, 0);
  // One flip alone leaves the constant -1: off, and the message says why.
  lt::Surgery one = s;
  const lt::NeuronIndices ix = lt::neuron_indices(one.model, {1, 2});
  for (Index q : ix.incoming) one.theta(q) = -one.theta(q);
  one.theta(ix.outgoing[0]) = -one.theta(ix.outgoing[0]);
  const Categorization c1 = categorize(t.teacher, t.teacher_parameters, one.model, one.theta);
  EXPECT_FALSE(c1.on_expansion_manifold);
  EXPECT_NEAR(c1.constant_error, 1.0, 1e-12);
  EXPECT_NE(c1.message.find("constant term"), std::string::npos) << c1.message;
  const Categorization off =
      categorize(t.teacher, t.teacher_parameters, s.model, s.theta, {.sign_symmetry = false});
  EXPECT_FALSE(off.on_expansion_manifold);
  EXPECT_EQ(off.unexplained, (std::vector<Index>{2, 4}));
}

TEST(Categorize, BadInputThrowsNamingIt) {
  const TeacherStudent t = simsek_teacher();
  auto expect_throw = [&](const Mlp& student, const std::string& needle) {
    try {
      categorize(t.teacher, t.teacher_parameters, student, student.init_parameters({.seed = 1}));
      ADD_FAILURE() << "no throw for " << student.describe();
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_throw(Mlp({.widths = {2, 5, 5, 1}, .activation = Activation::sigmoid}),
               "not of the teacher's architecture");
  expect_throw(
      Mlp({.widths = {3, 5, 1}, .activation = Activation::sigmoid, .bias = {false, false}}),
      "not of the teacher's architecture");
  expect_throw(Mlp({.widths = {2, 5, 1}, .activation = Activation::tanh, .bias = {false, false}}),
               "not of the teacher's architecture");
  expect_throw(Mlp({.widths = {2, 5, 1}, .activation = Activation::sigmoid}),  // biases
               "not of the teacher's architecture");
  // A reducible teacher: neuron 3 duplicates neuron 1; another with a zero outgoing weight.
  VectorXd dup = t.teacher_parameters;
  dup.segment(6, 2) = dup.segment(2, 2);
  EXPECT_THROW(categorize(t.teacher, dup, t.teacher, t.teacher_parameters), std::invalid_argument);
  VectorXd zero = t.teacher_parameters;
  zero(8) = 0.0;
  try {
    categorize(t.teacher, zero, t.teacher, t.teacher_parameters);
    ADD_FAILURE() << "no throw for a zero outgoing weight";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not irreducible: neuron 0"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(categorize(t.teacher, t.teacher_parameters, t.teacher, VectorXd::Zero(3)),
               std::invalid_argument);
  EXPECT_THROW(categorize(t.teacher, t.teacher_parameters, t.teacher, t.teacher_parameters,
                          {.weight_tolerance_relative = -1}),
               std::invalid_argument);
}

TEST(Categorize, JsonHasTheDocumentedKeys) {
  const TeacherStudent t = simsek_teacher();
  const Built b = expansion_student(t, true, 9);
  const io::Json j =
      to_json(categorize(t.teacher, t.teacher_parameters, b.student.model, b.student.theta));
  for (const char* key : {"on_expansion_manifold", "phi", "kinds", "teacher", "zero_type",
                          "zero_groups", "unexplained", "piece", "piece_dimension"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["piece_dimension"], 8);
  EXPECT_EQ(j["teacher"].size(), 4u);
}

}  // namespace
}  // namespace locus::symmetry
