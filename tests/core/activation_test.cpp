#include "locus/core/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace locus {
namespace {

// Central differences of sigma and sigma' with h = 1e-5: truncation ~h^2 |sigma'''| / 6 ~ 1e-10
// and rounding ~eps / h ~ 2e-11 for these O(1) functions; 1e-8 leaves margin.
TEST(Activation, DerivativesMatchCentralDifferences) {
  const double h = 1e-5;
  for (Activation a : all_activations()) {
    for (double x : {-3.0, -0.7, -0.1, 0.05, 0.3, 1.0, 2.5}) {
      if (a == Activation::relu && std::abs(x) < 2 * h) continue;
      const auto v = activation_values(a, x);
      const auto vp = activation_values(a, x + h), vm = activation_values(a, x - h);
      EXPECT_NEAR(v.first, (vp.value - vm.value) / (2 * h), 1e-8) << to_string(a) << " x=" << x;
      EXPECT_NEAR(v.second, (vp.first - vm.first) / (2 * h), 1e-8) << to_string(a) << " x=" << x;
    }
  }
}

TEST(Activation, ClosedForms) {
  EXPECT_DOUBLE_EQ(activate(Activation::softplus, 0.0), std::log(2.0));
  EXPECT_DOUBLE_EQ(activate(Activation::sigmoid, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(activate(Activation::smoolu, 1.0), std::exp(-1.0));
  EXPECT_DOUBLE_EQ(activate(Activation::g, 0.0), 0.5 + std::log(2.0));
  // Known value erf(1/sqrt 2) = P(|Z| < 1) = 0.682689492137086, to 2 ulps.
  EXPECT_NEAR(activate(Activation::erf, 1.0), 0.6826894921370859, 3e-16);
  EXPECT_NEAR(activate(Activation::gelu, 1.0), 0.8413447460685429, 1e-15);  // x * Phi(x)
  // softplus must not overflow for large arguments.
  EXPECT_DOUBLE_EQ(activate(Activation::softplus, 800.0), 800.0);
}

TEST(Activation, SmooluIsFlatAndFiniteNearZero) {
  for (double x : {-1e300, -1.0, -0.0, 0.0, 1e-300, 1e-5, 1e-3}) {
    const auto v = activation_values(Activation::smoolu, x);
    EXPECT_TRUE(std::isfinite(v.value) && std::isfinite(v.first) && std::isfinite(v.second)) << x;
    EXPECT_GE(v.value, 0.0);
  }
  EXPECT_EQ(activation_values(Activation::smoolu, -2.0).value, 0.0);
  EXPECT_EQ(activation_values(Activation::smoolu, 1e-300).second, 0.0);
}

// Against long double closed forms, relative: softplus = max(x, 0) + log1p(exp(-|x|)) and its
// sigmoid derivatives; tanh with sech^2 and -2 tanh sech^2; sigmoid'' = -sigma' tanh(x/2), which
// goes to 0 at x = 0 (the form d (1 - 2s) loses every digit there). The batch code is exact to
// ~5 ulps over 4e5 points from 1e-12 to 300 (SSE2, AVX2, AVX-512); 16 ulps leaves margin.
TEST(Activation, BatchIsAccurateIncludingNearZero) {
  std::vector<double> z;
  for (double m = -12; m <= 2.4; m += 0.05) z.push_back(std::pow(10.0, m)), z.push_back(-z.back());
  const long n = static_cast<long>(z.size());
  std::vector<double> v(n), f(n), s(n);
  auto ulps = [](double got, long double ref) {
    return static_cast<double>(std::fabs((got - ref) / ref) / 2.220446049250313e-16L);
  };
  for (Activation a : {Activation::softplus, Activation::tanh, Activation::sigmoid}) {
    activation_batch(a, z.data(), n, v.data(), f.data(), s.data());
    for (long i = 0; i < n; ++i) {
      const long double x = z[i], e = std::exp(-std::fabs(x));
      const long double sg = x >= 0 ? 1 / (1 + e) : e / (1 + e), d = e / ((1 + e) * (1 + e));
      long double ref[3];
      if (a == Activation::softplus) {
        ref[0] = (x > 0 ? x : 0) + std::log1p(e), ref[1] = sg, ref[2] = d;
      } else if (a == Activation::tanh) {
        const long double t = std::tanh(x), c = std::cosh(x);
        ref[0] = t, ref[1] = 1 / (c * c), ref[2] = -2 * t / (c * c);
      } else {
        ref[0] = sg, ref[1] = d, ref[2] = -d * std::tanh(x / 2);
      }
      EXPECT_LE(ulps(v[i], ref[0]), 16) << to_string(a) << " x=" << z[i];
      EXPECT_LE(ulps(f[i], ref[1]), 16) << to_string(a) << "' x=" << z[i];
      EXPECT_LE(ulps(s[i], ref[2]), 16) << to_string(a) << "'' x=" << z[i];
    }
  }
}

// The batch exponential (exp(-|x|) for |x| up to 745, then 0) on a dense grid, through softplus and
// sigmoid, whose values and derivatives carry it directly: softplus(-|x|) ~ e, sigmoid'(x) =
// e/(1+e)^2 ~ e for large |x|. Against long double: 16 ulps relative (as above) where the
// reference is a normal double; below 2^-1022 the results are subnormal, whose spacing is the
// smallest subnormal 2^-1074, and a correctly rounded exp is off by up to half of it, the formulas
// by a few: 4 units of 2^-1074 absolute. Beyond |x| = 745.2 everything is 0 (exp(-745.2) <
// 2^-1075 rounds to 0).
TEST(Activation, BatchIsAccurateDownToTheSubnormals) {
  std::vector<double> z;
  for (double x = 0; x <= 760; x += 0.0137) z.push_back(-x), z.push_back(x);
  const long n = static_cast<long>(z.size());
  std::vector<double> v(n), f(n), s(n);
  constexpr long double smallest_subnormal = 4.9406564584124654e-324L;
  auto close = [&](double got, long double ref) {
    if (ref >= 2.2250738585072014e-308L)
      return std::fabs((got - ref) / ref) <= 16 * 2.220446049250313e-16L;
    return std::fabs(got - ref) <= 4 * smallest_subnormal;
  };
  for (Activation a : {Activation::softplus, Activation::sigmoid}) {
    activation_batch(a, z.data(), n, v.data(), f.data(), s.data());
    for (long i = 0; i < n; ++i) {
      const long double x = z[i], e = std::exp(-std::fabs(x));
      const long double sg = x >= 0 ? 1 / (1 + e) : e / (1 + e), d = e / ((1 + e) * (1 + e));
      const long double value = a == Activation::softplus ? (x > 0 ? x : 0) + std::log1p(e) : sg;
      const long double first = a == Activation::softplus ? sg : d;
      EXPECT_TRUE(close(v[i], value)) << to_string(a) << " x=" << z[i] << " got " << v[i];
      EXPECT_TRUE(close(f[i], first)) << to_string(a) << "' x=" << z[i] << " got " << f[i];
      if (a == Activation::softplus) {
        EXPECT_TRUE(close(s[i], d)) << to_string(a) << "'' x=" << z[i] << " got " << s[i];
      }
      if (std::fabs(x) > 745.2L) {
        EXPECT_EQ(a == Activation::softplus ? s[i] : f[i], 0.0);
      }
    }
  }
}

TEST(Activation, ParseRoundTripsAndRejectsUnknown) {
  for (Activation a : all_activations()) EXPECT_EQ(parse_activation(to_string(a)), a);
  EXPECT_THROW(parse_activation("swish"), std::invalid_argument);
  EXPECT_FALSE(is_smooth(Activation::relu));
  EXPECT_TRUE(is_rectified(Activation::smoolu));
}

}  // namespace
}  // namespace locus

namespace locus {
namespace {

// The batch path uses locus's own vectorised exp (table-driven with AVX-512), expm1 and log1p
// (accurate to ~1-2 ulp) in different algebraic forms; 8 ulps of the larger of |value| and
// 1e-300 bounds the difference.
TEST(Activation, BatchAgreesWithScalar) {
  std::vector<double> z;
  for (double x = -40; x <= 40; x += 0.173) z.push_back(x);
  for (double x : {0.0, -0.0, 1e-300, -1e-300, 1e-3, 2e-3, 1e-8, 700.0, -700.0}) z.push_back(x);
  const long n = static_cast<long>(z.size());
  std::vector<double> v(n), f(n), s(n);
  for (Activation a : all_activations()) {
    activation_batch(a, z.data(), n, v.data(), f.data(), s.data());
    for (long i = 0; i < n; ++i) {
      const auto r = activation_values(a, z[i]);
      // Below ~1e-290 (near underflow) only absolute agreement is meaningful.
      auto tol = [](double ref) { return 8 * 2.2e-16 * std::max(std::abs(ref), 1e-290); };
      EXPECT_NEAR(v[i], r.value, tol(r.value)) << to_string(a) << " x=" << z[i];
      EXPECT_NEAR(f[i], r.first, tol(r.first)) << to_string(a) << " x=" << z[i];
      EXPECT_NEAR(s[i], r.second, tol(r.second)) << to_string(a) << " x=" << z[i];
    }
  }
}

// Every length from 1 to 99 (the vector loops' remainders: 8 lanes with AVX-512, 4 with AVX2;
// softplus's pipelined groups of 32 and 16 values, one to six of them and a remainder) at every
// seventh offset into the array gives the scalar values (8 ulps, as above): a lane that read or
// wrote past the remainder would change a value or be caught by the sanitizers. Non-finite
// inputs, also in whole groups: softplus(+inf) = inf, softplus(-inf) = 0, sigmoid(+-inf) = 1, 0,
// and NaN stays NaN.
TEST(Activation, BatchHandlesEveryLengthAndNonFiniteInputs) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> base = {-3.1, 0.2,  17.0,  -0.7, 2.5,  -40.0, 1e-9, 6.0,  -12.5, 0.9,
                                    -2.2, 33.0, -0.01, 4.4,  -5.5, 0.0,   9.9,  -1.3, 0.66,  -8.8};
  std::vector<double> z;
  for (int copy = 0; copy < 6; ++copy)
    for (double x : base) z.push_back(x * (1.0 + 0.1 * copy));
  for (Activation a : {Activation::softplus, Activation::sigmoid, Activation::tanh}) {
    for (long len = 1; len < 100; ++len) {
      for (long off = 0; off + len <= static_cast<long>(z.size()); off += 7) {
        std::vector<double> v(len, -99.0), f(len, -99.0), s(len, -99.0);
        activation_batch(a, z.data() + off, len, v.data(), f.data(), s.data());
        for (long i = 0; i < len; ++i) {
          const auto r = activation_values(a, z[off + i]);
          auto tol = [](double ref) { return 8 * 2.2e-16 * std::max(std::abs(ref), 1e-290); };
          EXPECT_NEAR(v[i], r.value, tol(r.value)) << to_string(a) << " len=" << len;
          EXPECT_NEAR(f[i], r.first, tol(r.first)) << to_string(a) << " len=" << len;
          EXPECT_NEAR(s[i], r.second, tol(r.second)) << to_string(a) << " len=" << len;
        }
      }
    }
  }
  // Nine values, +inf at 0, 4, 8, -inf at 1, 5, NaN at 2, 6, repeated to 72 (whole groups).
  const std::vector<double> nine = {inf,  -inf,         std::nan(""), 1.0, inf,
                                    -inf, std::nan(""), -1.0,         inf};
  std::vector<double> odd;
  for (int copy = 0; copy < 8; ++copy) odd.insert(odd.end(), nine.begin(), nine.end());
  const long n = static_cast<long>(odd.size());
  std::vector<double> v(n), f(n), s(n);
  activation_batch(Activation::softplus, odd.data(), n, v.data(), f.data(), s.data());
  for (long b = 0; b < n; b += 9) {
    for (long i : {0L, 4L, 8L}) {
      EXPECT_EQ(v[b + i], inf) << b + i;
      EXPECT_EQ(f[b + i], 1.0) << b + i;
      EXPECT_EQ(s[b + i], 0.0) << b + i;
    }
    for (long i : {1L, 5L}) {
      EXPECT_EQ(v[b + i], 0.0) << b + i;
      EXPECT_EQ(f[b + i], 0.0) << b + i;
      EXPECT_EQ(s[b + i], 0.0) << b + i;
    }
    for (long i : {2L, 6L})
      EXPECT_TRUE(std::isnan(v[b + i]) && std::isnan(f[b + i]) && std::isnan(s[b + i])) << b + i;
  }
  activation_batch(Activation::sigmoid, odd.data(), n, v.data(), f.data(), s.data());
  for (long b = 0; b < n; b += 9) {
    for (long i : {0L, 4L, 8L}) EXPECT_EQ(v[b + i], 1.0) << b + i;
    for (long i : {1L, 5L}) EXPECT_EQ(v[b + i], 0.0) << b + i;
    for (long i : {2L, 6L}) EXPECT_TRUE(std::isnan(v[b + i])) << b + i;
  }
}

}  // namespace
}  // namespace locus
