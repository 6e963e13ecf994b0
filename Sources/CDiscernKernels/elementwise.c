#include "DiscernKernels.h"

#include <math.h>
#include <string.h>

#include "vector_math.h"

// Each kernel body is written once as an always-inline function and instantiated twice: for AVX2+FMA
// (where clang vectorizes it 8 floats wide) and for the baseline target. dk_has_avx2 picks one.

#if DK_X86
#define DK_AVX2 __attribute__((target("avx2,fma")))
#else
#define DK_AVX2
#endif
#define DK_INLINE static inline __attribute__((always_inline))

int dk_has_avx2(void) {
#if DK_X86
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();
    cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return cached;
#else
  return 0;
#endif
}

void dk_cpu_relax(void) {
#if DK_X86
  _mm_pause();
#endif
}

// e^x by range reduction to [-ln2/2, ln2/2] and Cephes' degree-6 polynomial (about 1 ulp); written
// without libm calls so that loops around it vectorize.
DK_INLINE float dk_expf(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  float n = __builtin_rintf(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// GELU with erf: x·Φ(x) = x/2·(1 + erf(x/√2)). erf as Eigen computes it for float: odd over even
// polynomial in x on [-4, 4] (beyond, erf is ±1 in float), |error| < 4e-7 — about half the
// instructions of Abramowitz & Stegun 7.1.26 with its exponential, which this replaced.
#define DK_ERF_NUMERATOR(x2, FIRST, STEP)                                                                               \
  STEP(STEP(STEP(STEP(STEP(FIRST(-2.72614225801306e-10f, x2, 2.77068142495902e-08f), x2, -2.10102402082508e-06f), x2,  \
                      -5.69250639462346e-05f),                                                                         \
                 x2, -7.34990630326855e-04f),                                                                          \
            x2, -2.95459980854025e-03f),                                                                               \
       x2, -1.60960333262415e-02f)
#define DK_ERF_DENOMINATOR(x2, FIRST, STEP)                                                                             \
  STEP(STEP(STEP(FIRST(-1.45660718464996e-05f, x2, -2.13374055278905e-04f), x2, -1.68282697438203e-03f), x2,           \
            -7.37332916720468e-03f),                                                                                   \
       x2, -1.42647390514189e-02f)
#define DK_SCALAR_STEP(p, x2, c) ((p) * (x2) + (c))

DK_INLINE void gelu_body(float *x, size_t count) {
  for (size_t j = 0; j < count; j++) {
    float v = x[j];
    float z = v * 0.70710678118654752f;
    z = z > 4.0f ? 4.0f : (z < -4.0f ? -4.0f : z);
    float z2 = z * z;
    float erf = z * DK_ERF_NUMERATOR(z2, DK_SCALAR_STEP, DK_SCALAR_STEP) / DK_ERF_DENOMINATOR(z2, DK_SCALAR_STEP, DK_SCALAR_STEP);
    x[j] = 0.5f * v * (1.0f + erf);
  }
}

DK_INLINE void add_layernorm_body(float *x, const float *residual, int rows, int width, const float *weight,
                                  const float *bias, float eps) {
  for (int r = 0; r < rows; r++) {
    float *row = x + (size_t)r * width;
    if (residual) {
      const float *add = residual + (size_t)r * width;
      for (int c = 0; c < width; c++) row[c] += add[c];
    }
    float mean = 0;
#pragma clang loop vectorize(enable)
    for (int c = 0; c < width; c++) mean += row[c];
    mean /= (float)width;
    float variance = 0;
#pragma clang loop vectorize(enable)
    for (int c = 0; c < width; c++) {
      float d = row[c] - mean;
      variance += d * d;
    }
    float inverse = 1.0f / sqrtf(variance / (float)width + eps);
    for (int c = 0; c < width; c++) row[c] = (row[c] - mean) * inverse * weight[c] + bias[c];
  }
}

DK_INLINE void softmax_body(float *x, int rows, int width) {
  for (int r = 0; r < rows; r++) {
    float *row = x + (size_t)r * width;
    float top = -INFINITY;
    for (int c = 0; c < width; c++) top = row[c] > top ? row[c] : top;
    float sum = 0;
#pragma clang loop vectorize(enable)
    for (int c = 0; c < width; c++) {
      row[c] = dk_expf(row[c] - top);
      sum += row[c];
    }
    float inverse = 1.0f / sum;
    for (int c = 0; c < width; c++) row[c] *= inverse;
  }
}

DK_AVX2 static void gelu_avx2(float *x, size_t count) { gelu_body(x, count); }
static void gelu_portable(float *x, size_t count) { gelu_body(x, count); }

DK_AVX2 static void add_layernorm_avx2(float *x, const float *residual, int rows, int width, const float *weight,
                                       const float *bias, float eps) {
  add_layernorm_body(x, residual, rows, width, weight, bias, eps);
}
static void add_layernorm_portable(float *x, const float *residual, int rows, int width, const float *weight,
                                   const float *bias, float eps) {
  add_layernorm_body(x, residual, rows, width, weight, bias, eps);
}

DK_AVX2 static void softmax_avx2(float *x, int rows, int width) { softmax_body(x, rows, width); }
static void softmax_portable(float *x, int rows, int width) { softmax_body(x, rows, width); }

#if DK_X86
// gelu_body 16 lanes at a time; the tail through a mask, so no scalar remainder.
#define DK_VECTOR_FIRST(a, x2, c) _mm512_fmadd_ps(_mm512_set1_ps(a), (x2), _mm512_set1_ps(c))
#define DK_VECTOR_STEP(p, x2, c) _mm512_fmadd_ps((p), (x2), _mm512_set1_ps(c))
DK_512 static void gelu_avx512(float *x, size_t count) {
  for (size_t j = 0; j < count; j += 16) {
    __mmask16 mask = count - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (count - j)) - 1);
    __m512 v = _mm512_maskz_loadu_ps(mask, x + j);
    __m512 z = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f));
    z = _mm512_min_ps(_mm512_max_ps(z, _mm512_set1_ps(-4.0f)), _mm512_set1_ps(4.0f));
    __m512 z2 = _mm512_mul_ps(z, z);
    __m512 numerator = _mm512_mul_ps(z, DK_ERF_NUMERATOR(z2, DK_VECTOR_FIRST, DK_VECTOR_STEP));
    __m512 denominator = DK_ERF_DENOMINATOR(z2, DK_VECTOR_FIRST, DK_VECTOR_STEP);
    __m512 erf = _mm512_div_ps(numerator, denominator);
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), erf));
    _mm512_mask_storeu_ps(x + j, mask, y);
  }
}
#endif

void dk_gelu(float *x, size_t count) {
#if DK_X86
  if (dk_has_avx512()) {
    gelu_avx512(x, count);
    return;
  }
#endif
  if (dk_has_avx2()) gelu_avx2(x, count);
  else gelu_portable(x, count);
}

void dk_gelu_columns(float *x, int rows, int ld, int begin, int end) {
  if (end <= begin) return;
  for (int r = 0; r < rows; r++) dk_gelu(x + (size_t)r * ld + begin, (size_t)(end - begin));
}

void dk_add_layernorm(float *x, const float *residual, int rows, int width, const float *weight, const float *bias,
                      float eps) {
  if (dk_has_avx2()) add_layernorm_avx2(x, residual, rows, width, weight, bias, eps);
  else add_layernorm_portable(x, residual, rows, width, weight, bias, eps);
}

void dk_softmax_rows(float *x, int rows, int width) {
  if (dk_has_avx2()) softmax_avx2(x, rows, width);
  else softmax_portable(x, rows, width);
}
