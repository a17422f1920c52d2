#include "locus/core/mlp.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "locus/core/dataset.hpp"
#include "locus/core/objective.hpp"
#include "locus/io/memory.hpp"

namespace locus {
namespace {

TEST(Mlp, ParameterCountAndLayout) {
  const Mlp m({.widths = {3, 4, 2}, .activation = Activation::tanh, .bias = {true, false}});
  EXPECT_EQ(m.n_params(), 3 * 4 + 4 + 4 * 2);
  EXPECT_EQ(m.layer(0).weight_offset, 0);
  EXPECT_EQ(m.layer(0).bias_offset, 12);
  EXPECT_EQ(m.layer(1).weight_offset, 16);
  EXPECT_EQ(m.layer(1).bias_offset, -1);
}

// predict() against a hand-written loop over the documented layout (W row-major out x in).
TEST(Mlp, PredictMatchesLayoutByHand) {
  const Mlp m({.widths = {2, 3, 1}, .activation = Activation::tanh});
  const Eigen::VectorXd t = m.init_parameters({.scheme = InitScheme::normal, .seed = 5});
  Eigen::MatrixXd x(2, 2);
  x << 0.3, -1.2, 2.0, 0.5;
  const Eigen::MatrixXd f = m.predict(t, x);
  for (int i = 0; i < 2; ++i) {
    double out = t[12];  // output bias: after W1 (6), b1 (3), W2 (3)
    for (int o = 0; o < 3; ++o) {
      const double z = t[o * 2] * x(i, 0) + t[o * 2 + 1] * x(i, 1) + t[6 + o];
      out += t[9 + o] * std::tanh(z);
    }
    EXPECT_NEAR(f(i, 0), out, 1e-15);
  }
}

// Hidden layers of different widths (narrow, wide, narrow) share predict's per-thread storage,
// sized to the widest; calls with more points, then fewer, then another net reuse it. Reference:
// a per-point loop over weight() and bias() with activate(); both sum the same products, so they
// agree to a few ulps of the largest term (1e-13 absolute for outputs of size ~1-10).
TEST(Mlp, PredictMatchesAPerPointLoopAcrossWidthsAndCalls) {
  const auto reference = [](const Mlp& m, const Eigen::VectorXd& t, const Eigen::MatrixXd& x) {
    Eigen::MatrixXd out(x.rows(), m.output_dim());
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      Eigen::VectorXd h = x.row(i).transpose();
      for (int k = 0; k < m.n_layers(); ++k) {
        Eigen::VectorXd z = m.weight(t, k) * h;
        if (m.has_bias(k)) z += m.bias(t, k);
        if (k + 1 < m.n_layers())
          for (Eigen::Index o = 0; o < z.size(); ++o) z[o] = activate(m.activation(), z[o]);
        h = z;
      }
      out.row(i) = m.output_scale() * h.transpose();
    }
    return out;
  };
  const Mlp deep({.widths = {3, 2, 7, 4, 2}, .activation = Activation::softplus});
  const Mlp shallow({.widths = {3, 5, 1}, .activation = Activation::tanh});
  const Eigen::VectorXd td = deep.init_parameters({.scheme = InitScheme::normal, .seed = 8});
  const Eigen::VectorXd ts = shallow.init_parameters({.scheme = InitScheme::normal, .seed = 9});
  for (const Eigen::Index d : {40, 3, 17}) {
    const Eigen::MatrixXd x = Eigen::MatrixXd::Random(d, 3);
    EXPECT_LE((deep.predict(td, x) - reference(deep, td, x)).cwiseAbs().maxCoeff(), 1e-13) << d;
    EXPECT_LE((shallow.predict(ts, x) - reference(shallow, ts, x)).cwiseAbs().maxCoeff(), 1e-13)
        << d;
  }
}

TEST(Mlp, InitIsSeededAndMeanFieldScales) {
  const Mlp m({.widths = {2, 5, 1}});
  EXPECT_EQ(m.init_parameters({.seed = 3}), m.init_parameters({.seed = 3}));
  EXPECT_NE(m.init_parameters({.seed = 3}), m.init_parameters({.seed = 4}));
  const Mlp mf({.widths = {2, 5, 1}, .mean_field = true});
  const Eigen::VectorXd t = m.init_parameters({.scheme = InitScheme::normal, .seed = 1});
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(1, 2);
  // The output bias is scaled too: f_mf = (W2 a + b2) / 5 = f / 5.
  EXPECT_NEAR(mf.predict(t, x)(0, 0), m.predict(t, x)(0, 0) / 5.0, 1e-15);
}

TEST(Mlp, BadSpecsAndParametersAreRejected) {
  EXPECT_THROW(Mlp({.widths = {3}}), std::invalid_argument);
  EXPECT_THROW(Mlp({.widths = {3, 0, 1}}), std::invalid_argument);
  EXPECT_THROW(Mlp({.widths = {3, 2, 1}, .bias = {true}}), std::invalid_argument);
  const Mlp m({.widths = {2, 2, 1}});
  EXPECT_THROW(m.predict(Eigen::VectorXd::Zero(3), Eigen::MatrixXd::Zero(1, 2)),
               std::invalid_argument);
  Eigen::VectorXd t = Eigen::VectorXd::Zero(m.n_params());
  t[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(m.check_parameters(t), std::invalid_argument);
  EXPECT_THROW(m.predict(Eigen::VectorXd::Zero(m.n_params()), Eigen::MatrixXd::Zero(1, 3)),
               std::invalid_argument);
}

// check_parameters names the first non-finite entry (its scan runs over whole vectors without an
// early exit, then looks for the index): NaN, +inf and -inf at every position of a 62-parameter
// net, alone and with a later second one, while the extreme finite values (the largest double, the
// smallest subnormal, -0) pass.
TEST(Mlp, TheFirstNonFiniteParameterIsNamed) {
  const Mlp m({.widths = {3, 10, 2}});
  const Index n = m.n_params();
  ASSERT_EQ(n, 62);
  Eigen::VectorXd t = Eigen::VectorXd::Zero(n);
  t[0] = std::numeric_limits<double>::max();
  t[1] = -std::numeric_limits<double>::denorm_min();
  t[2] = -0.0;
  t[n - 1] = -std::numeric_limits<double>::max();
  EXPECT_NO_THROW(m.check_parameters(t));
  for (const double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity()})
    for (const Index second : {Index{0}, Index{3}})
      for (Index i = 0; i < n; ++i) {
        Eigen::VectorXd u = t;
        u[i] = bad;
        if (second > 0 && i + second < n) u[i + second] = bad;
        try {
          m.check_parameters(u, "theta");
          ADD_FAILURE() << "no error for " << bad << " at " << i;
        } catch (const std::invalid_argument& e) {
          EXPECT_NE(std::string(e.what()).find("theta has a non-finite entry at index " +
                                               std::to_string(i)),
                    std::string::npos)
              << e.what();
        }
      }
}

}  // namespace
// Sizes that overflow 64-bit arithmetic, or that would not fit in memory, are refused when the
// network is built, before anything is allocated; the message names the widths.
TEST(Mlp, HugeWidthsAreRefusedBeforeAllocation) {
  auto message = [](const MlpSpec& spec) -> std::string {
    try {
      Mlp m(spec);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  // 3 * 2^62 wraps around in unchecked arithmetic (to n_params = 1 with the last layer's 2^62).
  const Index big = Index{1} << 62;
  EXPECT_NE(message({.widths = {3, big, 1, 1}, .bias = {false, false, false}}).find("overflows"),
            std::string::npos);
  // 5e9 parameters: 37 GiB for one parameter vector, above a 1 GiB limit.
  const double saved = io::max_memory_bytes();
  io::set_max_memory_bytes(1 << 30);
  const std::string m = message({.widths = {3, 1000000000, 1}});
  EXPECT_NE(m.find("[3,1000000000,1]"), std::string::npos) << m;
  EXPECT_NE(m.find("37.3 GiB"), std::string::npos) << m;
  // A network that fits, but whose gradient on many points would not: refused by the Objective.
  const Mlp wide({.widths = {2, 100000, 1}});
  Dataset data{Eigen::MatrixXd::Zero(100000, 2), Eigen::MatrixXd::Zero(100000, 1), "zeros"};
  try {
    const Objective obj(wide, data);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("on 100000 points needs about"), std::string::npos)
        << e.what();
  }
  io::set_max_memory_bytes(saved);
}

}  // namespace locus
