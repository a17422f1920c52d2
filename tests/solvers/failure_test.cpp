// Acceptance 4: non-finite losses, impossible options and stopping by limits or callback end with
// the right status or a std::invalid_argument naming the field, never a crash.

#include <gtest/gtest.h>

#include <cmath>

#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace locus::solvers {
namespace {

testing::Problem small() { return testing::realizable_teacher_student(0, 20, 2, 2, 4); }

TEST(Failure, OverflowingLossEndsWithNonFiniteStatusForEveryMethod) {
  const auto p = small();
  // Finite parameters whose output overflows: |W| = 1e200 makes the pre-activations and the
  // output infinite, so L = inf at x0.
  const Eigen::VectorXd x0 = Eigen::VectorXd::Constant(p.model.n_params(), 1e200);
  ASSERT_FALSE(std::isfinite(p.objective().loss(x0)));
  for (Method m : all_methods()) {
    TrainOptions o;
    o.method = m;
    SolveResult r;
    ASSERT_NO_THROW(r = solve(p.objective(), x0, o)) << to_string(m);
    EXPECT_EQ(r.status, Status::non_finite) << to_string(m) << ": " << r.message;
    EXPECT_FALSE(r.message.empty());
  }
}

TEST(Failure, ImpossibleOptionsThrowNamingTheField) {
  const auto p = small();
  auto expect_field = [&](TrainOptions o, const std::string& field) {
    try {
      solve(p.objective(), p.x0, o);
      ADD_FAILURE() << "no exception for " << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  TrainOptions o;
  o.method = Method::gd;
  o.gd.learning_rate = -1;
  expect_field(o, "GradientDescentOptions.learning_rate");
  o = {};
  o.method = Method::sgd;
  o.sgd.batch_size = 0;
  expect_field(o, "SgdOptions.batch_size");
  o = {};
  o.method = Method::adam;
  o.adam.beta2 = 1.0;
  expect_field(o, "AdamOptions.beta2");
  o = {};
  o.method = Method::lbfgs;
  o.lbfgs.wolfe_c2 = 1e-5;  // c2 < c1
  expect_field(o, "LbfgsOptions.wolfe_c1");
  o = {};
  o.lm.acceptance_ratio = 0.5;
  expect_field(o, "LevenbergMarquardtOptions.acceptance_ratio");
  o = {};
  o.method = Method::newton;
  o.newton.max_cg_iterations = 0;
  expect_field(o, "NewtonOptions.max_cg_iterations");
  o = {};
  o.method = Method::critical;
  o.critical.inertia_tolerance_factor = -1;
  expect_field(o, "CriticalPointOptions.inertia_tolerance_factor");
  o = {};
  o.method = Method::flow;
  o.flow.relative_tolerance = 0;
  expect_field(o, "GradientFlowOptions.relative_tolerance");
  o = {};
  o.method = Method::flow;
  o.flow.stop.max_seconds = -1;
  expect_field(o, "GradientFlowOptions.stop.max_seconds");
}

TEST(Failure, WrongLengthStartIsACallerError) {
  const auto p = small();
  for (Method m : all_methods()) {
    TrainOptions o;
    o.method = m;
    EXPECT_THROW(solve(p.objective(), Eigen::VectorXd::Zero(3), o), std::invalid_argument)
        << to_string(m);
  }
}

TEST(Failure, LimitsAndCallbackStopWithTheirStatus) {
  const auto p = small();
  for (Method m : all_methods()) {
    TrainOptions o;
    o.method = m;
    stop_criteria(o, m).max_iterations = 0;
    EXPECT_EQ(solve(p.objective(), p.x0, o).status, Status::max_iterations) << to_string(m);

    o = {};
    o.method = m;
    stop_criteria(o, m).max_seconds = 1e-12;
    stop_criteria(o, m).gradient_tolerance = 0.0;
    stop_criteria(o, m).loss_tolerance = -1.0;
    const SolveResult t = solve(p.objective(), p.x0, o);
    EXPECT_EQ(t.status, Status::time_limit) << to_string(m) << ": " << t.message;
    EXPECT_LE(t.iterations, 1) << to_string(m);  // the clock is checked at x0 and after each step

    o = {};
    o.method = m;
    int calls = 0;
    const SolveResult c = solve(p.objective(), p.x0, o, [&](const IterationRecord& rec) {
      ++calls;
      return rec.iteration < 3;
    });
    EXPECT_EQ(c.status, Status::stopped_by_callback) << to_string(m) << ": " << c.message;
    EXPECT_EQ(c.iterations, 3) << to_string(m);
    EXPECT_EQ(calls, 4) << to_string(m);  // iterations 0, 1, 2, 3
  }
}

TEST(Failure, AlreadyConvergedStartDoesNoIteration) {
  const auto p = small();
  TrainOptions o;
  o.lm.stop.gradient_tolerance = 1e300;
  const SolveResult r = solve(p.objective(), p.x0, o);
  EXPECT_EQ(r.status, Status::converged_gradient);
  EXPECT_EQ(r.iterations, 0);
  EXPECT_EQ(r.theta, p.x0);
}

}  // namespace
}  // namespace locus::solvers
