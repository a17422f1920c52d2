#include "locus/workflows/students.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "locus/data/synthetic.hpp"

namespace locus::workflows {
namespace {

// Reduced runs: every second grid line (21 x 21 = 441 points) and a few seeds, well under a
// second each.
StudentsOptions reduced(const std::string& widths, std::int64_t seeds) {
  StudentsOptions o;
  o.widths = widths;
  o.seeds = seeds;
  o.grid_stride = 2;
  return o;
}

// Width 5 = r + 1: students that reach zero loss lie on a piece of the expansion manifold. The
// categorization is checked independently: a student on a piece computes the teacher's function
// everywhere, so on the full 41 x 41 grid (1681 points, 1240 of them never trained on) its output
// matches the teacher's to the accuracy of the polished weights (|delta f| <= sum_j |a_j|
// |delta v_j| max|x| |sigma'| + |delta a| ~ 1e-6 at weight deviations of 1e-7 (L^(1/4) at
// L ~ 1e-28): 1e-5 leaves a margin, while a student off the teacher's function would miss by the
// loss scale sqrt(L_untrained / d) ~ 1e-2).
TEST(Students, WidthFiveReachesZeroLossOnTheExpansionManifold) {
  Index calls = 0;
  const StudentsResult r =
      run_students(reduced("5", 4), [&](const StudentRun& run, Index done, Index total) {
        ++calls;
        EXPECT_EQ(done, calls);
        EXPECT_EQ(total, 4);
        EXPECT_EQ(run.width, 5);
      });
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(r.n_points, 21 * 21);
  ASSERT_EQ(r.widths.size(), 1u);
  EXPECT_GE(r.widths[0].zero_loss, 1) << summary(r);
  const TeacherStudent full = simsek_teacher();
  for (const StudentRun& run : r.runs) {
    if (!run.zero_loss) {
      EXPECT_FALSE(run.categorization.has_value());
      EXPECT_NE(run.end_state, "global_minimum");
      continue;
    }
    EXPECT_LE(run.loss_final, r.options.train.loss_tolerance);
    EXPECT_EQ(run.end_state, "global_minimum") << run.message;
    ASSERT_TRUE(run.categorization.has_value());
    const symmetry::Categorization& c = *run.categorization;
    EXPECT_TRUE(c.on_expansion_manifold) << symmetry::summary(c);
    EXPECT_TRUE(c.uncovered.empty());
    if (c.flipped == 0 && c.zero_groups.empty()) {  // Gamma(phi): (k - r) + (m - k) D
      EXPECT_EQ(c.piece_dimension, (c.k - 4) + (5 - c.k) * 2);
    }
    const Mlp student(
        {.widths = {2, 5, 1}, .activation = Activation::sigmoid, .bias = {false, false}});
    const Eigen::MatrixXd diff = student.predict(run.theta, full.data.x) - full.data.y;
    EXPECT_LE(diff.cwiseAbs().maxCoeff(), 1e-5) << "seed " << run.seed;
  }
  EXPECT_EQ(r.widths[0].on_expansion_manifold, r.widths[0].zero_loss);
}

// Width 4 = r: many seeds stall at non-global critical points. Each stalled run is certified
// (strict / non-strict minimum or saddle, |grad L|_inf <= gradient_tolerance, the index counted)
// or reported not converged with its gradient; at least one of eight seeds is certified
// non-global (here: strict minima at loss ~1e-3).
TEST(Students, StalledWidthFourIsCertifiedNotGlobal) {
  const StudentsResult r = run_students(reduced("4", 8));
  const WidthSummary& w = r.widths.at(0);
  EXPECT_EQ(w.runs, 8);
  EXPECT_EQ(w.global_minimum + w.strict_minimum + w.non_strict_minimum + w.saddle +
                w.not_converged + w.undecided,
            8);
  Index certified_non_global = 0;
  for (const StudentRun& run : r.runs) {
    if (run.zero_loss) continue;
    EXPECT_GT(run.loss_final, r.options.train.loss_tolerance);
    EXPECT_NE(run.end_state, "global_minimum");
    EXPECT_TRUE(std::isfinite(run.gradient_max_norm));
    if (run.end_state == "not_converged") {
      EXPECT_GT(run.gradient_max_norm, r.options.train.gradient_tolerance);
      continue;
    }
    if (run.status != CertifyStatus::certified) continue;
    ++certified_non_global;
    EXPECT_LE(run.gradient_max_norm, r.options.train.gradient_tolerance) << run.message;
    if (run.end_state == "saddle")
      EXPECT_GE(run.index, 1);
    else
      EXPECT_EQ(run.index, 0);
  }
  EXPECT_GE(certified_non_global, 1) << summary(r);
  const io::Json j = to_json(r);
  EXPECT_EQ(j["runs"].size(), 8u);
  EXPECT_EQ(j["widths"][0]["runs"], 8);
  for (const char* key : {"loss_final", "gradient_max_norm", "end_state", "index", "seconds",
                          "iterations_adam", "iterations_polish", "categorization", "params"})
    EXPECT_TRUE(j["runs"][0].contains(key)) << key;
}

TEST(Students, OptionsAreValidatedNamingTheField) {
  EXPECT_EQ(parse_widths("4, 5,45"), (std::vector<Index>{4, 5, 45}));
  auto expect_field = [](const StudentsOptions& o, const std::string& field) {
    try {
      o.validate();
      ADD_FAILURE() << "no throw for " << field;
    } catch (const options::OptionError& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  StudentsOptions o;
  o.widths = "4,x";
  expect_field(o, "widths");
  o = {};
  o.widths = "";
  expect_field(o, "widths");
  o = {};
  o.seeds = 0;
  expect_field(o, "seeds");
  o = {};
  o.train.polish = solvers::Method::adam;
  expect_field(o, "polish");
  o = {};
  o.train.adam_learning_rate = -1;
  expect_field(o, "adam_learning_rate");
  o = {};
  o.categorize.weight_tolerance_relative = 2;
  expect_field(o, "weight_tolerance_relative");
  // The table: text values, enum choices, nested rows and their rephrased messages.
  StudentsOptions t;
  students_table().set_text(t, "widths", "5,45");
  students_table().set_text(t, "activation", "g");
  students_table().set_text(t, "weight_tolerance_relative", "1e-3");
  EXPECT_EQ(t.activation, Activation::g);
  EXPECT_EQ(t.categorize.weight_tolerance_relative, 1e-3);
  EXPECT_THROW(students_table().set_text(t, "polish", "bogus"), std::invalid_argument);
  t.categorize.output_tolerance_relative = -1;
  try {
    t.validate();
    ADD_FAILURE();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(students_table()
                  .rephrase(e, options::Interface::cli)
                  .rfind("--output-tolerance-relative", 0),
              0u)
        << students_table().rephrase(e, options::Interface::cli);
  }
  EXPECT_THROW(run_students(o), std::invalid_argument);
}

}  // namespace
}  // namespace locus::workflows
