// A reduced Shevchenko-Mondelli study (widths 32 and 256, two seeds, short training, iris; ~2 s
// on one core): every claim holds; a claim made impossible by its options fails; bad options name
// their field.
//
// Margins (measured): the segment checks' deviations are 0 or ~3e-4 of their tolerance; the
// dropout error at M = N/2 falls by 10x between the widths against the required sqrt(8) = 2.8,
// the path's excess by 13x; the straight line's barrier stays at ~0.11 (13x the excess at 256).

#include "locus/studies/shevchenko_mondelli.hpp"

#include <gtest/gtest.h>

namespace locus::studies {
namespace {

ShevchenkoMondelliStudyOptions reduced_shevchenko_mondelli() {
  ShevchenkoMondelliStudyOptions o;
  o.widths = "32,256";
  o.seeds = 2;
  o.steps = 1000;
  o.test_points = 300;
  o.keep_samples = 6;
  o.fixed_kept = 16;
  o.dataset = "iris";
  o.dataset_steps = 1000;
  return o;
}

TEST(ShevchenkoMondelliStudy, ReducedStudyEveryClaimHolds) {
  const StudyResult r = run_shevchenko_mondelli_study(reduced_shevchenko_mondelli());
  ASSERT_EQ(r.claims.size(), 5u);
  for (const Claim& c : r.claims) EXPECT_EQ(c.verdict, Verdict::holds) << c.id << ": " << c.reason;
  EXPECT_EQ(r.tables.size(), 5u);
  EXPECT_EQ(r.figures.size(), 9u);  // four per setting and the independent-neurons figure
}

TEST(ShevchenkoMondelliStudy, AClaimMadeImpossibleFails) {
  ShevchenkoMondelliStudyOptions o = reduced_shevchenko_mondelli();
  o.widths = "16,32";
  o.steps = 200;
  o.dataset = "";
  o.decay_exponent = 20;  // the error cannot fall by 2^20 from N = 16 to 32
  const StudyResult r = run_shevchenko_mondelli_study(o);
  EXPECT_EQ(r.claim("dropout_error_vanishes").verdict, Verdict::fails);
  EXPECT_EQ(r.claim("path_excess_vanishes").verdict, Verdict::fails);
}

TEST(ShevchenkoMondelliStudy, BadOptionsNameTheirField) {
  const auto field_of = [](ShevchenkoMondelliStudyOptions o) {
    try {
      o.validate();
    } catch (const options::OptionError& e) {
      return e.field();
    }
    return std::string("none");
  };
  ShevchenkoMondelliStudyOptions o;
  EXPECT_EQ(field_of(o), "none");
  o.widths = "101,200";
  EXPECT_EQ(field_of(o), "widths");
  o = {};
  o.widths = "200";
  EXPECT_EQ(field_of(o), "widths");
  o = {};
  o.dataset = "mnist";
  EXPECT_EQ(field_of(o), "dataset");
  o = {};
  o.fixed_kept = 1000;
  EXPECT_EQ(field_of(o), "fixed_kept");
  o = {};
  o.step = 0;
  EXPECT_EQ(field_of(o), "step");
}

}  // namespace
}  // namespace locus::studies
