// A reduced Li-Ding-Sun study (scalar widths 1, 8, 10 with ten seeds, the real subset at two
// widths; a few seconds): every claim holds; a claim made to fail by its options fails; claims
// without data are skipped; bad options name their field.
//
// Margins: the sub-optimal minimum's lambda_min ~2.6e-3 against tau_H ~2e-13 and its gap 0.14
// against 1e-8; the descent ends at ~1e-28 against 1e-20 with no increase at all (0 against
// 1e-12); the split saddle's negative eigenvalue is O(1e-2).

#include "locus/studies/li_ding_sun.hpp"

#include <gtest/gtest.h>

namespace locus::studies {
namespace {

LiDingSunStudyOptions reduced_li_ding_sun() {
  LiDingSunStudyOptions o;
  o.scalar_widths = "1,8,10";
  o.real_widths = "1,12";
  o.real_seeds = 2;
  o.adam_iterations = 1500;
  return o;
}

TEST(LiDingSunStudy, ReducedStudyClaimsHold) {
  const StudyResult r = run_li_ding_sun_study(reduced_li_ding_sun());
  ASSERT_EQ(r.claims.size(), 4u);
  for (const Claim& c : r.claims) EXPECT_EQ(c.verdict, Verdict::holds) << c.id << ": " << c.reason;
  EXPECT_LE(r.claim("descent_to_zero").evidence["loss_end"].get<double>(), 1e-20);
  for (const char* table : {"transition", "runs", "descent_profile", "suboptimal_spectrum"}) {
    bool found = false;
    for (const NamedTable& t : r.tables) found = found || t.name == table;
    EXPECT_TRUE(found) << table;
  }
}

TEST(LiDingSunStudy, AClaimMadeToFailFails) {
  // A sub-optimality gap above every loss: no narrow minimum counts as sub-optimal.
  LiDingSunStudyOptions o = reduced_li_ding_sun();
  o.scalar_widths = "1";
  o.real_widths = "1";
  o.suboptimal_gap = 1e6;
  const StudyResult r = run_li_ding_sun_study(o);
  EXPECT_EQ(r.claim("narrow_suboptimal_strict").verdict, Verdict::fails);
  EXPECT_EQ(r.claim("no_strict_at_width_n").verdict, Verdict::skipped);
  EXPECT_EQ(r.claim("descent_to_zero").verdict, Verdict::skipped);
}

TEST(LiDingSunStudy, BadOptionsNameTheField) {
  LiDingSunStudyOptions o;
  o.scalar_widths = "8,1";
  EXPECT_THROW(o.validate(), options::OptionError);
  try {
    o.validate();
  } catch (const options::OptionError& e) {
    EXPECT_EQ(e.field(), "scalar_widths");
  }
  o = {};
  o.real_seeds = 0;
  try {
    o.validate();
    ADD_FAILURE() << "real_seeds = 0 accepted";
  } catch (const options::OptionError& e) {
    EXPECT_EQ(e.field(), "real_seeds");
  }
  o = {};
  o.real_dataset = "nope";
  EXPECT_THROW(o.validate(), options::OptionError);
}

}  // namespace
}  // namespace locus::studies
