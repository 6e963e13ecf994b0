#include "DiscernKernels.h"

#include <math.h>
#include <string.h>

// Both paths must round the same way: no fused multiply-adds in the float epilogue.
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DK_X86 1
#else
#define DK_X86 0
#endif

// Packed weight layout: output channels in blocks of 16; within a block, for each group of 4 inputs,
// 64 bytes = [c0: k0 k1 k2 k3, c1: k0..k3, …, c15: k0..k3]. One 32-bit broadcast of 4 activation bytes
// against the block's 64 bytes gives 16 partial dot products: one zmm VPDPBUSD, or two ymm halves
// (VPDPBUSD, or VPMADDUBSW then VPMADDWD).

enum { BLOCK = 16, TILE = 16, ROWS = 4, ROWS512 = 8 };

int dk_padded_inputs(int inputs) { return (inputs + 3) & ~3; }
int dk_padded_outputs(int outputs) { return (outputs + TILE - 1) / TILE * TILE; }

size_t dk_packed_weight_bytes(int outputs, int inputs) {
  return (size_t)dk_padded_outputs(outputs) * (size_t)dk_padded_inputs(inputs);
}

static inline int8_t *packed_at(int8_t *packed, int kpad, int channel, int k) {
  int block = channel / BLOCK, lane = channel % BLOCK;
  return packed + (size_t)block * BLOCK * kpad + (size_t)(k / 4) * BLOCK * 4 + lane * 4 + k % 4;
}

void dk_quantize_weights(const float *weights, int outputs, int inputs, int weight_max, int8_t *packed,
                         float *scales, int32_t *sums) {
    int kpad = dk_padded_inputs(inputs);
  memset(packed, 0, dk_packed_weight_bytes(outputs, inputs));
  for (int c = 0; c < outputs; c++) {
    const float *row = weights + (size_t)c * inputs;
    float largest = 0;
    for (int k = 0; k < inputs; k++) largest = fabsf(row[k]) > largest ? fabsf(row[k]) : largest;
    float scale = largest > 0 ? largest / weight_max : 1.0f;
    int32_t sum = 0;
    for (int k = 0; k < inputs; k++) {
      long q = lrintf(row[k] / scale);
      q = q > weight_max ? weight_max : (q < -weight_max ? -weight_max : q);
      *packed_at(packed, kpad, c, k) = (int8_t)q;
      sum += (int32_t)q;
    }
    scales[c] = scale;
    sums[c] = sum;
  }
}

// One row's range, scale and zero point. The range always includes 0 so that 0 is exact (padding,
// and the zero-point algebra).
static inline void row_scale(float low, float high, float *scale, int32_t *zero) {
  low = low > 0 ? 0 : low;
  high = high < 0 ? 0 : high;
  *scale = high > low ? (high - low) / 255.0f : 1.0f;
  int32_t z = (int32_t)lrintf(-low / *scale);
  *zero = z < 0 ? 0 : (z > 255 ? 255 : z);
}

// Whether column k of the current row was recorded (outliers[first..<count] belong to this row). Past
// the list's capacity an outlier stays in the row and only widens its range.
static inline int is_outlier(const dk_outlier *outliers, int first, int count, int k) {
  for (int j = first; j < count; j++)
    if (outliers[j].column == k) return 1;
  return 0;
}

// Records the values of row r beyond the threshold, which the row's quantization treats as 0.
static inline void collect_outliers(const float *row, int r, int inputs, float threshold, dk_outlier *outliers,
                                    int capacity, int *count) {
  for (int k = 0; k < inputs && *count < capacity; k++)
    if (fabsf(row[k]) > threshold) outliers[(*count)++] = (dk_outlier){r, k, row[k]};
}

static void quantize_rows_portable(const float *x, int rows, int inputs, float threshold, uint8_t *q, float *scales,
                                   int32_t *zero_points, dk_outlier *outliers, int capacity, int *count) {
  int kpad = dk_padded_inputs(inputs);
  for (int r = 0; r < rows; r++) {
    const float *row = x + (size_t)r * inputs;
    uint8_t *out = q + (size_t)r * kpad;
    float low = 0, high = 0;
    int first = *count;
    collect_outliers(row, r, inputs, threshold, outliers, capacity, count);
    for (int k = 0; k < inputs; k++) {
      float v = fabsf(row[k]) > threshold && is_outlier(outliers, first, *count, k) ? 0 : row[k];
      low = v < low ? v : low;
      high = v > high ? v : high;
    }
    row_scale(low, high, &scales[r], &zero_points[r]);
    float inverse = 1.0f / scales[r];
    for (int k = 0; k < inputs; k++) {
      float x = fabsf(row[k]) > threshold && is_outlier(outliers, first, *count, k) ? 0 : row[k];
      int32_t v = (int32_t)lrintf(x * inverse) + zero_points[r];
      out[k] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    for (int k = inputs; k < kpad; k++) out[k] = (uint8_t)zero_points[r];
  }
}

#if DK_X86
// The same arithmetic 8 floats at a time; VCVTPS2DQ rounds to nearest even like lrintf, so both
// paths give the same bytes. Values beyond the threshold are masked to 0 in both passes.
__attribute__((target("avx2,fma"))) static void
quantize_rows_avx2(const float *x, int rows, int inputs, float threshold, uint8_t *q, float *scales,
                   int32_t *zero_points, dk_outlier *outliers, int capacity, int *count) {
  int kpad = dk_padded_inputs(inputs);
  int vector_end = inputs & ~31;
  const __m256 limit = _mm256_set1_ps(threshold), sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
  for (int r = 0; r < rows; r++) {
    const float *row = x + (size_t)r * inputs;
    uint8_t *out = q + (size_t)r * kpad;
    __m256 low8 = zero, high8 = zero, beyond8 = zero;
    for (int k = 0; k < vector_end; k += 8) {
      __m256 v = _mm256_loadu_ps(row + k);
      __m256 beyond = _mm256_cmp_ps(_mm256_andnot_ps(sign, v), limit, _CMP_GT_OQ);
      beyond8 = _mm256_or_ps(beyond8, beyond);
      v = _mm256_blendv_ps(v, zero, beyond);
      low8 = _mm256_min_ps(low8, v);
      high8 = _mm256_max_ps(high8, v);
    }
    float lows[8], highs[8];
    _mm256_storeu_ps(lows, low8);
    _mm256_storeu_ps(highs, high8);
    float low = 0, high = 0;
    for (int j = 0; j < 8; j++) {
      low = lows[j] < low ? lows[j] : low;
      high = highs[j] > high ? highs[j] : high;
    }
    int any_beyond = !_mm256_testz_ps(beyond8, beyond8);
    for (int k = vector_end; k < inputs; k++) {
      float v = fabsf(row[k]) > threshold ? (any_beyond = 1, 0.0f) : row[k];
      low = v < low ? v : low;
      high = v > high ? v : high;
    }
    if (any_beyond) {
      int beyond = 0;
      for (int k = 0; k < inputs; k++) beyond += fabsf(row[k]) > threshold;
      if (*count + beyond > capacity) {
        // A full list: the portable path keeps the unlisted ones in range.
        int first = *count;
        quantize_rows_portable(row, 1, inputs, threshold, out, &scales[r], &zero_points[r], outliers, capacity, count);
        for (int j = first; j < *count; j++) outliers[j].row = r;
        continue;
      }
      collect_outliers(row, r, inputs, threshold, outliers, capacity, count);
    }
    row_scale(low, high, &scales[r], &zero_points[r]);
    float inverse = 1.0f / scales[r];
    __m256 inverse8 = _mm256_set1_ps(inverse);
    __m256i zero_point8 = _mm256_set1_epi32(zero_points[r]);
#define DK_QUANTIZE8(offset)                                                                                          \
  _mm256_add_epi32(                                                                                                    \
      _mm256_cvtps_epi32(_mm256_mul_ps(                                                                               \
          _mm256_blendv_ps(_mm256_loadu_ps(row + k + offset), zero,                                                   \
                           _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(row + k + offset)), limit, _CMP_GT_OQ)), \
          inverse8)),                                                                                                 \
      zero_point8)
    for (int k = 0; k < vector_end; k += 32) {
      __m256i a = DK_QUANTIZE8(0), b = DK_QUANTIZE8(8), c = DK_QUANTIZE8(16), d = DK_QUANTIZE8(24);
      // Saturating packs clamp to [0, 255]; the packs work within 128-bit lanes, the permute restores order.
      __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
      bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256((__m256i *)(out + k), bytes);
    }
#undef DK_QUANTIZE8
    for (int k = vector_end; k < inputs; k++) {
      float v = fabsf(row[k]) > threshold ? 0.0f : row[k];
      int32_t value = (int32_t)lrintf(v * inverse) + zero_points[r];
      out[k] = (uint8_t)(value < 0 ? 0 : (value > 255 ? 255 : value));
    }
    for (int k = inputs; k < kpad; k++) out[k] = (uint8_t)zero_points[r];
  }
}

// quantize_rows_avx2 16 floats at a time: the same comparisons, the same min/max (order does not
// change a minimum), and VCVTPS2DQ's round-to-nearest-even with the same saturating clamp, so the
// same bytes. A row with values beyond the threshold goes to the AVX2 path, which lists them.
__attribute__((target("avx512f,avx512bw,avx2,fma"))) static void
quantize_rows_avx512(const float *x, int rows, int inputs, float threshold, uint8_t *q, float *scales,
                     int32_t *zero_points, dk_outlier *outliers, int capacity, int *count) {
  int kpad = dk_padded_inputs(inputs);
  int vector_end = inputs & ~15;
  const __m512 limit = _mm512_set1_ps(threshold);
  for (int r = 0; r < rows; r++) {
    const float *row = x + (size_t)r * inputs;
    uint8_t *out = q + (size_t)r * kpad;
    __m512 low16 = _mm512_setzero_ps(), high16 = _mm512_setzero_ps();
    __mmask16 beyond16 = 0;
    for (int k = 0; k < vector_end; k += 16) {
      __m512 v = _mm512_loadu_ps(row + k);
      beyond16 |= _mm512_cmp_ps_mask(_mm512_abs_ps(v), limit, _CMP_GT_OQ);
      low16 = _mm512_min_ps(low16, v);
      high16 = _mm512_max_ps(high16, v);
    }
    int beyond = beyond16 != 0;
    for (int k = vector_end; k < inputs && !beyond; k++) beyond = fabsf(row[k]) > threshold;
    if (beyond) {
      int first = *count;
      quantize_rows_avx2(row, 1, inputs, threshold, out, &scales[r], &zero_points[r], outliers, capacity, count);
      for (int j = first; j < *count; j++) outliers[j].row = r;
      continue;
    }
    float low = _mm512_reduce_min_ps(low16), high = _mm512_reduce_max_ps(high16);
    for (int k = vector_end; k < inputs; k++) {
      low = row[k] < low ? row[k] : low;
      high = row[k] > high ? row[k] : high;
    }
    row_scale(low, high, &scales[r], &zero_points[r]);
    float inverse = 1.0f / scales[r];
    __m512 inverse16 = _mm512_set1_ps(inverse);
    __m512i zero_point16 = _mm512_set1_epi32(zero_points[r]);
    for (int k = 0; k < vector_end; k += 16) {
      __m512i value = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(row + k), inverse16)), zero_point16);
      // Signed saturation to 16 bits then unsigned to 8, as the AVX2 path's packs do.
      _mm_storeu_si128((__m128i *)(out + k), _mm512_cvtusepi32_epi8(_mm512_max_epi32(value, _mm512_setzero_si512())));
    }
    for (int k = vector_end; k < inputs; k++) {
      int32_t value = (int32_t)lrintf(row[k] * inverse) + zero_points[r];
      out[k] = (uint8_t)(value < 0 ? 0 : (value > 255 ? 255 : value));
    }
    for (int k = inputs; k < kpad; k++) out[k] = (uint8_t)zero_points[r];
  }
}
#endif

int dk_quantize_rows_on(dk_quantize_path path, const float *x, int rows, int inputs, float threshold, uint8_t *q,
                        float *scales, int32_t *zero_points, dk_outlier *outliers, int capacity) {
  int count = 0;
  switch (path) {
#if DK_X86
  case DK_QUANTIZE_AVX512:
    if (!dk_has_avx512()) return -1;
    quantize_rows_avx512(x, rows, inputs, threshold, q, scales, zero_points, outliers, capacity, &count);
    return count;
  case DK_QUANTIZE_AVX2:
    if (!dk_has_avx2()) return -1;
    quantize_rows_avx2(x, rows, inputs, threshold, q, scales, zero_points, outliers, capacity, &count);
    return count;
#else
  case DK_QUANTIZE_AVX512:
  case DK_QUANTIZE_AVX2:
    return -1;
#endif
  case DK_QUANTIZE_PORTABLE:
    quantize_rows_portable(x, rows, inputs, threshold, q, scales, zero_points, outliers, capacity, &count);
    return count;
  }
  return -1;
}

int dk_quantize_rows(const float *x, int rows, int inputs, float threshold, uint8_t *q, float *scales,
                     int32_t *zero_points, dk_outlier *outliers, int capacity) {
  dk_quantize_path path = dk_has_avx512() ? DK_QUANTIZE_AVX512 : dk_has_avx2() ? DK_QUANTIZE_AVX2 : DK_QUANTIZE_PORTABLE;
  return dk_quantize_rows_on(path, x, rows, inputs, threshold, q, scales, zero_points, outliers, capacity);
}

// Adds back, for columns [begin, end), what the outliers set aside contribute: value · w[c, k], with w
// dequantized (the error quantization makes here comes from the activations, not the weights).
#if DK_X86
// The same sums 16 channels at a time, in the same order of operations (so the same rounding): a
// block's 64 bytes for input k hold byte k % 4 of each channel's 4-byte group, sign-extended in place.
__attribute__((target("avx512f,avx512bw"))) static void add_outliers_avx512(const dk_outlier *outliers, int count,
                                                                            const int8_t *packed, int kpad,
                                                                            const float *w_scales, float *out, int ldo,
                                                                            int begin, int end) {
  for (int j = 0; j < count; j++) {
    float *row = out + (size_t)outliers[j].row * ldo;
    int k = outliers[j].column;
    __m512 value = _mm512_set1_ps(outliers[j].value);
    int shift = 24 - 8 * (k % 4);
    for (int c = begin; c < end; c += BLOCK) {
      __mmask16 mask = end - c >= BLOCK ? (__mmask16)0xffff : (__mmask16)((1u << (end - c)) - 1);
      __m512i group = _mm512_loadu_si512((const void *)(packed + (size_t)(c / BLOCK) * BLOCK * kpad + (size_t)(k / 4) * BLOCK * 4));
      __m512i weights = _mm512_srai_epi32(_mm512_sllv_epi32(group, _mm512_set1_epi32(shift)), 24);
      __m512 term = _mm512_mul_ps(value, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, w_scales + c), _mm512_cvtepi32_ps(weights)));
      _mm512_mask_storeu_ps(row + c, mask, _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row + c), term));
    }
  }
}
#endif

// The portable kernel keeps the scalar loop, so that the tests comparing each path with it also
// compare the two loops.
static void add_outliers(dk_kernel kernel, const dk_outlier *outliers, int count, const int8_t *packed, int kpad,
                         const float *w_scales, float *out, int ldo, int begin, int end) {
#if DK_X86
  // Whole blocks from a block's start: how threads split the columns.
  if (kernel != DK_KERNEL_PORTABLE && begin % BLOCK == 0 && dk_kernel_supported(DK_KERNEL_AVX512_VNNI)) {
    add_outliers_avx512(outliers, count, packed, kpad, w_scales, out, ldo, begin, end);
    return;
  }
#endif
  for (int j = 0; j < count; j++) {
    float *row = out + (size_t)outliers[j].row * ldo;
    int k = outliers[j].column;
    float value = outliers[j].value;
    for (int c = begin; c < end; c++) row[c] += value * (w_scales[c] * (float)*packed_at((int8_t *)packed, kpad, c, k));
  }
}

// The exact integer dot product of row r and channel c, then the affine correction.
static inline float dequantize(int32_t dot, int r, int c, const float *a_scales, const int32_t *a_zero_points,
                               const float *w_scales, const int32_t *w_sums, const float *bias) {
  int32_t centred = dot - a_zero_points[r] * w_sums[c];
  return a_scales[r] * w_scales[c] * (float)centred + (bias ? bias[c] : 0.0f);
}

static void gemm_portable(const uint8_t *q, int rows, int inputs, const float *a_scales, const int32_t *a_zero_points,
                          const int8_t *packed, const float *w_scales, const int32_t *w_sums, const float *bias,
                          float *out, int ldo, int column_begin, int column_end) {
  int kpad = dk_padded_inputs(inputs);
  for (int r = 0; r < rows; r++) {
    const uint8_t *a = q + (size_t)r * kpad;
    for (int c = column_begin; c < column_end; c++) {
      int32_t dot = 0;
      for (int k = 0; k < kpad; k++) dot += (int32_t)a[k] * (int32_t)*packed_at((int8_t *)packed, kpad, c, k);
      out[(size_t)r * ldo + c] = dequantize(dot, r, c, a_scales, a_zero_points, w_scales, w_sums, bias);
    }
  }
}

// ---- Which paths this CPU runs ---------------------------------------------------------------------

#if DK_X86
#include <cpuid.h>

// The register state the OS saves on a context switch (XCR0): without it the registers exist but
// their upper halves would be lost.
__attribute__((target("xsave"))) static unsigned long long saved_state(void) { return _xgetbv(0); }

static int detect(dk_kernel kernel) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
  unsigned long long state = saved_state();
  int ymm = (state & 0x6) == 0x6, zmm = (state & 0xe6) == 0xe6;
  switch (kernel) {
  case DK_KERNEL_PORTABLE: return 1;
  case DK_KERNEL_AVX2: return dk_has_avx2();
  case DK_KERNEL_AVX512_VNNI:
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return zmm && (b & bit_AVX512F) && (b & bit_AVX512BW) && (c & bit_AVX512VNNI);
  case DK_KERNEL_AVX_VNNI:
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return ymm && dk_has_avx2() && (a & (1u << 4));  // CPUID.(7,1):EAX[4] is AVX-VNNI
  }
  return 0;
}
#endif

int dk_kernel_supported(dk_kernel kernel) {
#if DK_X86
  static int cached[4] = {-1, -1, -1, -1};
  if ((unsigned)kernel >= 4) return 0;
  if (cached[kernel] < 0) cached[kernel] = detect(kernel);
  return cached[kernel];
#else
  return kernel == DK_KERNEL_PORTABLE;
#endif
}

dk_kernel dk_kernel_fastest(void) {
  if (dk_kernel_supported(DK_KERNEL_AVX512_VNNI)) return DK_KERNEL_AVX512_VNNI;
  if (dk_kernel_supported(DK_KERNEL_AVX_VNNI)) return DK_KERNEL_AVX_VNNI;
  if (dk_kernel_supported(DK_KERNEL_AVX2)) return DK_KERNEL_AVX2;
  return DK_KERNEL_PORTABLE;
}

#if DK_X86
// ---- 256-bit paths: AVX2 (VPMADDUBSW + VPMADDWD) and AVX-VNNI (VPDPBUSD, VEX) --------------------

// The float epilogue 8 channels at a time, in the portable path's order of operations (so the same
// rounding): (a_scale·w_scale)·(dot − zp·w_sum) + bias.
__attribute__((target("avx2,fma"), always_inline)) static inline void
dequantize8(__m256i dots, float a_scale, int32_t zero_point, const float *w_scales, const int32_t *w_sums,
            const float *bias, float *out) {
  __m256i centred = _mm256_sub_epi32(dots, _mm256_mullo_epi32(_mm256_set1_epi32(zero_point), _mm256_loadu_si256((const __m256i *)w_sums)));
  __m256 scale = _mm256_mul_ps(_mm256_set1_ps(a_scale), _mm256_loadu_ps(w_scales));
  __m256 value = _mm256_mul_ps(scale, _mm256_cvtepi32_ps(centred));
  _mm256_storeu_ps(out, _mm256_add_ps(value, bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps()));
}

// A tile of R rows × 16 channels and the product over columns, for one 256-bit multiply-accumulate
// step MAC(acc, a, w). R is a compile-time constant at each call site, so the loops over rows unroll
// and the 2·R accumulators stay in registers. A macro, since each path needs its own target: a
// function built for AVX-VNNI must never be reached on a CPU with AVX2 alone.
#define DK_DEFINE_YMM_GEMM(name, features, MAC)                                                                     \
  __attribute__((target(features), always_inline)) static inline void tile_##name(                                  \
      const int R, const uint8_t *q, int kpad, const int8_t *block, int32_t dots[][TILE]) {                         \
    const __m256i ones = _mm256_set1_epi16(1);                                                                      \
    (void)ones;                                                                                                     \
    __m256i acc0[ROWS], acc1[ROWS];                                                                                 \
    for (int r = 0; r < R; r++) acc0[r] = acc1[r] = _mm256_setzero_si256();                                         \
    for (int k = 0; k < kpad; k += 4) {                                                                             \
      __m256i w0 = _mm256_loadu_si256((const __m256i *)(block + k * BLOCK));                                        \
      __m256i w1 = _mm256_loadu_si256((const __m256i *)(block + k * BLOCK + 32));                                   \
      for (int r = 0; r < R; r++) {                                                                                 \
        int32_t four;                                                                                               \
        memcpy(&four, q + (size_t)r * kpad + k, 4);                                                                 \
        __m256i a = _mm256_set1_epi32(four);                                                                        \
        acc0[r] = MAC(acc0[r], a, w0);                                                                              \
        acc1[r] = MAC(acc1[r], a, w1);                                                                              \
      }                                                                                                             \
    }                                                                                                               \
    for (int r = 0; r < R; r++) {                                                                                   \
      _mm256_storeu_si256((__m256i *)dots[r], acc0[r]);                                                             \
      _mm256_storeu_si256((__m256i *)(dots[r] + 8), acc1[r]);                                                       \
    }                                                                                                               \
  }                                                                                                                 \
  __attribute__((target(features))) static void gemm_##name(                                                       \
      const uint8_t *q, int rows, int inputs, const float *a_scales, const int32_t *a_zero_points,                  \
      const int8_t *packed, const float *w_scales, const int32_t *w_sums, const float *bias, float *out,       \
      int ldo, int column_begin, int column_end) {                                                      \
    int kpad = dk_padded_inputs(inputs);                                                                            \
    for (int c0 = column_begin; c0 < column_end; c0 += TILE) {                                                      \
      const int8_t *block = packed + (size_t)(c0 / BLOCK) * BLOCK * kpad;                                           \
      int width = column_end - c0 < TILE ? column_end - c0 : TILE;                                                  \
      for (int r0 = 0; r0 < rows; r0 += ROWS) {                                                                     \
        int32_t dots[ROWS][TILE];                                                                                   \
        const uint8_t *a = q + (size_t)r0 * kpad;                                                                   \
        int R = rows - r0 < ROWS ? rows - r0 : ROWS;                                                                \
        switch (R) {                                                                                                \
        case 4: tile_##name(4, a, kpad, block, dots); break;                                                        \
        case 3: tile_##name(3, a, kpad, block, dots); break;                                                        \
        case 2: tile_##name(2, a, kpad, block, dots); break;                                                        \
        default: tile_##name(1, a, kpad, block, dots); break;                                                       \
        }                                                                                                           \
        for (int r = 0; r < R; r++) {                                                                               \
          float *row = out + (size_t)(r0 + r) * ldo;                                                                \
          if (width == TILE) {                                                                                      \
            for (int half = 0; half < TILE; half += 8)                                                              \
              dequantize8(_mm256_loadu_si256((const __m256i *)(dots[r] + half)), a_scales[r0 + r],                  \
                          a_zero_points[r0 + r], w_scales + c0 + half, w_sums + c0 + half,                          \
                          bias ? bias + c0 + half : NULL, row + c0 + half);                                         \
          } else {                                                                                                  \
            for (int j = 0; j < width; j++)                                                                         \
              row[c0 + j] = dequantize(dots[r][j], r0 + r, c0 + j, a_scales, a_zero_points, w_scales, w_sums, bias); \
          }                                                                                                         \
        }                                                                                                           \
      }                                                                                                             \
    }                                                                                                               \
  }

#define DK_MAC_AVX2(acc, a, w) _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, w), ones))
#define DK_MAC_AVX_VNNI(acc, a, w) _mm256_dpbusd_avx_epi32(acc, a, w)
DK_DEFINE_YMM_GEMM(avx2, "avx2,fma", DK_MAC_AVX2)
DK_DEFINE_YMM_GEMM(avx_vnni, "avx2,fma,avxvnni", DK_MAC_AVX_VNNI)

// ---- 512-bit path: AVX-512 VNNI (VPDPBUSD on zmm) -------------------------------------------------

#define DK_512 __attribute__((target("avx512f,avx512bw,avx512vnni,avx2,fma")))

// A tile of R rows × B blocks side by side (16·B channels): one 64-byte load of each block per group
// of 4 inputs, and each broadcast of 4 activation bytes feeds B VPDPBUSD, so the broadcasts, which
// share the vector pipes with the multiplies, are 1/B as many per multiply-accumulate. B and R are constants at each call site: the B·R accumulators stay in
// registers (at most 24 of the 32).
DK_512 __attribute__((always_inline)) static inline void tiles_avx512_vnni(const int B, const int R, const uint8_t *q,
                                                                             int kpad, const int8_t *block,
                                                                             __m512i acc[][ROWS512]) {
  for (int b = 0; b < B; b++)
    for (int r = 0; r < R; r++) acc[b][r] = _mm512_setzero_si512();
  for (int k = 0; k < kpad; k += 4) {
    __m512i w[3];
    for (int b = 0; b < B; b++) w[b] = _mm512_loadu_si512((const void *)(block + (size_t)b * BLOCK * kpad + k * BLOCK));
    for (int r = 0; r < R; r++) {
      int32_t four;
      memcpy(&four, q + (size_t)r * kpad + k, 4);
      __m512i a = _mm512_set1_epi32(four);
      for (int b = 0; b < B; b++) acc[b][r] = _mm512_dpbusd_epi32(acc[b][r], a, w[b]);
    }
  }
}

// Columns [c0, c0 + 16·(B − 1) + width) for all rows, B blocks of which the last may be partial (its
// channels past `width` are masked off: scales, sums and bias end there): the products, then the
// epilogue in the portable path's order of operations.
DK_512 __attribute__((always_inline)) static inline void blocks_avx512_vnni(
    const int B, const uint8_t *q, int rows, int kpad, const float *a_scales, const int32_t *a_zero_points,
    const int8_t *packed, const float *w_scales, const int32_t *w_sums, const float *bias, float *out, int ldo, int c0,
    int width) {
  const int8_t *block = packed + (size_t)(c0 / BLOCK) * BLOCK * kpad;
  for (int r0 = 0; r0 < rows; r0 += ROWS512) {
    __m512i acc[3][ROWS512];
    const uint8_t *a = q + (size_t)r0 * kpad;
    int R = rows - r0 < ROWS512 ? rows - r0 : ROWS512;
    switch (R) {
    case 8: tiles_avx512_vnni(B, 8, a, kpad, block, acc); break;
    case 7: tiles_avx512_vnni(B, 7, a, kpad, block, acc); break;
    case 6: tiles_avx512_vnni(B, 6, a, kpad, block, acc); break;
    case 5: tiles_avx512_vnni(B, 5, a, kpad, block, acc); break;
    case 4: tiles_avx512_vnni(B, 4, a, kpad, block, acc); break;
    case 3: tiles_avx512_vnni(B, 3, a, kpad, block, acc); break;
    case 2: tiles_avx512_vnni(B, 2, a, kpad, block, acc); break;
    default: tiles_avx512_vnni(B, 1, a, kpad, block, acc); break;
    }
    for (int b = 0; b < B; b++) {
      int c = c0 + b * TILE;
      __mmask16 mask = (__mmask16)(b < B - 1 || width == TILE ? 0xffff : (1u << width) - 1);
      __m512 scales = _mm512_maskz_loadu_ps(mask, w_scales + c);
      __m512i sums = _mm512_maskz_loadu_epi32(mask, w_sums + c);
      __m512 biases = bias ? _mm512_maskz_loadu_ps(mask, bias + c) : _mm512_setzero_ps();
      for (int r = 0; r < R; r++) {
        __m512i centred = _mm512_sub_epi32(acc[b][r], _mm512_mullo_epi32(_mm512_set1_epi32(a_zero_points[r0 + r]), sums));
        __m512 scale = _mm512_mul_ps(_mm512_set1_ps(a_scales[r0 + r]), scales);
        __m512 value = _mm512_add_ps(_mm512_mul_ps(scale, _mm512_cvtepi32_ps(centred)), biases);
        _mm512_mask_storeu_ps(out + (size_t)(r0 + r) * ldo + c, mask, value);
      }
    }
  }
}

DK_512 static void gemm_avx512_vnni(const uint8_t *q, int rows, int inputs, const float *a_scales,
                                    const int32_t *a_zero_points, const int8_t *packed, const float *w_scales,
                                    const int32_t *w_sums, const float *bias, float *out, int ldo, int column_begin,
                                    int column_end) {
  int kpad = dk_padded_inputs(inputs);
  int c0 = column_begin;
  // Whole blocks three and then two at a time, then what is left one block at a time.
  for (; c0 + 3 * TILE <= column_end; c0 += 3 * TILE)
    blocks_avx512_vnni(3, q, rows, kpad, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, c0, TILE);
  for (; c0 + 2 * TILE <= column_end; c0 += 2 * TILE)
    blocks_avx512_vnni(2, q, rows, kpad, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, c0, TILE);
  for (; c0 < column_end; c0 += TILE) {
    int width = column_end - c0 < TILE ? column_end - c0 : TILE;
    blocks_avx512_vnni(1, q, rows, kpad, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, c0, width);
  }
}
#endif

void dk_gemm_u8s8(dk_kernel kernel, const uint8_t *q, int rows, int inputs, const float *a_scales,
                  const int32_t *a_zero_points, const int8_t *packed, int outputs, const float *w_scales,
                  const int32_t *w_sums, const float *bias, const dk_outlier *outliers, int outlier_count, float *out,
                  int ldo, int column_begin, int column_end) {
  if (column_end > outputs) column_end = outputs;
  // A path the CPU lacks would stop the process on its first instruction.
  if (!dk_kernel_supported(kernel)) kernel = DK_KERNEL_PORTABLE;
  switch (kernel) {
#if DK_X86
  case DK_KERNEL_AVX512_VNNI:
    gemm_avx512_vnni(q, rows, inputs, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, column_begin,
                     column_end);
    break;
  case DK_KERNEL_AVX_VNNI:
    gemm_avx_vnni(q, rows, inputs, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, column_begin,
                  column_end);
    break;
  case DK_KERNEL_AVX2:
    gemm_avx2(q, rows, inputs, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, column_begin,
              column_end);
    break;
#endif
  default:
    gemm_portable(q, rows, inputs, a_scales, a_zero_points, packed, w_scales, w_sums, bias, out, ldo, column_begin,
                  column_end);
    break;
  }
  add_outliers(kernel, outliers, outlier_count, packed, dk_padded_inputs(inputs), w_scales, out, ldo, column_begin,
               column_end);
}
