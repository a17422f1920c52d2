// A reduced connectivity study (iris, 20 points, widths 12 and 48, a short band; a few seconds):
// every claim holds; a claim made impossible by its options fails; bad options name their field.
//
// Margins: the aligned network's outputs differ from the original's by ~1e-16 against 64 eps;
// the fitted curve's barrier is ~1e-3 of the straight line's against the bound 0.1; the band's
// barrier is ~1e-2 of the line's; the aligned line's barrier falls by several times between the
// widths; neb_saddle's refined point (20 rows) has |grad L|_inf = 4e-15 against 1e-10 (index 2).

#include "locus/studies/connectivity.hpp"

#include <gtest/gtest.h>

namespace locus::studies {
namespace {

ConnectivityStudyOptions reduced_connectivity() {
  ConnectivityStudyOptions o;
  o.points = 20;
  o.widths = "12,48";
  o.neb_iterations = 400;
  return o;
}

TEST(ConnectivityStudy, ReducedStudyEveryClaimHolds) {
  const StudyResult r = run_connectivity_study(reduced_connectivity());
  ASSERT_EQ(r.claims.size(), 5u);
  for (const Claim& c : r.claims) EXPECT_EQ(c.verdict, Verdict::holds) << c.id << ": " << c.reason;
}

TEST(ConnectivityStudy, AClaimMadeImpossibleFails) {
  ConnectivityStudyOptions o = reduced_connectivity();
  o.points = 10;  // smaller still: only the verdict matters here
  o.widths = "6,12";
  o.neb_iterations = 50;
  o.curve_ratio = 1e-12;  // no fitted curve gets this low
  const StudyResult r = run_connectivity_study(o);
  EXPECT_EQ(r.claim("curve_below_line").verdict, Verdict::fails);
}

TEST(ConnectivityStudy, BadOptionsNameTheirField) {
  const auto field_of = [](ConnectivityStudyOptions o) {
    try {
      o.validate();
    } catch (const options::OptionError& e) {
      return e.field();
    }
    return std::string("none");
  };
  ConnectivityStudyOptions o;
  o.widths = "16";
  EXPECT_EQ(field_of(o), "widths");
  o = {};
  o.dataset = "mnist";
  EXPECT_EQ(field_of(o), "dataset");
  o = {};
  o.activation = "swish";
  EXPECT_EQ(field_of(o), "activation");
  o = {};
  o.curve_ratio = 0;
  EXPECT_EQ(field_of(o), "curve_ratio");
}

}  // namespace
}  // namespace locus::studies
