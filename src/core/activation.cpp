#include "locus/activation.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace locus {

namespace {
constexpr double k_sqrt1_2 = 0.70710678118654752440;       // 1/sqrt(2)
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
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::softplus: return "softplus";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
    case Activation::erf: return "erf";
    case Activation::gelu: return "gelu";
    case Activation::smoolu: return "smoolu";
    case Activation::g: return "g";
  }
  return "unknown";
}

const std::vector<Activation>& all_activations() {
  static const std::vector<Activation> all = {
      Activation::identity, Activation::relu,   Activation::softplus,
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
    case Activation::identity: return {x, 1.0, 0.0};
    case Activation::relu: return {x > 0 ? x : 0.0, x > 0 ? 1.0 : 0.0, 0.0};
    case Activation::softplus: {
      const double s = sigmoid(x);
      return {softplus(x), s, s * (1.0 - s)};
    }
    case Activation::tanh: {
      const double t = std::tanh(x);
      const double d = 1.0 - t * t;
      return {t, d, -2.0 * t * d};
    }
    case Activation::sigmoid: {
      const double s = sigmoid(x);
      const double d = s * (1.0 - s);
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
      const double d4 = s4 * (1.0 - s4);
      return {s4 + softplus(x), 4.0 * d4 + s, 16.0 * d4 * (1.0 - 2.0 * s4) + s * (1.0 - s)};
    }
  }
  return {0.0, 0.0, 0.0};
}

double activate(Activation a, double x) { return activation_values(a, x).value; }

}  // namespace locus
