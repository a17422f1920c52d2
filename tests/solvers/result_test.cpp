// Shared solver plumbing: status names, stop-criteria validation, summary, trace CSV, option
// access by name and the method dispatcher.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "locus/io/csv.hpp"
#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace locus::solvers {
namespace {

TEST(SolverStatus, NamesRoundTrip) {
  for (Status s : {Status::not_run, Status::converged_gradient, Status::converged_loss,
                   Status::max_iterations, Status::time_limit, Status::non_finite,
                   Status::line_search_failed, Status::factorization_failed, Status::stalled,
                   Status::integration_failed, Status::final_time, Status::stopped_by_callback})
    EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_THROW(parse_status("done"), std::invalid_argument);
}

TEST(SolverMethod, NamesRoundTripAndUnknownNameIsRejected) {
  for (Method m : all_methods()) EXPECT_EQ(parse_method(to_string(m)), m);
  try {
    parse_method("bfgs");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bfgs"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("lbfgs"), std::string::npos);  // lists valid names
  }
}

TEST(StopCriteria, ValidateNamesTheField) {
  StopCriteria s;
  s.max_seconds = 0.0;
  try {
    s.validate("LevenbergMarquardtOptions.stop");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("LevenbergMarquardtOptions.stop.max_seconds"),
              std::string::npos)
        << e.what();
  }
  s = StopCriteria{};
  s.gradient_tolerance = NAN;
  EXPECT_THROW(s.validate(), std::invalid_argument);
  s = StopCriteria{};
  s.max_iterations = -1;
  EXPECT_THROW(s.validate(), std::invalid_argument);
}

TEST(Summary, PrintsEachValueBesideItsTolerance) {
  const auto p = testing::realizable_teacher_student(0, 30, 2, 2, 8);
  TrainOptions o;
  o.lm.record_trace = true;
  const SolveResult r = solve(p.objective(), p.x0, o);
  const std::string s = summary(r);
  EXPECT_NE(s.find("lm: "), std::string::npos) << s;
  EXPECT_NE(s.find("(gradient_tolerance)"), std::string::npos) << s;
  EXPECT_NE(s.find(r.gradient_max_norm <= o.lm.stop.gradient_tolerance ? " ≤ 1e-13" : " > 1e-13"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("evaluations"), std::string::npos) << s;
}

TEST(TraceCsv, WritesOneRowPerRecordWithNamedColumns) {
  const auto p = testing::realizable_teacher_student(1, 30, 2, 2, 8);
  TrainOptions o;
  o.lm.record_trace = true;
  const SolveResult r = solve(p.objective(), p.x0, o);
  ASSERT_EQ(r.trace.size(), static_cast<size_t>(r.iterations) + 1);  // iteration 0 included
  const std::string path =
      (std::filesystem::temp_directory_path() / "locus_solvers_trace_test.csv").string();
  write_trace_csv(path, r);
  const Eigen::MatrixXd table = io::read_csv(path, {.skip_rows = 1});
  std::filesystem::remove(path);
  ASSERT_EQ(table.rows(), static_cast<Eigen::Index>(r.trace.size()));
  ASSERT_EQ(table.cols(), 8);
  // %.17g round-trips doubles exactly.
  EXPECT_EQ(table(table.rows() - 1, 2), r.loss_final);
  EXPECT_EQ(table(table.rows() - 1, 0), r.iterations);
  EXPECT_EQ(trace_table(r.trace).columns.front(), "iteration");
}

TEST(OptionFields, SetAndGetByNameRoundTrip) {
  TrainOptions o;
  set_option_text(o, Method::lm, "gradient_tolerance", "1e-9");
  EXPECT_EQ(o.lm.stop.gradient_tolerance, 1e-9);
  set_option(o, Method::sgd, "batch_size", OptionValue(std::int64_t{7}));
  EXPECT_EQ(o.sgd.batch_size, 7);
  set_option(o, Method::gd, "learning_rate", OptionValue(std::int64_t{1}));  // int -> double
  EXPECT_EQ(o.gd.learning_rate, 1.0);
  set_option_text(o, Method::newton, "model", "exact");
  EXPECT_EQ(o.newton.model, NewtonModel::exact);
  set_option_text(o, Method::flow, "max_seconds", "inf");
  EXPECT_TRUE(std::isinf(o.flow.stop.max_seconds));
  set_option(o, Method::flow, "linear_solver", OptionValue(std::string("dense")));
  EXPECT_EQ(o.flow.linear_solver, FlowLinearSolver::dense);
  // Every listed field can be written back with its own value.
  for (Method m : all_methods())
    for (const OptionField& f : option_fields(o, m)) {
      EXPECT_NO_THROW(set_option(o, m, f.name, f.value)) << to_string(m) << "." << f.name;
      EXPECT_FALSE(f.help.empty());
    }
  const auto fields = option_fields(o, Method::lm);
  EXPECT_EQ(fields.front().name, "gradient_tolerance");
  EXPECT_EQ(std::get<double>(fields.front().value), 1e-9);
}

TEST(OptionFields, UnknownNamesAndWrongTypesAreRejected) {
  TrainOptions o;
  EXPECT_THROW(set_option_text(o, Method::lm, "learning_rate", "0.1"), std::invalid_argument);
  EXPECT_THROW(set_option_text(o, Method::lm, "max_iterations", "2.5"), std::invalid_argument);
  EXPECT_THROW(set_option_text(o, Method::lm, "max_iterations", "many"), std::invalid_argument);
  EXPECT_THROW(set_option(o, Method::lm, "record_trace", OptionValue(1.0)), std::invalid_argument);
  EXPECT_THROW(set_option_text(o, Method::newton, "model", "quasi"), std::invalid_argument);
}

TEST(TrainOptions, PolishMustBeASecondOrderOrQuasiNewtonMethod) {
  TrainOptions o;
  o.method = Method::flow;
  o.polish = Method::sgd;
  EXPECT_THROW(o.validate(), std::invalid_argument);
  o.polish = Method::newton;
  EXPECT_NO_THROW(o.validate());
  o.newton.acceptance_ratio = 0.5;  // the polish's options are validated too
  EXPECT_THROW(o.validate(), std::invalid_argument);
}

}  // namespace
}  // namespace locus::solvers
