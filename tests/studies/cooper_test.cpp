// A reduced Cooper study (three small runs, a short walk; well under a second): every claim holds,
// a claim made impossible by its options fails, a claim whose check cannot run is skipped, and
// bad options name their field.
//
// Margins: the verdicts compare with the study's own thresholds, which sit orders of magnitude
// above what these runs reach on any x86-64 CPU (construction max|r|/max|y| ~ 1e-15 vs 1e-9; LM
// loss ~ 1e-29 vs 1e-26; |lambda_k - 2 sigma_k^2| ~ 0.02 tau_H vs tau_H = 10 n eps |H|; loss on
// the walk ~ 1e-27 vs 1e-20), so SIMD width and FMA contraction cannot flip a verdict.

#include "locus/studies/cooper.hpp"

#include <gtest/gtest.h>

#include <string>

namespace locus::studies {
namespace {

CooperStudyOptions reduced_cooper() {
  CooperStudyOptions o;
  // A one-layer and a two-layer construction (l = 2) and one trained softplus net.
  o.runs = "p=2,h=8,d=6; p=3,h=10,d=8,depth=2,l=2; p=2,h=10,d=6,activation=softplus,method=lm";
  o.walk.run = 2;  // from the trained minimum
  o.walk.steps = 10;
  return o;
}

std::string verdicts(const StudyResult& r) {
  std::string s;
  for (const Claim& c : r.claims)
    s += c.id + ": " + std::string(to_string(c.verdict)) + " — " + c.reason + "\n";
  return s;
}

TEST(CooperStudy, ReducedStudyEveryClaimHolds) {
  const StudyResult r = run_cooper_study(reduced_cooper());
  ASSERT_EQ(r.claims.size(), 8u);
  for (const Claim& c : r.claims) EXPECT_EQ(c.verdict, Verdict::holds) << c.id << ": " << c.reason;
  EXPECT_EQ(r.claim("construction").evidence["runs"].get<int>(), 2);
  EXPECT_EQ(r.claim("training").evidence["runs"].get<int>(), 1);
  // Tables with named columns: one row per run, dim M = n - l d for each.
  ASSERT_EQ(r.tables.size(), 4u);
  const Table& runs = r.tables[0].table;
  ASSERT_EQ(runs.n_rows(), 3u);
  for (std::size_t i = 0; i < runs.n_rows(); ++i) {
    EXPECT_EQ(runs.at(i, "verdict").to_json(), "holds");
    EXPECT_EQ(runs.at(i, "dimension_jacobian").to_json(),
              runs.at(i, "predicted_dimension").to_json());
  }
  EXPECT_EQ(r.tables[3].name, "walk");
  EXPECT_GT(r.tables[3].table.n_rows(), 1u);
}

TEST(CooperStudy, ImpossibleCheckFails) {
  CooperStudyOptions o = reduced_cooper();
  o.walk.min_length = 1e6;  // no walk of 10 steps gets this far
  const StudyResult r = run_cooper_study(o);
  EXPECT_EQ(r.claim("walk").verdict, Verdict::fails) << verdicts(r);
  EXPECT_EQ(r.count(Verdict::fails), 1) << verdicts(r);
  EXPECT_EQ(r.count(Verdict::holds), 7) << verdicts(r);
  // A construction bound below round-off: the constructions fail, and Cor 3.4's working form
  // with them.
  o = reduced_cooper();
  o.residual_tolerance_relative = 1e-30;
  const StudyResult tight = run_cooper_study(o);
  EXPECT_EQ(tight.claim("construction").verdict, Verdict::fails) << verdicts(tight);
  EXPECT_EQ(tight.claim("cor34").verdict, Verdict::fails) << verdicts(tight);
}

TEST(CooperStudy, ChecksThatCannotRunAreSkippedNotHeld) {
  CooperStudyOptions o = reduced_cooper();
  o.runs = "p=2,h=8,d=6";  // no training run
  o.walk.run = -1;
  o.projection_max_params = 0;
  o.hessian_max_params = 0;  // Lanczos only: inertia counts are not certified
  const StudyResult r = run_cooper_study(o);
  for (const char* id : {"training", "walk", "projection_dimension", "hessian"})
    EXPECT_EQ(r.claim(id).verdict, Verdict::skipped) << id << "\n" << verdicts(r);
  EXPECT_EQ(r.count(Verdict::holds), 4) << verdicts(r);
  const io::Json j = r.to_json();
  EXPECT_EQ(j["figures"][0]["verdict"], "skipped");  // the spectrum figure shows "hessian"
}

TEST(CooperStudyOptions, ValidationNamesTheField) {
  auto field_of = [](CooperStudyOptions o) -> std::string {
    try {
      o.validate();
    } catch (const options::OptionError& e) {
      return e.field();
    }
    return "";
  };
  CooperStudyOptions o;
  EXPECT_EQ(field_of(o), "");
  o.runs = "p=2,h=8";  // d missing
  EXPECT_EQ(field_of(o), "runs");
  o.runs = "p=2,h=8,d=6,colour=red";
  EXPECT_EQ(field_of(o), "runs");
  o.runs = "p=2,h=8,d=6,method=adam";
  EXPECT_EQ(field_of(o), "runs");
  o.runs = " ; ";
  EXPECT_EQ(field_of(o), "runs");
  o = CooperStudyOptions();
  o.walk.run = 15;  // the default grid has 15 runs
  EXPECT_EQ(field_of(o), "walk_run");
  o = CooperStudyOptions();
  o.degenerate.activation = "sine";
  EXPECT_EQ(field_of(o), "degenerate_activation");
  o = CooperStudyOptions();
  o.degenerate.arch = "3";
  EXPECT_EQ(field_of(o), "degenerate_arch");
  EXPECT_EQ(parse_cooper_runs(CooperStudyOptions().runs).size(), 15u);
  const std::vector<CooperRun> runs = parse_cooper_runs("data=iris,h=24,d=20,l=3,method=lm;");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].data, "iris");
  EXPECT_EQ(runs[0].method, "lm");
  EXPECT_EQ(runs[0].seed, -1);
}

TEST(CooperStudyOptions, TableRoundTripsTheDefaults) {
  const auto& t = cooper_study_options_table();
  CooperStudyOptions a;
  a.walk.loss_max = 0.1;
  a.degenerate.arch = "2,4,1";
  CooperStudyOptions b;
  t.from_json(b, t.to_json(a));
  EXPECT_EQ(t.to_json(b), t.to_json(a));
  EXPECT_EQ(b.walk.loss_max, 0.1);
  EXPECT_EQ(t.to_json(CooperStudyOptions())["walk_run"].get<int>(), 12);
}

}  // namespace
}  // namespace locus::studies
