#include "DiscernKernels.h"

#include <math.h>
#include <string.h>

// One head's attention for one message: softmax(scale · Q·Kᵀ) · V over its n tokens.
//
// The BLAS path is what the encoder always ran: two cblas_sgemm calls and a softmax, n × n scores
// in memory. At these sizes (n ≤ 128, d = 32) OpenBLAS spends much of each call packing, so the
// AVX-512 path does the head in one pass of its own: K transposed once into a d × n panel, then
// eight query rows at a time their scores (eight FMA chains), their softmax, and their context
// (eight FMA chains over V's rows), all of it in L1. The softmax's normalisation is applied to the
// d outputs rather than to the n probabilities.

#include "vector_math.h"

enum { QUERY_ROWS = 8 };

static int padded(int n) { return (n + 15) & ~15; }

size_t dk_attention_scratch_floats(int n, int d) {
  size_t avx512 = (size_t)padded(n) * (size_t)(d + QUERY_ROWS);
  size_t blas = (size_t)n * (size_t)n;
  return avx512 > blas ? avx512 : blas;
}

static void attention_blas(const float *q, const float *k, const float *v, int ld, int n, int d, float scale,
                           float *scratch, float *out, int ldo) {
  dk_sgemm(1, n, n, d, scale, q, ld, k, ld, 0, scratch, n);
  dk_softmax_rows(scratch, n, n);
  dk_sgemm(0, n, d, n, 1, scratch, n, v, ld, 0, out, ldo);
}

#if DK_X86
// Scores, softmax and context for query rows [i0, i0 + R). R is a constant at each call site, so
// the loops over rows unroll and the accumulators stay in registers.
DK_512 __attribute__((always_inline)) static inline void rows_avx512(const int R, const float *q, const float *v,
                                                                      int ld, int n, int d, float scale,
                                                                      const float *kt, float *p, float *out,
                                                                      int ldo) {
  int npad = padded(n);
  const __m512 scaled = _mm512_set1_ps(scale);
  for (int j0 = 0; j0 < npad; j0 += 16) {
    __m512 acc[QUERY_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int t = 0; t < d; t++) {
      __m512 keys = _mm512_loadu_ps(kt + (size_t)t * npad + j0);
      for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[(size_t)r * ld + t]), keys, acc[r]);
    }
    for (int r = 0; r < R; r++) _mm512_storeu_ps(p + (size_t)r * npad + j0, _mm512_mul_ps(acc[r], scaled));
  }
  // Each row's exponentials, with the padding columns at 0 so they add nothing below.
  float inverse[QUERY_ROWS];
  for (int r = 0; r < R; r++) {
    float *row = p + (size_t)r * npad;
    __m512 top = _mm512_set1_ps(-INFINITY);
    for (int j0 = 0; j0 < npad; j0 += 16) {
      __mmask16 live = n - j0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j0)) - 1);
      top = _mm512_mask_max_ps(top, live, top, _mm512_loadu_ps(row + j0));
    }
    __m512 largest = _mm512_set1_ps(_mm512_reduce_max_ps(top));
    __m512 sum = _mm512_setzero_ps();
    for (int j0 = 0; j0 < npad; j0 += 16) {
      __mmask16 live = n - j0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j0)) - 1);
      __m512 e = _mm512_maskz_mov_ps(live, dk_exp16(_mm512_sub_ps(_mm512_loadu_ps(row + j0), largest)));
      _mm512_storeu_ps(row + j0, e);
      sum = _mm512_add_ps(sum, e);
    }
    inverse[r] = 1.0f / _mm512_reduce_add_ps(sum);
  }
  for (int c0 = 0; c0 < d; c0 += 16) {
    __m512 acc[QUERY_ROWS];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int j = 0; j < n; j++) {
      __m512 values = _mm512_loadu_ps(v + (size_t)j * ld + c0);
      for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(p[(size_t)r * npad + j]), values, acc[r]);
    }
    for (int r = 0; r < R; r++)
      _mm512_storeu_ps(out + (size_t)r * ldo + c0, _mm512_mul_ps(acc[r], _mm512_set1_ps(inverse[r])));
  }
}

// r[i][j] becomes r[j][i]: pairs, then quadruples, then 128-bit quarters exchanged.
DK_512 __attribute__((always_inline)) static inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    __m512d c = _mm512_castps_pd(t[4 * i + 2]), e = _mm512_castps_pd(t[4 * i + 3]);
    r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, e));
    r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, e));
  }
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

DK_512 static void attention_avx512(const float *q, const float *k, const float *v, int ld, int n, int d, float scale,
                                    float *scratch, float *out, int ldo) {
  int npad = padded(n);
  float *kt = scratch, *p = scratch + (size_t)d * npad;
  // K transposed 16 × 16 at a time in registers (element by element it was a tenth of the head's
  // time at tweet lengths); the padding keys are zero.
  for (int j0 = 0; j0 < npad; j0 += 16)
    for (int t0 = 0; t0 < d; t0 += 16) {
      __m512 block[16];
      for (int j = 0; j < 16; j++)
        block[j] = j0 + j < n ? _mm512_loadu_ps(k + (size_t)(j0 + j) * ld + t0) : _mm512_setzero_ps();
      transpose16(block);
      for (int t = 0; t < 16; t++) _mm512_storeu_ps(kt + (size_t)(t0 + t) * npad + j0, block[t]);
    }
  for (int i0 = 0; i0 < n; i0 += QUERY_ROWS) {
    const float *qi = q + (size_t)i0 * ld;
    float *oi = out + (size_t)i0 * ldo;
    switch (n - i0 < QUERY_ROWS ? n - i0 : QUERY_ROWS) {
    case 8: rows_avx512(8, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 7: rows_avx512(7, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 6: rows_avx512(6, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 5: rows_avx512(5, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 4: rows_avx512(4, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 3: rows_avx512(3, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    case 2: rows_avx512(2, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    default: rows_avx512(1, qi, v, ld, n, d, scale, kt, p, oi, ldo); break;
    }
  }
}
#endif

dk_attention_path dk_attention_best_path(int d) {
  return dk_has_avx512() && d % 16 == 0 ? DK_ATTENTION_AVX512 : DK_ATTENTION_BLAS;
}

int dk_attention_head_on(dk_attention_path path, const float *q, const float *k, const float *v, int ld, int n, int d,
                         float scale, float *scratch, float *out, int ldo) {
  if (n <= 0) return 1;
  switch (path) {
  case DK_ATTENTION_AVX512:
#if DK_X86
    if (!dk_has_avx512() || d % 16 != 0) return 0;
    attention_avx512(q, k, v, ld, n, d, scale, scratch, out, ldo);
    return 1;
#else
    return 0;
#endif
  case DK_ATTENTION_BLAS:
    attention_blas(q, k, v, ld, n, d, scale, scratch, out, ldo);
    return 1;
  }
  return 0;
}

void dk_attention_head(const float *q, const float *k, const float *v, int ld, int n, int d, float scale,
                       float *scratch, float *out, int ldo) {
  dk_attention_head_on(dk_attention_best_path(d), q, k, v, ld, n, d, scale, scratch, out, ldo);
}
