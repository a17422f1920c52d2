#include "locus/workflows/basins.hpp"

#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <cfloat>
#include <cmath>

#include "locus/core/objective.hpp"
#include "testing/dense_references.hpp"

namespace lw = locus::workflows;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using locus::Index;

namespace {

// The scalar problem at widths 1, 2, N = 8 and N + 2 with ten seeds: computed once (a few
// seconds) and shared by the tests below.
const lw::BasinsResult& scalar_sweep() {
  static const lw::BasinsResult r = [] {
    lw::BasinsOptions o;
    o.widths = "1,2,8,10";
    o.seeds = 10;
    o.run_threads = 2;
    return lw::run_basins(o, lw::scalar_data());
  }();
  return r;
}

// Central differences of the exact gradient: H_ij ~ (g_j(x + h e_i) - g_j(x - h e_i)) / 2h,
// symmetrised; error O(h^2 |g'''|) + O(eps |g| / h), about 1e-10 at h = 1e-5 for O(1) weights.
MatrixXd finite_difference_hessian(const locus::Objective& obj, const VectorXd& x) {
  const Index n = x.size();
  MatrixXd h(n, n);
  for (Index i = 0; i < n; ++i) {
    const double step = 1e-5 * std::max(1.0, std::abs(x(i)));
    VectorXd p = x, m = x;
    p(i) += step;
    m(i) -= step;
    h.col(i) = (obj.gradient(p) - obj.gradient(m)) / (2 * step);
  }
  return (h + h.transpose()) / 2;
}

}  // namespace

TEST(Basins, NarrowWidthsHaveCertifiedSuboptimalStrictMinima) {
  const lw::BasinsResult& r = scalar_sweep();
  ASSERT_EQ(r.widths.size(), 4u);
  EXPECT_EQ(r.n_points, 8);
  // Width 1 (a monotone f) cannot fit the bump: a strict minimum above the lowest loss exists.
  EXPECT_GE(r.widths[0].suboptimal_strict, 1) << lw::summary(r);
  for (const lw::BasinRun& run : r.runs) {
    if (!run.suboptimal) continue;
    EXPECT_EQ(run.end_state, "strict_minimum");
    EXPECT_LT(run.width, r.n_points);
    EXPECT_GT(run.min_eigenvalue, run.zero_tolerance);
    EXPECT_EQ(run.negative, 0);
    EXPECT_EQ(run.zero, 0);
    EXPECT_GT(run.suboptimal_gap, 0.1);  // 3.62 vs 3.48: far above round-off
  }
}

TEST(Basins, NoStrictMinimumAtWidthAtLeastN) {
  const lw::BasinsResult& r = scalar_sweep();
  for (const lw::BasinsWidth& w : r.widths) {
    if (w.width < r.n_points) continue;
    EXPECT_EQ(w.strict_minimum, 0) << lw::summary(r);
    EXPECT_EQ(w.suboptimal_strict, 0);
  }
  // Above N the features have a kernel: every run there has exact flat output directions,
  // l (h_L - rank Phi) >= h_L - N.
  for (const lw::BasinRun& run : r.runs)
    if (run.width > r.n_points) {
      EXPECT_GE(run.flat_output_directions, run.width - r.n_points);
    }
}

TEST(Basins, FoundMinimumMatchesIndependentNewtonSolve) {
  const lw::BasinsResult& r = scalar_sweep();
  const lw::BasinRun* found = nullptr;
  for (const lw::BasinRun& run : r.runs)
    if (run.suboptimal) found = &run;
  ASSERT_NE(found, nullptr);
  const locus::Mlp model({.widths = {1, found->width, 1}, .activation = locus::Activation::tanh});
  const locus::Objective obj(model, lw::scalar_data());
  // Newton with a finite-difference Hessian from a perturbed start converges to the same point.
  VectorXd x = found->theta + VectorXd::Constant(found->theta.size(), 1e-3);
  for (int k = 0; k < 30; ++k) x -= finite_difference_hessian(obj, x).ldlt().solve(obj.gradient(x));
  // The FD Hessian's O(1e-10) error limits the Newton fixed point to ~1e-10 / lambda_min.
  const double tol = 1e-6 * std::max(1.0, found->theta.cwiseAbs().maxCoeff());
  EXPECT_LT((x - found->theta).cwiseAbs().maxCoeff(), tol);
  EXPECT_NEAR(obj.loss(x), found->loss, 1e-12 * found->loss);
  const VectorXd ev = locus::testing::symmetric_eigenvalues(finite_difference_hessian(obj, x));
  EXPECT_GT(ev(0), 0.0);
  // lambda_min agrees to the FD error relative to |H|.
  EXPECT_NEAR(ev(0), found->min_eigenvalue, 1e-6 * ev.cwiseAbs().maxCoeff());
}

TEST(Basins, DescentPathAtWidthNReachesZeroWithoutIncrease) {
  const locus::Dataset data = lw::scalar_data();
  const locus::Mlp model({.widths = {1, 8, 1}, .activation = locus::Activation::tanh});
  const locus::Objective obj(model, data);
  // Start from an arbitrary point with dead-ish duplicated neurons: rank Phi < N.
  VectorXd theta = model.init_parameters({.scheme = locus::InitScheme::normal, .seed = 3});
  const auto& w1 = model.layer(0);
  theta(w1.weight_offset + 1) = theta(w1.weight_offset);  // neuron 1 = neuron 0
  theta(w1.bias_offset + 1) = theta(w1.bias_offset);
  const lw::Descent d = lw::descend(obj, theta);
  ASSERT_EQ(d.status, lw::DescentStatus::reached_zero) << lw::summary(d);
  EXPECT_LT(d.rank_start, 8);
  EXPECT_EQ(d.rank_end, 8);
  EXPECT_LE(d.loss_end, 1e-20);
  EXPECT_LE(d.max_relative_increase, 1e-12);
  // On the last segment L(t) = (1 - t)^2 L(theta_2): at its midpoint (t = 5/6 of the path) the
  // loss is L(theta_2) / 4, to round-off relative to L.
  const double l2 = obj.loss(d.path->control_points().row(2).transpose());
  EXPECT_NEAR(obj.loss(d.path->at(5.0 / 6.0)), l2 / 4, 1e-12 * d.loss_start);
}

TEST(Basins, DescentIsRefusedBelowN) {
  const locus::Mlp model({.widths = {1, 2, 1}, .activation = locus::Activation::tanh});
  const locus::Objective obj(model, lw::scalar_data());
  const lw::Descent d = lw::descend(obj, model.init_parameters());
  EXPECT_EQ(d.status, lw::DescentStatus::too_narrow);
  EXPECT_FALSE(d.path.has_value());
}

TEST(Basins, SplittingANarrowStrictMinimumGivesASaddle) {
  const lw::BasinsResult& r = scalar_sweep();
  const lw::BasinRun* found = nullptr;
  for (const lw::BasinRun& run : r.runs)
    if (run.end_state == "strict_minimum" && run.width == 1) found = &run;
  ASSERT_NE(found, nullptr);
  const locus::Mlp model({.widths = {1, 1, 1}, .activation = locus::Activation::tanh});
  const locus::Objective obj(model, lw::scalar_data());
  bool saddle = false;
  for (double fraction : {0.5, 1.5}) {
    const lw::SplitSaddle s = lw::split_to_saddle(obj, found->theta, 0, fraction);
    EXPECT_NEAR(s.analysis.loss, found->loss, 1e-12 * found->loss);  // same function
    saddle = saddle || s.analysis.classification == locus::analysis::PointClass::saddle;
  }
  EXPECT_TRUE(saddle);
}

TEST(Basins, RunsRoundTripThroughJsonAndDoNotDependOnThreads) {
  lw::BasinsOptions o;
  o.widths = "1,8";
  o.seeds = 2;
  o.train.adam_iterations = 300;
  const lw::BasinsResult serial = lw::run_basins(o, lw::scalar_data());
  o.run_threads = 3;
  const lw::BasinsResult threaded = lw::run_basins(o, lw::scalar_data());
  for (std::size_t i = 0; i < serial.runs.size(); ++i) {
    auto a = lw::to_json(serial.runs[i]), b = lw::to_json(threaded.runs[i]);
    a.erase("seconds");
    b.erase("seconds");
    EXPECT_EQ(a.dump(), b.dump());
    auto c = lw::to_json(lw::basin_run_from_json(lw::to_json(serial.runs[i])));
    c.erase("seconds");
    EXPECT_EQ(a.dump(), c.dump());
  }
}

TEST(Basins, BadOptionsNameTheField) {
  auto message = [](lw::BasinsOptions o) {
    try {
      o.validate();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message({.widths = "2,1"}).find("widths"), std::string::npos);
  EXPECT_NE(message({.widths = "0,1"}).find("widths"), std::string::npos);
  EXPECT_NE(message({.arch = "1,3,1", .layer = 2}).find("layer"), std::string::npos);
  EXPECT_NE(message({.seeds = 0}).find("seeds"), std::string::npos);
  EXPECT_EQ(message({.arch = "1,3,4,1", .layer = 1}), "");
}

TEST(Basins, DeepNetsSweepTheChosenLayer) {
  const std::vector<locus::MlpSpec> specs =
      lw::basins_specs({.arch = "2,3,4,1", .widths = "1,5", .layer = 1});
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[1].widths, (std::vector<Index>{2, 5, 4, 1}));
  const std::vector<locus::MlpSpec> last = lw::basins_specs({.arch = "2,3,4,1", .widths = "6"});
  EXPECT_EQ(last[0].widths, (std::vector<Index>{2, 3, 6, 1}));
}
