// Acceptance 5: the CVODE gradient flow against an independent fixed-step RK4 integration of the
// same ODE theta' = -grad L(theta), and the flow -> polish pipeline.

#include "locus/solvers/gradient_flow.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "locus/solvers/solve.hpp"
#include "problems.hpp"

namespace locus::solvers {
namespace {

// Classical RK4 with a fixed step h from t = 0, returning theta at each of the requested times
// (which must be multiples of h up to round-off: the integration lands on them exactly).
std::vector<Eigen::VectorXd> rk4(const Objective& obj, Eigen::VectorXd x,
                                 const std::vector<double>& times, double h) {
  std::vector<Eigen::VectorXd> out;
  double t = 0.0;
  auto f = [&](const Eigen::VectorXd& y) { return Eigen::VectorXd(-obj.gradient(y)); };
  for (double target : times) {
    while (t < target - 1e-12) {
      const double step = std::min(h, target - t);
      const Eigen::VectorXd k1 = f(x), k2 = f(x + 0.5 * step * k1), k3 = f(x + 0.5 * step * k2),
                            k4 = f(x + step * k3);
      x += step / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4);
      t += step;
    }
    out.push_back(x);
  }
  return out;
}

class FlowVersusRk4 : public ::testing::TestWithParam<FlowLinearSolver> {};

TEST_P(FlowVersusRk4, TrajectoryAgreesToTheRequestedTolerance) {
  // [2, 3, 1] student of a [2, 2, 1] teacher on 12 points: 13 parameters, loss from O(1) down.
  const auto p = testing::realizable_teacher_student(4, 12, 2, 2, 3);
  const Objective obj = p.objective();
  GradientFlowOptions o;
  o.relative_tolerance = 1e-10;
  o.absolute_tolerance = 1e-12;
  o.t_final = 10.0;
  o.linear_solver = GetParam();
  o.trajectory_points_per_decade = 2;
  o.trajectory_t_first = 1e-2;
  o.stop.gradient_tolerance = 0.0;  // integrate to t_final
  o.stop.loss_tolerance = 0.0;
  const SolveResult r = solve_gradient_flow(obj, p.x0, o);
  ASSERT_EQ(r.status, Status::final_time) << summary(r);
  // t = 0, 1e-2, 3.16e-2, ..., 10 (7 log-spaced points), the final state at t_final = 10 is the
  // last output time itself.
  ASSERT_EQ(r.trajectory.size(), 8u);
  EXPECT_EQ(r.trajectory.front().time, 0.0);
  for (size_t k = 1; k < r.trajectory.size(); ++k)
    EXPECT_NEAR(r.trajectory[k].time, 1e-2 * std::pow(10.0, (k - 1) / 2.0), 1e-12);
  EXPECT_NEAR(r.trajectory.back().time, 10.0, 1e-12);
  // The loss is non-increasing along the gradient flow.
  for (size_t k = 1; k < r.trajectory.size(); ++k)
    EXPECT_LE(r.trajectory[k].loss, r.trajectory[k - 1].loss * (1 + 1e-12));

  // Reference: RK4 with h = 1e-4. Its global error is O(h^4 * max|d^5 theta/dt^5| * T), far
  // below 1e-12 here (halving h changes the result by < 1e-13; checked when writing the test).
  std::vector<double> times;
  for (const TrajectoryPoint& pt : r.trajectory) times.push_back(pt.time);
  const auto reference = rk4(obj, p.x0, times, 1e-4);
  // CVODE controls the local error per step to rtol |theta| + atol; the accumulated global error
  // of BDF on this contracting flow stays within a modest multiple of it. 100x is the margin.
  for (size_t k = 0; k < times.size(); ++k) {
    const double scale =
        o.relative_tolerance * reference[k].cwiseAbs().maxCoeff() + o.absolute_tolerance;
    EXPECT_LE((r.trajectory[k].theta - reference[k]).cwiseAbs().maxCoeff(), 100 * scale)
        << "t = " << times[k];
  }
}

INSTANTIATE_TEST_SUITE_P(LinearSolvers, FlowVersusRk4,
                         ::testing::Values(FlowLinearSolver::dense, FlowLinearSolver::iterative),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(GradientFlow, StopsAtTheGradientToleranceAndRecordsTime) {
  const auto p = testing::realizable_teacher_student(1, 30, 2, 2, 6);
  GradientFlowOptions o;
  o.stop.gradient_tolerance = 1e-6;
  o.record_trace = true;
  const SolveResult r = solve_gradient_flow(p.objective(), p.x0, o);
  ASSERT_EQ(r.status, Status::converged_gradient) << summary(r);
  EXPECT_LE(r.gradient_max_norm, 1e-6);
  ASSERT_FALSE(r.trace.empty());
  for (size_t i = 2; i < r.trace.size(); ++i)
    EXPECT_GT(r.trace[i].flow_time, r.trace[i - 1].flow_time);
}

TEST(Pipeline, FlowThenPolishReachesZeroLossOnASmallProblem) {
  const auto p = testing::realizable_teacher_student(0, 120, 5, 3, 40);
  for (Method polish : {Method::lm, Method::newton}) {
    TrainOptions o;
    o.method = Method::flow;
    o.polish = polish;
    o.flow.record_trace = true;
    o.lm.record_trace = true;
    o.newton.record_trace = true;
    const SolveResult r = solve(p.objective(), p.x0, o);
    EXPECT_TRUE(r.converged()) << summary(r);
    EXPECT_LE(r.loss_final, 1e-26) << summary(r);
    EXPECT_LE(r.gradient_max_norm, 1e-13) << summary(r);
    ASSERT_EQ(r.stages.size(), 2u);
    EXPECT_EQ(r.method, "flow+" + std::string(to_string(polish)));
    EXPECT_EQ(r.stages[0].method, "flow");
    EXPECT_EQ(r.iterations, r.stages[0].iterations + r.stages[1].iterations);
    EXPECT_EQ(r.trace.size(), static_cast<size_t>(r.iterations) + 1);
    for (size_t i = 1; i < r.trace.size(); ++i)
      EXPECT_EQ(r.trace[i].iteration, r.trace[i - 1].iteration + 1);
  }
}

}  // namespace
}  // namespace locus::solvers
