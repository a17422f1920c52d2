#include "locus/core/activation.hpp"

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace locus {

namespace {
constexpr double k_sqrt1_2 = 0.70710678118654752440;        // 1/sqrt(2)
constexpr double k_sqrt2_over_pi = 0.79788456080286535588;  // sqrt(2/pi)
constexpr double k_inv_sqrt2pi = 0.39894228040143267794;    // 1/sqrt(2 pi)

double sigmoid(double x) {
  // Two branches so that exp never overflows.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
}  // namespace

std::string_view to_string(Activation a) {
  switch (a) {
    case Activation::identity:
      return "identity";
    case Activation::relu:
      return "relu";
    case Activation::softplus:
      return "softplus";
    case Activation::tanh:
      return "tanh";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::erf:
      return "erf";
    case Activation::gelu:
      return "gelu";
    case Activation::smoolu:
      return "smoolu";
    case Activation::g:
      return "g";
  }
  return "unknown";
}

const std::vector<Activation>& all_activations() {
  static const std::vector<Activation> all = {
      Activation::identity, Activation::relu,    Activation::softplus,
      Activation::tanh,     Activation::sigmoid, Activation::erf,
      Activation::gelu,     Activation::smoolu,  Activation::g};
  return all;
}

Activation parse_activation(std::string_view name) {
  std::string valid;
  for (Activation a : all_activations()) {
    if (to_string(a) == name) return a;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(a));
  }
  throw std::invalid_argument("unknown activation '" + std::string(name) + "' (valid: " + valid +
                              ")");
}

bool is_smooth(Activation a) { return a != Activation::relu; }
bool is_rectified(Activation a) { return a == Activation::relu || a == Activation::smoolu; }

ActivationValues activation_values(Activation a, double x) {
  switch (a) {
    case Activation::identity:
      return {x, 1.0, 0.0};
    case Activation::relu:
      return {x > 0 ? x : 0.0, x > 0 ? 1.0 : 0.0, 0.0};
    // sigma'(x) = e/(1+e)^2 with e = exp(-|x|) instead of s(1-s): no cancellation for large |x|.
    case Activation::softplus: {
      const double e = std::exp(-std::abs(x));
      return {softplus(x), sigmoid(x), e / ((1.0 + e) * (1.0 + e))};
    }
    case Activation::tanh: {
      // 1 - tanh^2 = 4e/(1+e)^2 with e = exp(-2|x|).
      const double t = std::tanh(x);
      const double e = std::exp(-2.0 * std::abs(x));
      const double d = 4.0 * e / ((1.0 + e) * (1.0 + e));
      return {t, d, -2.0 * t * d};
    }
    case Activation::sigmoid: {
      const double s = sigmoid(x);
      const double e = std::exp(-std::abs(x));
      const double d = e / ((1.0 + e) * (1.0 + e));
      return {s, d, d * (1.0 - 2.0 * s)};
    }
    case Activation::erf: {
      // sigma = erf(x/sqrt2), sigma' = sqrt(2/pi) exp(-x^2/2), sigma'' = -x sigma'.
      const double d = k_sqrt2_over_pi * std::exp(-0.5 * x * x);
      return {std::erf(x * k_sqrt1_2), d, -x * d};
    }
    case Activation::gelu: {
      // sigma = x Phi(x), sigma' = Phi + x phi, sigma'' = phi (2 - x^2).
      const double phi = k_inv_sqrt2pi * std::exp(-0.5 * x * x);
      const double cdf = 0.5 * std::erfc(-x * k_sqrt1_2);
      return {x * cdf, cdf + x * phi, phi * (2.0 - x * x)};
    }
    case Activation::smoolu: {
      // sigma = x e^{-1/x}, sigma' = e^{-1/x}(1 + 1/x), sigma'' = e^{-1/x} / x^3 for x > 0.
      // exp(-1/x) is only evaluated for x > 0; once it underflows to 0 (x < ~1/745) every
      // derivative is exactly 0, which also avoids 0 * inf from 1/x^3.
      if (!(x > 0)) return {0.0, 0.0, 0.0};
      const double e = std::exp(-1.0 / x);
      if (e == 0.0) return {0.0, 0.0, 0.0};
      const double r = 1.0 / x;
      return {x * e, e * (1.0 + r), e * r * r * r};
    }
    case Activation::g: {
      // sigmoid(4x) + softplus(x): derivatives 4 s4 (1-s4) + s and 16 s4 (1-s4)(1-2 s4) + s(1-s).
      const double s4 = sigmoid(4.0 * x);
      const double s = sigmoid(x);
      const double e = std::exp(-std::abs(x)), e4 = std::exp(-4.0 * std::abs(x));
      const double d4 = e4 / ((1.0 + e4) * (1.0 + e4));
      const double d = e / ((1.0 + e) * (1.0 + e));
      return {s4 + softplus(x), 4.0 * d4 + s, 16.0 * d4 * (1.0 - 2.0 * s4) + d};
    }
  }
  return {0.0, 0.0, 0.0};
}

double activate(Activation a, double x) { return activation_values(a, x).value; }

}  // namespace locus

namespace locus {

namespace {

// activation_batch on one block of at most k_block values: the temporaries below stay in L1 and
// come from the allocator's small-object lists (one layer-sized temporary would exceed glibc's
// mmap threshold and page-fault on every call).
constexpr long k_block = 512;

void activation_block(Activation a, const double* z_ptr, long n, double* value, double* first,
                      double* second) {
  using A = Eigen::ArrayXd;
  const Eigen::Map<const A> z(z_ptr, n);
  Eigen::Map<A> v(value, n);
  const bool d1 = first != nullptr, d2 = second != nullptr;
  auto set = [&](const A& f, const A& s) {
    if (d1) Eigen::Map<A>(first, n) = f;
    if (d2) Eigen::Map<A>(second, n) = s;
  };
  // sigmoid from e = exp(-|x|) <= 1: s = 1/(1+e) for x >= 0 and e/(1+e) otherwise (no overflow).
  // log1p(e) for e in [0, 1], vectorised: log(u) * e / (u - 1) with u = 1 + e corrects the
  // rounding of 1 + e (Goldberg 1991, Thm 4); u == 1 means e < eps/2 where log1p(e) = e.
  // (Eigen's select() has no SIMD path, so the log is formed before it, not inside it.)
  auto log1p_of = [](const A& e) -> A {
    const A u = 1.0 + e;
    const A log_u = u.log();
    return (u == 1.0).select(e, log_u * e / (u - 1.0));
  };
  auto sigmoid_of = [&](const A& x, const A& e) -> A {
    return (x >= 0).select(A::Ones(x.size()), e) / (1.0 + e);
  };
  switch (a) {
    case Activation::softplus: {
      const A e = (-z.abs()).exp();
      v = z.max(0.0) + log1p_of(e);
      if (d1 || d2) {
        const A s = sigmoid_of(z, e);
        set(s, e / ((1.0 + e) * (1.0 + e)));
      }
      return;
    }
    case Activation::sigmoid: {
      const A e = (-z.abs()).exp();
      const A s = sigmoid_of(z, e);
      v = s;
      if (d1 || d2) {
        const A d = e / ((1.0 + e) * (1.0 + e));
        set(d, d * (1.0 - 2.0 * s));
      }
      return;
    }
    case Activation::g: {
      const A e = (-z.abs()).exp();
      const A e4 = (-4.0 * z.abs()).exp();
      const A s = sigmoid_of(z, e), s4 = sigmoid_of(z, e4);
      v = s4 + z.max(0.0) + log1p_of(e);
      if (d1 || d2) {
        const A q = e4 / ((1.0 + e4) * (1.0 + e4));
        set(4.0 * q + s, 16.0 * q * (1.0 - 2.0 * s4) + e / ((1.0 + e) * (1.0 + e)));
      }
      return;
    }
    case Activation::tanh: {
      // tanh|x| = -u/(u+2) with u = expm1(-2|x|) in (-1, 0]: accurate near 0, no overflow.
      const A u = (-2.0 * z.abs()).expm1();
      const A t = (z < 0).select(u / (u + 2.0), -u / (u + 2.0));
      v = t;
      if (d1 || d2) {
        const A e = (-2.0 * z.abs()).exp();  // not u + 1, which cancels for large |x|
        const A d = 4.0 * e / ((1.0 + e) * (1.0 + e));
        set(d, -2.0 * t * d);
      }
      return;
    }
    case Activation::smoolu: {
      // Lanes with x <= 0 get exponent -inf (exp = 0); exp(-1/x) is never formed for x <= 0.
      const auto pos = z > 0;
      const A zs = pos.select(z, A::Ones(n));
      const A e = pos.select(-1.0 / zs, -std::numeric_limits<double>::infinity()).exp();
      v = pos.select(z * e, 0.0);
      if (d1 || d2) {
        // Once e underflows to 0, use r = 0 so that e * r^3 is 0 rather than 0 * inf.
        const A r = (e > 0).select(1.0 / zs, 0.0);
        set(e * (1.0 + r), e * r * r * r);
      }
      return;
    }
    default:
      // identity, relu, erf, gelu: scalar loop (no vectorised erf for double in Eigen).
      for (long i = 0; i < n; ++i) {
        const ActivationValues r = activation_values(a, z_ptr[i]);
        value[i] = r.value;
        if (d1) first[i] = r.first;
        if (d2) second[i] = r.second;
      }
  }
}

}  // namespace

void activation_batch(Activation a, const double* z, long n, double* value, double* first,
                      double* second) {
  for (long b = 0; b < n; b += k_block) {
    const long m = std::min(k_block, n - b);
    activation_block(a, z + b, m, value + b, first ? first + b : nullptr,
                     second ? second + b : nullptr);
  }
}

}  // namespace locus
