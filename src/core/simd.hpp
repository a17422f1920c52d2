#pragma once
// locus's SIMD vector type (private to locus), for the hand-written loops of core/gemm.cpp and
// core/activation.cpp: detail::Simd with AVX-512, or with AVX2 and FMA; LOCUS_SIMD says whether
// the build has one (0: those loops fall back to Eigen, BLAS or plain C++).

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>

#include <Eigen/Core>
#define LOCUS_SIMD 1
#else
#define LOCUS_SIMD 0
#endif

#if LOCUS_SIMD
namespace locus::detail {

// A vector of w doubles, masks of its first lanes, arithmetic, a lane-wise choice and the
// transpose of a w x w block. AVX2: masks are vectors of 64-bit lanes (all ones = on).
#if !defined(__AVX512F__)
struct Simd {
  using V = __m256d;
  using M = __m256i;
  static constexpr Eigen::Index w = 4;
  static M first(Eigen::Index count) {  // lanes [0, count)
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static V load(M m, const double* p) { return _mm256_maskload_pd(p, m); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static void store(M m, double* p, V v) { _mm256_maskstore_pd(p, m, v); }
  static V broadcast(double x) { return _mm256_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V div(V a, V b) { return _mm256_div_pd(a, b); }
  // x >= 0 ? a : b, lane by lane (b where x is NaN).
  static V if_nonnegative(V x, V a, V b) {
    return _mm256_blendv_pd(b, a, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ));
  }
  static void transpose(V r[4]) {
    const V t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const V t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
};
#else
struct Simd {
  using V = __m512d;
  using M = __mmask8;
  static constexpr Eigen::Index w = 8;
  static M first(Eigen::Index count) {  // lanes [0, count)
    return count >= 8 ? M(0xFF) : count <= 0 ? M(0) : static_cast<M>((1u << count) - 1u);
  }
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static V load(M m, const double* p) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static void store(M m, double* p, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static V broadcast(double x) { return _mm512_set1_pd(x); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V div(V a, V b) { return _mm512_div_pd(a, b); }
  static V if_nonnegative(V x, V a, V b) {
    return _mm512_mask_mov_pd(b, _mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GE_OQ), a);
  }
  // t[p][i] = r[i][p]: unpack pairs of rows, then two rounds of 128-bit lane shuffles (0x88 takes
  // lanes 0 and 2 of each operand, 0xDD lanes 1 and 3). The zero-masked forms with every lane on
  // compile to the same unmasked instructions; the plain ones pass _mm512_undefined_pd() through,
  // which GCC 12 reports as "used uninitialized" once inlined here (GCC bug 105593).
  static V unpack_lo(V a, V b) { return _mm512_maskz_unpacklo_pd(0xFF, a, b); }
  static V unpack_hi(V a, V b) { return _mm512_maskz_unpackhi_pd(0xFF, a, b); }
  template <int Lanes>
  static V shuffle(V a, V b) {
    return _mm512_maskz_shuffle_f64x2(0xFF, a, b, Lanes);
  }
  static void transpose(V r[8]) {
    V even[4], odd[4];
    for (int i = 0; i < 4; ++i) {
      even[i] = unpack_lo(r[2 * i], r[2 * i + 1]);
      odd[i] = unpack_hi(r[2 * i], r[2 * i + 1]);
    }
    const V* halves[2] = {even, odd};
    for (int h = 0; h < 2; ++h) {
      const V* x = halves[h];
      const V b0 = shuffle<0x88>(x[0], x[1]), b1 = shuffle<0xDD>(x[0], x[1]);
      const V c0 = shuffle<0x88>(x[2], x[3]), c1 = shuffle<0xDD>(x[2], x[3]);
      r[h + 0] = shuffle<0x88>(b0, c0);
      r[h + 4] = shuffle<0xDD>(b0, c0);
      r[h + 2] = shuffle<0x88>(b1, c1);
      r[h + 6] = shuffle<0xDD>(b1, c1);
    }
  }
};
#endif

}  // namespace locus::detail
#endif
