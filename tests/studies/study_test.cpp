// The study framework: claims and their verdicts, typed tables written as CSV and JSON, the
// registry's option resolution through the study's field table.

#include "locus/studies/study.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace locus::studies {
namespace {

TEST(StudyClaim, DecideAndSkip) {
  const Claim ok = decide("a", "A holds", true, {{"x", 1.5}}, "x = 1.5 <= 2");
  const Claim bad = decide("b", "B holds", false, {{"x", 3.0}}, "x = 3 > 2");
  const Claim none = skip("c", "C holds", "nothing to check");
  EXPECT_EQ(ok.verdict, Verdict::holds);
  EXPECT_EQ(bad.verdict, Verdict::fails);
  EXPECT_EQ(none.verdict, Verdict::skipped);  // a check that did not run never holds
  const io::Json j = none.to_json();
  EXPECT_EQ(j["verdict"], "skipped");
  EXPECT_EQ(j["reason"], "nothing to check");
  EXPECT_TRUE(j["evidence"].is_object());
  EXPECT_EQ(parse_verdict("fails"), Verdict::fails);
  EXPECT_THROW(parse_verdict("does not hold"), std::invalid_argument);
}

TEST(StudyResult, FigureVerdictCombinesItsClaims) {
  StudyResult r;
  r.study = "s";
  r.claims = {decide("a", "A", true, {}, ""), decide("b", "B", false, {}, ""), skip("c", "C", "")};
  r.figures = {{"f1", "k", "t", "", {}, {"a"}},
               {"f2", "k", "t", "", {}, {"a", "c"}},
               {"f3", "k", "t", "", {}, {"c", "b"}}};
  const io::Json j = r.to_json();
  EXPECT_EQ(j["figures"][0]["verdict"], "holds");
  EXPECT_EQ(j["figures"][1]["verdict"], "skipped");
  EXPECT_EQ(j["figures"][2]["verdict"], "fails");
  EXPECT_EQ(r.count(Verdict::holds), 1);
  EXPECT_EQ(r.count(Verdict::fails), 1);
  EXPECT_EQ(r.count(Verdict::skipped), 1);
  EXPECT_THROW(r.claim("d"), std::invalid_argument);
  const std::string text = summary(r);
  EXPECT_NE(text.find("fails    s/b: B"), std::string::npos) << text;
  EXPECT_NE(text.find("1 holds, 1 fails, 1 skipped"), std::string::npos) << text;
}

TEST(StudyTable, NumbersStayNumbersUntilWritten) {
  Table t({"k", "x", "name", "maybe"});
  t.add_row({3, 0.1, "a,b", std::optional<double>()});
  t.add_row({-1, std::numeric_limits<double>::infinity(), "q\"x", 2.5});
  t.add_row({0, std::nan(""), "", std::optional<int>(7)});
  EXPECT_THROW(t.add_row({1, 2.0}), std::invalid_argument);
  EXPECT_THROW(t.at(0, "y"), std::invalid_argument);
  EXPECT_THROW(t.at(3, "x"), std::invalid_argument);
  // %.17g keeps every bit: 0.1 is written with 17 significant digits and reads back exactly.
  EXPECT_EQ(std::stod(t.at(0, "x").to_csv()), 0.1);
  EXPECT_EQ(t.to_csv(),
            "k,x,name,maybe\n"
            "3,0.10000000000000001,\"a,b\",\n"
            "-1,inf,\"q\"\"x\",2.5\n"
            "0,nan,,7\n");
  // JSON: the io::json_number rule for non-finite numbers, null for a missing cell.
  EXPECT_EQ(t.at(1, "x").to_json(), "inf");
  EXPECT_EQ(t.at(2, "x").to_json(), "nan");
  EXPECT_TRUE(t.at(0, "maybe").to_json().is_null());
  EXPECT_EQ(t.at(1, "k").to_json().get<int>(), -1);
}

TEST(StudyRegistry, ResolvesThroughTheOptionsTable) {
  const Study& s = find_study("cooper");
  EXPECT_THROW(find_study("nope"), std::invalid_argument);
  const io::Json defaults = s.resolve(io::Json::object(), {});
  // File values, then --set values, both by the table; the "study" key names the study only.
  const io::Json r = s.resolve({{"study", "cooper"}, {"seed", 4}, {"walk_steps", 9}},
                               {{"walk_steps", "7"}, {"eigen_rtol", "1e-6"}});
  EXPECT_EQ(r["seed"].get<int>(), 4);
  EXPECT_EQ(r["walk_steps"].get<int>(), 7);
  EXPECT_EQ(r["eigen_rtol"].get<double>(), 1e-6);
  EXPECT_EQ(r["runs"], defaults["runs"]);
  EXPECT_FALSE(r.contains("study"));
  // Resolving the resolved options changes nothing (the context block can be rerun).
  EXPECT_EQ(s.resolve(r, {}), r);
  try {
    s.resolve({{"nonsense", 1}}, {});
    FAIL() << "no error";
  } catch (const options::OptionError& e) {
    EXPECT_EQ(e.field(), "nonsense");
  }
  EXPECT_THROW(s.resolve(io::Json::object(), {{"walk_steps", "many"}}), options::OptionError);
  const auto rows = s.describe_options();
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0][0], "seed");
  EXPECT_EQ(rows[0][3], "1");
}

// A toy study whose run function reports one step per claim, and one that reports nothing:
// make_study accepts both, and run_study hands the caller's callback to the first.
struct ToyOptions {
  int claims = 3;
  void validate() const {
    if (claims < 0) throw options::OptionError("ToyOptions", "claims", "must be >= 0");
  }
};
const options::Table<ToyOptions>& toy_table() {
  static const auto t =
      options::Table<ToyOptions>("ToyOptions").add("claims", "how many", &ToyOptions::claims);
  return t;
}
StudyResult toy_run(const ToyOptions& o, const ProgressCallback& progress) {
  StudyResult r;
  r.study = r.title = "toy";
  for (int k = 0; k < o.claims; ++k) {
    report_progress(progress,
                    {.stage = "claim " + std::to_string(k), .done = k, .total = o.claims});
    r.claims.push_back(decide("c" + std::to_string(k), "a claim", true, {}, "true"));
  }
  return r;
}
StudyResult toy_run_silent(const ToyOptions& o) { return toy_run(o, {}); }

TEST(StudyRegistry, ProgressReachesTheRunFunction) {
  const std::string dir = ::testing::TempDir() + "/locus_toy_study";
  const Study toy = make_study("toy", "toy", toy_table(), &toy_run);
  std::vector<ProgressEvent> events;
  const StudyRun r = run_study(toy, toy.resolve({{"claims", 4}}, {}), dir, io::Json::object(),
                               [&](const ProgressEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 4u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(events[k].stage, "claim " + std::to_string(k));
    EXPECT_EQ(events[k].done, k);
    EXPECT_EQ(events[k].total, 4);
  }
  EXPECT_EQ(r.result.count(Verdict::holds), 4);
  const Study silent = make_study("toy", "toy", toy_table(), &toy_run_silent);
  events.clear();
  const StudyRun q =
      run_study(silent, silent.resolve(io::Json::object(), {}), dir, io::Json::object(),
                [&](const ProgressEvent& e) { events.push_back(e); });
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(q.result.count(Verdict::holds), 3);
}

}  // namespace
}  // namespace locus::studies
