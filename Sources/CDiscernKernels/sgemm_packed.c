// The fp32 linear layers' product against weights packed once at load.
//
// cblas_sgemm packs both operands on every call. For a message's few dozen token rows against a
// 384 × 1536 weight matrix, repacking the weights cost as much as multiplying (37% of fp32 encoder
// time in OpenBLAS's sgemm_itcopy, 50% in its kernel, at 32 tokens). Here the weights are laid out
// once, in panels of 16 output columns with each input's 16 weights side by side, so the kernel
// streams them as they lie: per input, one or two vector loads of weights and a broadcast of each
// row's activation into FMAs on register accumulators.
//
// Three paths compute the same sums in the same order (per output, over inputs in order, starting
// from the bias): AVX-512 (8 rows × 32 columns per tile), AVX2 + FMA (4 rows × 16 columns) and
// portable C. Fused multiply-adds round once where the portable path may round twice, so results
// agree to float rounding, not bit for bit.

#include "DiscernKernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DK_X86 1
#else
#define DK_X86 0
#endif

enum { PANEL = 16 };

size_t dk_packed_sgemm_floats(int outputs, int inputs) {
  return (size_t)((outputs + PANEL - 1) / PANEL) * PANEL * (size_t)inputs;
}

void dk_pack_sgemm_weights(const float *weights, int outputs, int inputs, float *packed) {
  int panels = (outputs + PANEL - 1) / PANEL;
  for (int p = 0; p < panels; p++) {
    float *panel = packed + (size_t)p * PANEL * inputs;
    for (int k = 0; k < inputs; k++) {
      for (int j = 0; j < PANEL; j++) {
        int o = p * PANEL + j;
        panel[(size_t)k * PANEL + j] = o < outputs ? weights[(size_t)o * inputs + k] : 0;
      }
    }
  }
}

int dk_has_avx512(void) {
#if DK_X86
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    // DQ too: the AVX-512 paths' float masks (andnot, and, or on zmm) are DQ instructions.
    cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && dk_has_avx2();
  }
  return cached;
#else
  return 0;
#endif
}

static void dk_sgemm_packed_portable(const float *x, int rows, int inputs, const float *packed, int outputs,
                              const float *bias, float *out, int ldo, int column_begin, int column_end) {
  (void)outputs;
  for (int c = column_begin; c < column_end; c++) {
    const float *panel = packed + (size_t)(c / PANEL) * PANEL * inputs + c % PANEL;
    for (int r = 0; r < rows; r++) {
      const float *row = x + (size_t)r * inputs;
      float sum = bias[c];
      for (int k = 0; k < inputs; k++) sum += row[k] * panel[(size_t)k * PANEL];
      out[(size_t)r * ldo + c] = sum;
    }
  }
}

#if DK_X86

// R rows × (P panels of 16 columns), columns [c, c + P·16) of which the first `width` are stored.
#define DK_TILE512(R, P)                                                                                         \
  static inline __attribute__((always_inline, target("avx512f"))) void tile512_##R##_##P(                         \
      const float *x, int inputs, const float *panel, const float *bias, float *out, int ldo, int width) {       \
    __m512 acc[R][P];                                                                                            \
    for (int p = 0; p < P; p++) {                                                                                \
      __mmask16 m = (__mmask16)(width - p * 16 >= 16 ? 0xFFFF : (width > p * 16 ? (1u << (width - p * 16)) - 1 : 0)); \
      __m512 b = _mm512_maskz_loadu_ps(m, bias + p * 16);                                                         \
      for (int r = 0; r < R; r++) acc[r][p] = b;                                                                 \
    }                                                                                                            \
    const size_t stride = (size_t)PANEL * inputs;                                                                \
    for (int k = 0; k < inputs; k++) {                                                                           \
      __m512 w[P];                                                                                               \
      for (int p = 0; p < P; p++) w[p] = _mm512_loadu_ps(panel + p * stride + (size_t)k * PANEL);                \
      for (int r = 0; r < R; r++) {                                                                              \
        __m512 a = _mm512_set1_ps(x[(size_t)r * inputs + k]);                                                   \
        for (int p = 0; p < P; p++) acc[r][p] = _mm512_fmadd_ps(a, w[p], acc[r][p]);                            \
      }                                                                                                          \
    }                                                                                                            \
    for (int p = 0; p < P; p++) {                                                                                \
      __mmask16 m = (__mmask16)(width - p * 16 >= 16 ? 0xFFFF : (width > p * 16 ? (1u << (width - p * 16)) - 1 : 0)); \
      for (int r = 0; r < R; r++) _mm512_mask_storeu_ps(out + (size_t)r * ldo + p * 16, m, acc[r][p]);         \
    }                                                                                                            \
  }

DK_TILE512(8, 2)
DK_TILE512(4, 2)
DK_TILE512(2, 2)
DK_TILE512(1, 2)
DK_TILE512(8, 1)
DK_TILE512(4, 1)
DK_TILE512(2, 1)
DK_TILE512(1, 1)

__attribute__((target("avx512f"))) static void sgemm_packed_avx512(const float *x, int rows, int inputs,
                                                                   const float *packed, const float *bias,
                                                                   float *out, int ldo, int column_begin,
                                                                   int column_end) {
  for (int c = column_begin; c < column_end; c += 32) {
    const float *panel = packed + (size_t)(c / PANEL) * PANEL * inputs;
    int width = column_end - c < 32 ? column_end - c : 32;
    const float *b = bias + c;
    float *o = out + c;
    int r = 0;
    if (width > 16) {
      for (; r + 8 <= rows; r += 8) tile512_8_2(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
      if (r + 4 <= rows) tile512_4_2(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 4;
      if (r + 2 <= rows) tile512_2_2(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 2;
      if (r < rows) tile512_1_2(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
    } else {
      for (; r + 8 <= rows; r += 8) tile512_8_1(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
      if (r + 4 <= rows) tile512_4_1(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 4;
      if (r + 2 <= rows) tile512_2_1(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 2;
      if (r < rows) tile512_1_1(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
    }
  }
}

// R rows × 16 columns (two 8-wide halves), the first `width` stored.
#define DK_TILE256(R)                                                                                            \
  static inline __attribute__((always_inline, target("avx2,fma"))) void tile256_##R(                              \
      const float *x, int inputs, const float *panel, const float *bias, float *out, int ldo, int width) {       \
    __m256 acc[R][2];                                                                                            \
    float b[16] = {0};                                                                                           \
    memcpy(b, bias, sizeof(float) * (size_t)width);                                                              \
    for (int r = 0; r < R; r++) acc[r][0] = _mm256_loadu_ps(b), acc[r][1] = _mm256_loadu_ps(b + 8);             \
    for (int k = 0; k < inputs; k++) {                                                                           \
      __m256 w0 = _mm256_loadu_ps(panel + (size_t)k * PANEL), w1 = _mm256_loadu_ps(panel + (size_t)k * PANEL + 8); \
      for (int r = 0; r < R; r++) {                                                                              \
        __m256 a = _mm256_broadcast_ss(x + (size_t)r * inputs + k);                                              \
        acc[r][0] = _mm256_fmadd_ps(a, w0, acc[r][0]);                                                           \
        acc[r][1] = _mm256_fmadd_ps(a, w1, acc[r][1]);                                                           \
      }                                                                                                          \
    }                                                                                                            \
    for (int r = 0; r < R; r++) {                                                                                \
      if (width == 16) {                                                                                         \
        _mm256_storeu_ps(out + (size_t)r * ldo, acc[r][0]);                                                      \
        _mm256_storeu_ps(out + (size_t)r * ldo + 8, acc[r][1]);                                                  \
      } else {                                                                                                   \
        float t[16];                                                                                             \
        _mm256_storeu_ps(t, acc[r][0]);                                                                          \
        _mm256_storeu_ps(t + 8, acc[r][1]);                                                                      \
        memcpy(out + (size_t)r * ldo, t, sizeof(float) * (size_t)width);                                        \
      }                                                                                                          \
    }                                                                                                            \
  }

DK_TILE256(6)
DK_TILE256(4)
DK_TILE256(2)
DK_TILE256(1)

__attribute__((target("avx2,fma"))) static void sgemm_packed_avx2(const float *x, int rows, int inputs,
                                                                  const float *packed, const float *bias,
                                                                  float *out, int ldo, int column_begin,
                                                                  int column_end) {
  for (int c = column_begin; c < column_end; c += PANEL) {
    const float *panel = packed + (size_t)(c / PANEL) * PANEL * inputs;
    int width = column_end - c < PANEL ? column_end - c : PANEL;
    const float *b = bias + c;
    float *o = out + c;
    int r = 0;
    for (; r + 6 <= rows; r += 6) tile256_6(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
    if (r + 4 <= rows) tile256_4(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 4;
    if (r + 2 <= rows) tile256_2(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width), r += 2;
    if (r < rows) tile256_1(x + (size_t)r * inputs, inputs, panel, b, o + (size_t)r * ldo, ldo, width);
  }
}

#endif

int dk_sgemm_packed_on(dk_sgemm_path path, const float *x, int rows, int inputs, const float *packed, int outputs,
                       const float *bias, float *out, int ldo, int column_begin, int column_end) {
  switch (path) {
  case DK_SGEMM_AVX512:
#if DK_X86
    if (!dk_has_avx512()) return 0;
    sgemm_packed_avx512(x, rows, inputs, packed, bias, out, ldo, column_begin, column_end);
    return 1;
#else
    return 0;
#endif
  case DK_SGEMM_AVX2:
#if DK_X86
    if (!dk_has_avx2()) return 0;
    sgemm_packed_avx2(x, rows, inputs, packed, bias, out, ldo, column_begin, column_end);
    return 1;
#else
    return 0;
#endif
  case DK_SGEMM_PORTABLE:
    dk_sgemm_packed_portable(x, rows, inputs, packed, outputs, bias, out, ldo, column_begin, column_end);
    return 1;
  }
  return 0;
}

dk_sgemm_path dk_sgemm_packed_best_path(void) {
  return dk_has_avx512() ? DK_SGEMM_AVX512 : dk_has_avx2() ? DK_SGEMM_AVX2 : DK_SGEMM_PORTABLE;
}

void dk_sgemm_packed(const float *x, int rows, int inputs, const float *packed, int outputs, const float *bias,
                     float *out, int ldo, int column_begin, int column_end) {
  dk_sgemm_path best = dk_sgemm_packed_best_path();
  // Row chunks keep a chunk's activations in L2 while each 32-column panel pair streams past them.
  for (int r = 0; r < rows; r += 64) {
    int n = rows - r < 64 ? rows - r : 64;
    dk_sgemm_packed_on(best, x + (size_t)r * inputs, n, inputs, packed, outputs, bias, out + (size_t)r * ldo, ldo,
                       column_begin, column_end);
  }
}
