// A reduced Simsek study (counts to m = 12, pieces up to m = 5, four students per width on the
// 11 x 11 grid; a few seconds): every claim holds or, for the students, is skipped only when its
// check cannot run; a claim made to fail by its options fails; bad options name their field.
//
// Margins: the study's thresholds sit far from what the runs reach on any x86-64 CPU (swap path
// loss ~1e-28 against 1e-20 and a straight-line barrier ~30 against 1e-3; the split point's
// |grad L| ~1e-13 against 3e-9; |dL/da| of the zero-type neuron ~5.6 against 3e-9), and the
// counts are exact integers.

#include "locus/studies/simsek.hpp"

#include <gtest/gtest.h>

namespace locus::studies {
namespace {

SimsekStudyOptions reduced_simsek() {
  SimsekStudyOptions o;
  o.count_m_max = 12;
  o.brute_m_max = 6;
  o.pieces_extra_max = 1;
  o.students_widths = "4,5";
  o.students_seeds = 4;
  o.students_grid_stride = 4;
  o.students_adam_iterations = 1500;
  return o;
}

TEST(SimsekStudy, ReducedStudyClaimsHold) {
  const StudyResult r = run_simsek_study(reduced_simsek());
  ASSERT_EQ(r.claims.size(), 12u);
  for (const Claim& c : r.claims) {
    EXPECT_NE(c.verdict, Verdict::fails) << c.id << ": " << c.reason;
    const bool students = c.id == "students_on_manifold" || c.id == "narrow_certified";
    if (!students) {
      EXPECT_EQ(c.verdict, Verdict::holds) << c.id << ": " << c.reason;
    }
  }
  EXPECT_EQ(r.claim("components").evidence["widths"][0]["components_rule"].get<int>(), 24);
  for (const char* table : {"counts", "ratio", "pieces", "swap_profile", "split_spectrum",
                            "students", "student_vectors"}) {
    bool found = false;
    for (const NamedTable& t : r.tables) found = found || t.name == table;
    EXPECT_TRUE(found) << table;
  }
}

// Splitting with fractions inside (0, 1) keeps the narrow strict minimum a minimum: the
// split_saddle claim then fails (and says so), while the point stays critical.
TEST(SimsekStudy, AClaimMadeImpossibleFails) {
  SimsekStudyOptions o = reduced_simsek();
  o.students_widths = "4";
  o.students_seeds = 1;
  o.split_fractions = "0.5,0.5";
  const StudyResult r = run_simsek_study(o);
  EXPECT_EQ(r.claim("split_saddle").verdict, Verdict::fails) << r.claim("split_saddle").reason;
  EXPECT_EQ(r.claim("split_critical").verdict, Verdict::holds);
  EXPECT_EQ(r.claim("wider_fits_better").verdict, Verdict::skipped);  // one width only
}

TEST(SimsekStudy, BadOptionsNameTheirField) {
  const auto field_of = [](SimsekStudyOptions o) {
    try {
      o.validate();
    } catch (const options::OptionError& e) {
      return e.field();
    }
    return std::string("none");
  };
  SimsekStudyOptions o;
  o.swap = "1,1";
  EXPECT_EQ(field_of(o), "swap");
  o = {};
  o.count_m_max = 500;
  EXPECT_EQ(field_of(o), "count_m_max");
  o = {};
  o.deep_arch = "2,3,1";
  EXPECT_EQ(field_of(o), "deep_arch");
  o = {};
  o.students_seeds = 0;
  EXPECT_EQ(field_of(o), "students_seeds");
}

}  // namespace
}  // namespace locus::studies
