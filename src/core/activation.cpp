#include "locus/core/activation.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "simd.hpp"

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
      // sigma'' = d (1 - 2s) = -d tanh(x/2): 1 - 2s would cancel near x = 0.
      return {s, d, -d * std::tanh(0.5 * x)};
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

// exp(y) = (1 + q) 2^n1 2^n2 for y <= 0, a loop body the compiler vectorises (Eigen's exp for
// double divides, and its one long chain of dependent operations keeps the FMA units idle). With
// y = n ln2 + r, |r| <= ln2/2: q = exp(r) - 1 = r + r^2 G(r), G the degree-9 Chebyshev
// interpolant of (exp(r) - 1 - r)/r^2 on [-1.0001 ln2/2, 1.0001 ln2/2] (mpmath.chebyfit at 200
// bits: error 1.05e-16, times r^2 <= 0.121 below 1.3e-17, 0.12 ulp of exp(r)), evaluated by
// Estrin's scheme (depth 5) with r^2 and r^4: 12 multiplies and multiply-adds, where the Taylor
// polynomial to r^13 that it replaced took 15 for the same accuracy (max error over 4e6 points
// against long double: 1.08 ulp, before 1.39). Without the leading 1, q keeps full relative
// accuracy for tiny r (expm1). Then 2^n as two factors 2^n1 2^n2 (n1, n2 >= -538, both normal),
// so that results below 2^-1022 round once into the subnormals as exp's do. ln2_hi has 11
// trailing zero bits, so n ln2_hi is exact for |n| < 2^11 and r carries no cancellation error.
// y < -745.2 (including -inf) gives 0.
constexpr double k_exp_g[10] = {0x1.0000000000001p-1,  0x1.5555555555556p-3,  0x1.5555555553d63p-5,
                                0x1.11111111109b3p-7,  0x1.6c16c1788bd90p-10, 0x1.a01a01a7c41d5p-13,
                                0x1.a019b90d2ae7ap-16, 0x1.71de0dae63bb3p-19, 0x1.289185613a3d6p-22,
                                0x1.af38a9b0ec855p-26};
struct ExpParts {
  double q, scale1, scale2;
};
inline ExpParts exp_parts(double y) {
  constexpr double shifter = 0x1.8p52;  // adding it rounds |v| < 2^51 to an integer
  constexpr double log2e = 1.4426950408889634074;
  constexpr double ln2_hi = 0x1.62e42fefa3800p-1, ln2_lo = 0x1.ef35793c76730p-45;
  y = std::max(y, -745.2);
  const double n = (y * log2e + shifter) - shifter;
  const double r = (y - n * ln2_hi) - n * ln2_lo;
  const double r2 = r * r, r4 = r2 * r2;
  const auto pair = [&](int k) { return k_exp_g[k] + r * k_exp_g[k + 1]; };
  const double g = (pair(0) + r2 * pair(2)) + r4 * ((pair(4) + r2 * pair(6)) + r4 * pair(8));
  const double q = r + r2 * g;
  // 2^k for an integer-valued k in [-1022, 1023]: the exponent field k + 1023, built from the low
  // bits of k + shifter.
  constexpr int64_t shifter_bits = std::bit_cast<int64_t>(shifter);
  auto pow2 = [](double k) {
    return std::bit_cast<double>((std::bit_cast<int64_t>(k + shifter) - shifter_bits + 1023) << 52);
  };
  const double n1 = (0.5 * n + shifter) - shifter;
  return {q, pow2(n1), pow2(n - n1)};
}
// exp(y) from its parts: about 1 ulp (the product (1 + q) 2^n1 is exact, the last factor rounds).
inline double exp_value(const ExpParts& p) { return (1.0 + p.q) * p.scale1 * p.scale2; }
inline double exp_nonpositive(double y) { return exp_value(exp_parts(y)); }

// e[i] = exp(y[i]) for y[i] <= 0 (exp_nonpositive), in a loop of its own so that many
// independent exponentials overlap. y and e must not overlap (an aliasing check would send the
// loop to its scalar version).
#if defined(__AVX512F__)
// With AVX-512, a table-driven version 1.7x faster than the loop below: y = (k/16) ln2 + r with
// k = round(16 y/ln2), |r| <= ln2/32; exp(y) = 2^floor(k/16) 2^(j/16) (1 + q) with j = k mod 16.
// 2^(j/16) = T_hi[j] + T_lo[j] (to 2^-106, mpmath) is looked up by vpermt2pd (the table lives in
// four registers, no memory gather) from the low four bits of k + 1.5 2^52; q = r + r^2 G(r)
// with G the degree-4 Chebyshev interpolant of (exp(r) - 1 - r)/r^2 on [-ln2/32, ln2/32]
// (mpmath.chebyfit at 120 bits; error times r^2 below 3e-17); vscalefpd applies 2^floor(k/16)
// with a single rounding into the subnormals. ln2/16 = L_hi + L_lo: the FMA forms y - k L_hi
// with one rounding, a relative 2^-53 of r. y < -746 (and -inf) is clamped to -746, whose
// exponential rounds to 0; NaN stays NaN. About 1 ulp, like the loop below.
// NegAbs: y[i] is replaced by -|y[i]| (softplus's argument), one pass fewer over memory.
template <bool NegAbs>
[[gnu::noinline]] void exp_loop(const double* __restrict y, double* __restrict e, long n) {
  // clang-format off
  alignas(64) static constexpr double t_hi[16] = {
      0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
      0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
      0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
      0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
  alignas(64) static constexpr double t_lo[16] = {
      0x0.0p+0,               0x1.8a62e4adc610bp-54, -0x1.19041b9d78a76p-55,  0x1.9b07eb6c70573p-54,
      0x1.6f46ad23182e4p-55,  0x1.ada0911f09ebcp-55,  0x1.d4397afec42e2p-56,  0x1.6324c054647adp-54,
     -0x1.bdd3413b26456p-54, -0x1.41577ee04992fp-55,  0x1.6e9f156864b27p-54,  0x1.c7c46b071f2bep-56,
      0x1.7a1cd345dcc81p-54,  0x1.11065895048ddp-55,  0x1.2ed02d75b3707p-55, -0x1.e9c23179c2893p-54};
  // clang-format on
  constexpr double g[5] = {0x1.0000000000000p-1, 0x1.55555554dd44dp-3, 0x1.55555555194d2p-5,
                           0x1.11120af701debp-7, 0x1.6c17bb51f236dp-10};
  const __m512d hi0 = _mm512_load_pd(t_hi), hi1 = _mm512_load_pd(t_hi + 8);
  const __m512d lo0 = _mm512_load_pd(t_lo), lo1 = _mm512_load_pd(t_lo + 8);
  const __m512d shifter = _mm512_set1_pd(0x1.8p52),
                sixteen_over_ln2 = _mm512_set1_pd(0x1.71547652b82fep+4);
  const __m512d l_hi = _mm512_set1_pd(0x1.62e42fefa39efp-5),
                l_lo = _mm512_set1_pd(0x1.abc9e3b39803fp-60);
  auto exp8 = [&](__m512d t) {
    if constexpr (NegAbs) t = _mm512_or_pd(t, _mm512_set1_pd(-0.0));  // the sign bit set
    t = _mm512_max_pd(_mm512_set1_pd(-746.0), t);  // the second operand when either is NaN
    const __m512d kb = _mm512_fmadd_pd(t, sixteen_over_ln2, shifter);
    const __m512d k = _mm512_sub_pd(kb, shifter);
    const __m512d r = _mm512_fnmadd_pd(k, l_lo, _mm512_fnmadd_pd(k, l_hi, t));
    const __m512i j = _mm512_castpd_si512(kb);
    const __m512d th = _mm512_permutex2var_pd(hi0, j, hi1),
                  tl = _mm512_permutex2var_pd(lo0, j, lo1);
    __m512d p = _mm512_set1_pd(g[4]);
    for (int c = 3; c >= 0; --c) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(g[c]));
    const __m512d q = _mm512_fmadd_pd(_mm512_mul_pd(r, r), p, r);
    const __m512d v = _mm512_add_pd(th, _mm512_fmadd_pd(th, q, tl));
    return _mm512_scalef_pd(v, _mm512_mul_pd(k, _mm512_set1_pd(0.0625)));
  };
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm512_storeu_pd(e + i, exp8(_mm512_loadu_pd(y + i)));
  if (i < n) {
    const __mmask8 m = static_cast<__mmask8>((1u << (n - i)) - 1);
    _mm512_mask_storeu_pd(e + i, m, exp8(_mm512_maskz_loadu_pd(m, y + i)));
  }
}
#elif defined(__AVX2__) && defined(__FMA__)
// With AVX2 (no vpermt2pd to hold a table in registers, no vscalefpd): exp_parts's arithmetic by
// hand, with 2^n as one factor, two integer operations on the bits of y log2e + 1.5 2^52, when
// every lane has y >= -708 (then n >= -1021 and (1 + q) 2^n is normal: n is added to the exponent
// field of 1 + q, the same bits as exp_parts's two factors, one multiply fewer); a vector with a
// lane below -708 (or -inf) is clamped at -745.2 and scaled by the two factors. NaN stays NaN. The
// clamp is left out of the common vectors: on Zen 5 the loop is bound by its multiplies, compares
// and max, which share two of the four floating-point pipes. GCC 12 made 44 instructions per vector
// of exp_parts's loop (it reloads constants: AVX2 has 16 vector registers); softplus with its
// derivatives 6.6 -> 6.2 cycles per value on Zen 5 (x86-64-v3 build), and the degree-9 G of
// exp_parts 13.0 -> 10.9 cycles per vector of exponentials. Tails go through the same code with
// masked loads and stores.
template <bool NegAbs>
[[gnu::noinline]] void exp_loop(const double* __restrict y, double* __restrict e, long n) {
  const __m256d shifter = _mm256_set1_pd(0x1.8p52);
  const __m256i exponent_bias = _mm256_set1_epi64x(1023 - std::bit_cast<int64_t>(0x1.8p52));
  // 2^k from kb = k + shifter (k an integer in [-1022, 1023]): the exponent field k + 1023.
  const auto pow2 = [&](__m256d kb) {
    return _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(kb), exponent_bias), 52));
  };
  const auto c = [](double v) { return _mm256_set1_pd(v); };
  // 1 + q = exp(r) and kb = n + shifter for t >= -745.2 or NaN.
  const auto reduce = [&](__m256d t, __m256d& kb) {
    kb = _mm256_fmadd_pd(t, c(1.4426950408889634074), shifter);
    const __m256d k = _mm256_sub_pd(kb, shifter);
    const __m256d r = _mm256_fnmadd_pd(k, c(0x1.ef35793c76730p-45),
                                       _mm256_fnmadd_pd(k, c(0x1.62e42fefa3800p-1), t));
    const __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2);
    const auto pair = [&](int j) { return _mm256_fmadd_pd(r, c(k_exp_g[j + 1]), c(k_exp_g[j])); };
    const __m256d g =
        _mm256_fmadd_pd(r4, _mm256_fmadd_pd(r4, pair(8), _mm256_fmadd_pd(r2, pair(6), pair(4))),
                        _mm256_fmadd_pd(r2, pair(2), pair(0)));
    return _mm256_add_pd(c(1.0), _mm256_fmadd_pd(r2, g, r));
  };
  const auto exp4 = [&](__m256d t) {
    if constexpr (NegAbs) t = _mm256_or_pd(t, c(-0.0));  // the sign bit set
    __m256d kb;
    if (_mm256_movemask_pd(_mm256_cmp_pd(t, c(-708.0), _CMP_LT_OQ)) == 0) {
      // (1 + q) 2^n, normal: n added to the exponent field of 1 + q. The low bits of kb are
      // 2^51 + n, so kb's bits shifted left by 52 are n 2^52 modulo 2^64 (also for n < 0).
      const __m256i one_q = _mm256_castpd_si256(reduce(t, kb));
      return _mm256_castsi256_pd(
          _mm256_add_epi64(one_q, _mm256_slli_epi64(_mm256_castpd_si256(kb), 52)));
    }
    t = _mm256_max_pd(c(-745.2), t);  // the second operand when it is NaN
    const __m256d one_q = reduce(t, kb);
    const __m256d k = _mm256_sub_pd(kb, shifter);
    const __m256d n1b = _mm256_fmadd_pd(k, c(0.5), shifter);  // round(k/2) + shifter
    const __m256d n2b = _mm256_add_pd(_mm256_sub_pd(k, _mm256_sub_pd(n1b, shifter)), shifter);
    return _mm256_mul_pd(_mm256_mul_pd(one_q, pow2(n1b)), pow2(n2b));
  };
  long i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(e + i, exp4(_mm256_loadu_pd(y + i)));
  if (i < n) {
    const __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n - i), _mm256_setr_epi64x(0, 1, 2, 3));
    _mm256_maskstore_pd(e + i, m, exp4(_mm256_maskload_pd(y + i, m)));
  }
}
#else
template <bool NegAbs>
[[gnu::noinline]] void exp_loop(const double* __restrict y, double* __restrict e, long n) {
  for (long i = 0; i < n; ++i) e[i] = exp_nonpositive(NegAbs ? -std::abs(y[i]) : y[i]);
}
#endif
void exp_nonpositive(const double* __restrict y, double* __restrict e, long n) {
  exp_loop<false>(y, e, n);
}
// e[i] = exp(-|z[i]|).
void exp_minus_abs(const double* __restrict z, double* __restrict e, long n) {
  exp_loop<true>(z, e, n);
}

// The same, with m[i] = expm1(y[i]) = 2^n q + (2^n - 1): q exactly for n = 0 (|y| <= ln2/2, where
// exp(y) - 1 would cancel), and for n <= -1 a sum whose terms are at most 0.7 of |m| (2^n - 1 is
// exact for n >= -53 and -1 below). A few ulps.
[[gnu::noinline]] void expm1_nonpositive(const double* __restrict y, double* __restrict e,
                                         double* __restrict m, long n) {
  for (long i = 0; i < n; ++i) {
    const ExpParts p = exp_parts(y[i]);
    const double scale = p.scale1 * p.scale2;  // 2^n: exact (a subnormal or 0 below 2^-1022)
    e[i] = exp_value(p);
    m[i] = scale * p.q + (scale - 1.0);
  }
}

// log(1 + t) for t in [0, 1] (softplus's log(1 + exp(-|x|))) from s = t/(2 + t) in [0, 1/3]:
// log(1 + t) = 2 atanh(s) = 2 s (1 + u P(u)) with u = s^2 in [0, 1/9] and
// P(u) = sum_k u^k/(2k + 3) = (atanh(s)/s - 1)/u. P is replaced by its degree-9 Chebyshev
// interpolant on [0, 1/9] (mpmath at 120 bits: mpmath.chebyfit(P, [0, 1/9], 10)), whose error
// 4.5e-17 times u <= 1/9 is 5e-18 of the result, below 2^-57; the Taylor series needs 16 terms
// for the same ((1/9)^16/35 < 2^-54). Horner's scheme: the lanes are independent, so the chain's
// latency overlaps across the loop. Taking s = t/(2 + t) (one correctly rounded division) leaves <
// 2 ulps.
constexpr double k_log1p_p[10] = {0x1.5555555555555p-2, 0x1.999999999a3ddp-3, 0x1.24924923d44c6p-3,
                                  0x1.c71c727143318p-4, 0x1.745cf0b0e03bdp-4, 0x1.3b18b294bebf9p-4,
                                  0x1.10ac75dc602b1p-4, 0x1.eb905e8575054p-5, 0x1.687a6e7c95176p-5,
                                  0x1.4b0a26c5f2aefp-4};
inline double log1p_from_s(double s) {
  const double u = s * s;
  double p = k_log1p_p[9];
  for (int k = 8; k >= 0; --k) p = p * u + k_log1p_p[k];
  const double s2 = 2.0 * s;
  return s2 + (s2 * u) * p;
}

// out[i] = log(1 + t[i]) for t[i] in [0, 1] (log1p_from_s), a loop of its own (see
// exp_nonpositive).
[[gnu::noinline]] void log1p_unit(const double* __restrict t, double* __restrict out, long n) {
  for (long i = 0; i < n; ++i) out[i] = log1p_from_s(t[i] / (2.0 + t[i]));
}

#if LOCUS_SIMD
// softplus_block's second loop with its derivatives on the first n - n mod (4 w) values (returns
// how many), the same operations in the same order as its scalar form, so the same bits:
// software-pipelined, the two divisions of each group of four vectors issued while the
// polynomials of the group before run. Left to the out-of-order core, each vector's nine
// dependent FMAs wait for its division and fill the scheduler, and the divider idles: on Zen 5
// (512 values, best of 400 runs of 100) 3.50-3.58 -> 2.96-2.98 ns per vector of 4 with AVX2 and
// 3.57-3.61 -> 3.03-3.05 ns per vector of 8 with AVX-512. Two divisions per vector take 2.46 ns
// of the divider with either width. e r is formed once, for sigma' (x < 0) and sigma'' = (e r) r:
// one multiplication per value fewer than sigma' as a blend of 1 and e times r (a one-thread
// [10,64,1] HVP, medians in one process alternating: 60.07 -> 59.52 us x86-64-v3, 38.86 -> 38.73
// native; the same bits).
long softplus_pipelined(const double* __restrict z, const double* __restrict e, long n,
                        double* __restrict value, double* __restrict first,
                        double* __restrict second) {
  using S = detail::Simd;
  using V = S::V;
  constexpr long depth = 4, group = depth * S::w;
  if (n < group) return 0;
  V s[depth], r[depth];
  const auto divide = [&](long i, V& si, V& ri) {
    const V t = S::load(e + i);
    si = S::div(t, S::add(S::broadcast(2.0), t));
    ri = S::div(S::broadcast(1.0), S::add(S::broadcast(1.0), t));
  };
  for (long d = 0; d < depth; ++d) divide(d * S::w, s[d], r[d]);
  long i = 0;
  for (; i + group <= n; i += group) {
    const bool next = i + 2 * group <= n;
    for (long d = 0; d < depth; ++d) {
      const long k = i + d * S::w;
      const V sk = s[d], rk = r[d];
      if (next) divide(k + group, s[d], r[d]);
      const V u = S::mul(sk, sk);
      V p = S::broadcast(k_log1p_p[9]);
      for (int j = 8; j >= 0; --j) p = S::fma(p, u, S::broadcast(k_log1p_p[j]));
      const V s2 = S::add(sk, sk);
      const V x = S::load(z + k), t = S::load(e + k);
      S::store(value + k,
               S::add(S::if_nonnegative(x, x, S::broadcast(0.0)), S::fma(S::mul(s2, u), p, s2)));
      const V er = S::mul(t, rk);  // e r: sigma' for x < 0, and sigma'' = (e r) r
      S::store(first + k, S::if_nonnegative(x, rk, er));
      S::store(second + k, S::mul(er, rk));
    }
  }
  return i;
}
#else
long softplus_pipelined(const double*, const double*, long, double*, double*, double*) {
  return 0;  // the scalar loop, left to the compiler, does all
}
#endif

// Softplus on n values (one block): sigma = max(x, 0) + log(1 + e), sigma' = sigmoid(x),
// sigma'' = e/(1 + e)^2 with e = exp(-|x|) in (0, 1] (never overflows, no cancellation). Two
// correctly rounded divisions, s = e/(2 + e) and r = 1/(1 + e): the divider runs beside the
// multiply pipes, which bound this loop (one shared division 1/((1 + e)(2 + e)) took three
// multiplications more: softplus with its derivatives 12.4 -> 11.5 us on 16384 values with
// AVX-512 on Zen 5, 27.8 -> 26.6 us with AVX2). One comparison x >= 0 serves max(x, 0) and
// sigmoid's branch (NaN: e is NaN, so all three results stay NaN). A few ulps. With the
// derivatives, whole groups of four vectors go through softplus_pipelined (the same bits).
// e is scratch of n values. Derivatives is a template parameter: a null test inside the loop
// would turn every store into a masked one. Not inlined: inlined into activation_block, GCC 12
// sometimes left its second loop scalar (3x slower).
template <bool Derivatives>
[[gnu::noinline]] void softplus_block(const double* __restrict z, long n, double* __restrict e,
                                      double* __restrict value, double* __restrict first,
                                      double* __restrict second) {
  exp_minus_abs(z, e, n);
  const auto one = [&](long i) {
    const double x = z[i], ei = e[i];
    const bool nonnegative = x >= 0;
    value[i] = (nonnegative ? x : 0.0) + log1p_from_s(ei / (2.0 + ei));
    if constexpr (Derivatives) {
      const double r = 1.0 / (1.0 + ei);
      first[i] = nonnegative ? r : ei * r;
      second[i] = ei * r * r;
    }
  };
  const long done = Derivatives ? softplus_pipelined(z, e, n, value, first, second) : 0;
  for (long i = done; i < n; ++i) one(i);
}

// activation_batch on one block of at most k_block values. The temporaries are arrays of at most
// k_block entries on the stack (Eigen's fixed maximum size): no allocation per block, and they
// stay in L1.
constexpr long k_block = 512;

void activation_block(Activation a, const double* z_ptr, long n, double* value, double* first,
                      double* second) {
  using A = Eigen::Array<double, Eigen::Dynamic, 1, Eigen::ColMajor, k_block, 1>;
  using In = Eigen::Map<const Eigen::ArrayXd>;
  using Out = Eigen::Map<Eigen::ArrayXd>;
  const In z(z_ptr, n);
  Out v(value, n);
  const bool d1 = first != nullptr, d2 = second != nullptr;
  // With e = exp(-|x|) in [0, 1] and r = 1/(1 + e) (one division):
  //   sigmoid(x)  = r for x >= 0, e r otherwise (no overflow, no cancellation);
  //   sigmoid'(x) = e r^2 (not s(1 - s), which cancels for large |x|).
  auto sigmoid_of = [](const In& x, const A& e, const A& r) -> A {
    return (x >= 0).select(A::Ones(x.size()), e) * r;
  };
  // exp(y) for y <= 0 (exp_nonpositive).
  auto exp_of = [](const A& y) -> A {
    A e(y.size());
    exp_nonpositive(y.data(), e.data(), y.size());
    return e;
  };
  // log(1 + e) for e in [0, 1].
  auto log1p_of = [](const A& e) -> A {
    A l(e.size());
    log1p_unit(e.data(), l.data(), e.size());
    return l;
  };
  // exp(y) and expm1(y) for y <= 0 (expm1_nonpositive).
  auto exp_expm1_of = [](const A& y, A& e, A& m) {
    e.resize(y.size());
    m.resize(y.size());
    expm1_nonpositive(y.data(), e.data(), m.data(), y.size());
  };
  auto set = [&](const A& f, const A& s) {
    if (d1) Out(first, n) = f;
    if (d2) Out(second, n) = s;
  };
  switch (a) {
    case Activation::softplus: {
      double e[k_block], f[k_block], g[k_block];
      if (d1 || d2)
        softplus_block<true>(z_ptr, n, e, value, d1 ? first : f, d2 ? second : g);
      else
        softplus_block<false>(z_ptr, n, e, value, nullptr, nullptr);
      return;
    }
    case Activation::sigmoid: {
      // sigma'' = d (1 - 2s) = d sign(x) m/(m + 2) with m = expm1(-|x|) (1 - 2s itself cancels
      // near x = 0): m as in tanh below.
      A e, m;
      exp_expm1_of(-z.abs(), e, m);
      const A r = (1.0 + e).inverse();
      v = sigmoid_of(z, e, r);
      if (d1 || d2) {
        const A d = e * r * r;
        const A h = m / (m + 2.0);
        set(d, d * (z >= 0).select(h, -h));
      }
      return;
    }
    case Activation::g: {
      const A e = exp_of(-z.abs());
      const A e4 = exp_of(-4.0 * z.abs());
      const A r = (1.0 + e).inverse(), r4 = (1.0 + e4).inverse();
      const A s4 = (z >= 0).select(A::Ones(n), e4) / (1.0 + e4);  // divided: see sigmoid
      v = s4 + z.max(0.0) + log1p_of(e);
      if (d1 || d2) {
        const A q = e4 * r4 * r4;
        set(4.0 * q + sigmoid_of(z, e, r), 16.0 * q * (1.0 - 2.0 * s4) + e * r * r);
      }
      return;
    }
    case Activation::tanh: {
      // tanh|x| = -m/(m+2) with m = expm1(y), y = -2|x|, in (-1, 0]: accurate near 0, no
      // overflow.
      A e, m;
      exp_expm1_of(-2.0 * z.abs(), e, m);
      const A t = m / (m + 2.0);
      v = (z < 0).select(t, -t);
      if (d1 || d2) {
        // 1 - tanh^2 = 4e/(1+e)^2 (not from t, which cancels for large |x|).
        const A r = (1.0 + e).inverse();
        const A d = 4.0 * e * r * r;
        set(d, -2.0 * v * d);
      }
      return;
    }
    case Activation::smoolu: {
      // Lanes with x <= 0 get exponent -inf (exp = 0); exp(-1/x) is never formed for x <= 0.
      const auto pos = z > 0;
      const A zs = pos.select(z, A::Ones(n));
      const A e = exp_of(pos.select(-1.0 / zs, -std::numeric_limits<double>::infinity()));
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
