#ifndef DISCERN_KERNELS_H
#define DISCERN_KERNELS_H

// The encoder's hot loops in C: elementwise steps that must vectorize (GELU, LayerNorm, softmax)
// and the int8 matrix product. Every function has an AVX2 path chosen at run time and a portable
// path that computes the same result, so the binary runs on any x86-64 (or ARM) machine; the int8
// product also has VNNI paths (AVX-512 VNNI, AVX-VNNI), and its caller names the path (dk_kernel).

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 + FMA paths are in use on this CPU.
int dk_has_avx2(void);

/// A spin-wait hint (PAUSE on x86): a spinning thread yields the core's shared resources.
void dk_cpu_relax(void);

/// The CPU the calling thread runs on now, or -1 where that cannot be known (threads.c).
int dk_current_cpu(void);

/// Lets `thread` run on every CPU this process may use except `cpu` (Linux); 0 on success, -1 when
/// it cannot or there is no other CPU.
int dk_thread_avoid_cpu(pthread_t thread, int cpu);

/// 1 when `thread` may run on `cpu`, 0 when not, -1 when that cannot be known.
int dk_thread_may_run_on(pthread_t thread, int cpu);

/// How many CPUs this process may run on, or -1 where that cannot be known.
int dk_allowed_cpus(void);

/// GELU with erf, in place.
void dk_gelu(float *x, size_t count);

/// GELU in place on columns [begin, end) of each of `rows` rows `ld` floats apart: the part of a
/// product's output one thread wrote, while it is still in that core's cache.
void dk_gelu_columns(float *x, int rows, int ld, int begin, int end);

/// x = LayerNorm(x + residual) row by row; `residual` may be NULL.
void dk_add_layernorm(float *x, const float *residual, int rows, int width, const float *weight,
                      const float *bias, float eps);

/// Softmax of each row of a rows × width matrix, in place.
void dk_softmax_rows(float *x, int rows, int width);

// ---- int8 linear layers -------------------------------------------------------------------------
//
// Weights are quantized symmetrically per output channel to [-weight_max, weight_max]; activations
// are quantized per row, asymmetrically, to 8 bits ([0, 255]) with a zero point. The integer product
// is exact on every path, so all paths agree bit for bit at the same weights:
// - VPDPBUSD (AVX-512 VNNI, AVX-VNNI) sums four u8·s8 products straight into 32 bits: any weight_max
//   up to 127 is exact.
// - VPMADDUBSW (AVX2) first sums pairs into a saturating 16-bit lane: only weight_max ≤ 63 keeps
//   every pair (2·255·63 = 32130) under 32767. With 127 it would saturate, so AVX2 needs 63.

/// The instruction paths of the int8 product.
typedef enum {
  DK_KERNEL_PORTABLE = 0,
  DK_KERNEL_AVX2 = 1,
  DK_KERNEL_AVX512_VNNI = 2,
  DK_KERNEL_AVX_VNNI = 3,
} dk_kernel;

/// 1 when this CPU (and its OS, for the register state) runs `kernel`.
int dk_kernel_supported(dk_kernel kernel);
/// The fastest supported path: AVX-512 VNNI, then AVX-VNNI, then AVX2, then portable.
dk_kernel dk_kernel_fastest(void);

/// Inputs rounded up to a multiple of 4 (one 32-bit lane of u8/s8 values).
int dk_padded_inputs(int inputs);
/// Outputs rounded up to a multiple of 16 (one kernel tile of output channels).
int dk_padded_outputs(int outputs);
/// Bytes of packed weights for an outputs × inputs matrix.
size_t dk_packed_weight_bytes(int outputs, int inputs);

/// Quantizes `weights` (outputs × inputs, row-major as in PyTorch) to [-weight_max, weight_max] into
/// `packed` (dk_packed_weight_bytes), per-channel `scales` and per-channel sums of the quantized
/// values (both `outputs` long). weight_max is 63 for the AVX2 path, up to 127 for the others.
void dk_quantize_weights(const float *weights, int outputs, int inputs, int weight_max, int8_t *packed,
                         float *scales, int32_t *sums);

/// An activation set aside from quantization: rows of a transformer carry a few values tens of times
/// larger than the rest (in fixed channels; the [CLS] row most of all), and an 8-bit range stretched
/// to cover them rounds everything else away. These go through the product in float instead.
typedef struct {
  int32_t row, column;
  float value;
} dk_outlier;

/// Quantizes each row of x (rows × inputs) to u8 in `q` (rows × dk_padded_inputs), with a scale and
/// a zero point per row. Values with |x| > threshold are quantized as 0 and listed in `outliers` (up to
/// `capacity`; past it they stay in their row's range). Returns how many were listed.
int dk_quantize_rows(const float *x, int rows, int inputs, float threshold, uint8_t *q, float *scales,
                     int32_t *zero_points, dk_outlier *outliers, int capacity);

/// The instruction paths of dk_quantize_rows (the fastest this CPU runs is taken); all give the same
/// bytes, scales, zero points and outlier list.
typedef enum { DK_QUANTIZE_PORTABLE = 0, DK_QUANTIZE_AVX2 = 1, DK_QUANTIZE_AVX512 = 2 } dk_quantize_path;

/// dk_quantize_rows on one path, so tests can compare them; -1 (nothing written) when this CPU
/// cannot run it.
int dk_quantize_rows_on(dk_quantize_path path, const float *x, int rows, int inputs, float threshold, uint8_t *q,
                        float *scales, int32_t *zero_points, dk_outlier *outliers, int capacity);

/// out[r, c] = a_scale[r]·w_scale[c]·(Σ q[r,k]·w[c,k] − zp[r]·w_sum[c]) + bias[c], plus the
/// outliers' value·w[c, k], for the output columns [column_begin, column_end); column_begin is a
/// multiple of 16. `out` has leading dimension `ldo`. Splitting the columns lets callers run parts on
/// different threads. `kernel` picks the path (a path this CPU lacks runs as portable); weights must
/// be within its range (see above).
void dk_gemm_u8s8(dk_kernel kernel, const uint8_t *q, int rows, int inputs, const float *a_scales,
                  const int32_t *a_zero_points, const int8_t *packed, int outputs, const float *w_scales,
                  const int32_t *w_sums, const float *bias, const dk_outlier *outliers, int outlier_count, float *out,
                  int ldo, int column_begin, int column_end);

// ---- Roofline ----------------------------------------------------------------------------------
//
// The sustained multiply-accumulate rate of one core per instruction path, for discern-bench roofline.

/// The instruction sequences measured.
typedef enum {
  DK_PEAK_AVX2_MADDUBS = 0,    ///< VPMADDUBSW + VPMADDWD + VPADDD on ymm: 32 u8·s8 per step
  DK_PEAK_AVX512_VNNI_ZMM = 1, ///< VPDPBUSD on zmm: 64 u8·s8
  DK_PEAK_AVX512_VNNI_YMM = 2, ///< VPDPBUSD on ymm, EVEX (AVX-512 VL): 32 u8·s8
  DK_PEAK_AVX_VNNI_YMM = 3,    ///< VPDPBUSD on ymm, VEX (AVX-VNNI): 32 u8·s8
  DK_PEAK_FMA_YMM = 4,         ///< VFMADD on ymm: 8 fp32
  DK_PEAK_FMA_ZMM = 5,         ///< VFMADD on zmm: 16 fp32
} dk_peak;

/// 1 when this CPU runs `peak`'s instructions.
int dk_peak_supported(dk_peak peak);
/// Runs `rounds` rounds of independent multiply-accumulate chains; returns the multiply-accumulates
/// done (0 when unsupported). The caller times it.
uint64_t dk_peak_run(dk_peak peak, uint64_t rounds);

// ---- fp32 linear layers ------------------------------------------------------------------------
//
// Weights packed once at load (sgemm_packed.c says why), in panels of 16 output columns; AVX-512,
// AVX2 + FMA and portable paths chosen at run time.

/// 1 when the AVX-512 (F and DQ) paths are in use on this CPU.
int dk_has_avx512(void);

/// Floats of packed weights for an outputs × inputs matrix (outputs rounded up to 16).
size_t dk_packed_sgemm_floats(int outputs, int inputs);

/// Packs `weights` (outputs × inputs, row-major as in PyTorch) into `packed` (dk_packed_sgemm_floats).
void dk_pack_sgemm_weights(const float *weights, int outputs, int inputs, float *packed);

/// out[r, c] = bias[c] + Σ_k x[r, k]·w[c, k] for rows × inputs `x` and the output columns
/// [column_begin, column_end); column_begin is a multiple of 16. `out` has leading dimension `ldo`.
void dk_sgemm_packed(const float *x, int rows, int inputs, const float *packed, int outputs, const float *bias,
                     float *out, int ldo, int column_begin, int column_end);

/// The instruction paths of dk_sgemm_packed.
typedef enum { DK_SGEMM_PORTABLE = 0, DK_SGEMM_AVX2 = 1, DK_SGEMM_AVX512 = 2 } dk_sgemm_path;

/// The path dk_sgemm_packed takes on this CPU.
dk_sgemm_path dk_sgemm_packed_best_path(void);

/// dk_sgemm_packed on one path, so tests can check each against the portable one; 0 (nothing
/// written) when this CPU cannot run it.
int dk_sgemm_packed_on(dk_sgemm_path path, const float *x, int rows, int inputs, const float *packed, int outputs,
                       const float *bias, float *out, int ldo, int column_begin, int column_end);

// ---- Attention ---------------------------------------------------------------------------------
//
// One head of one message, fp32 (attention.c says why it has its own AVX-512 path).

/// The paths of dk_attention_head: OpenBLAS sgemm + softmax, or Discern's own AVX-512 pass.
typedef enum { DK_ATTENTION_BLAS = 0, DK_ATTENTION_AVX512 = 1 } dk_attention_path;

/// The path dk_attention_head takes for head size `d` on this CPU (AVX-512 needs d a multiple of 16).
dk_attention_path dk_attention_best_path(int d);

/// Floats of scratch one head of n tokens and size d needs, on any path.
size_t dk_attention_scratch_floats(int n, int d);

/// out (n × d, leading dimension ldo) = softmax(scale · Q·Kᵀ) · V for one head: q, k, v point at the
/// head's first column in rows `ld` floats apart (the stacked Q|K|V rows).
void dk_attention_head(const float *q, const float *k, const float *v, int ld, int n, int d, float scale,
                       float *scratch, float *out, int ldo);

/// dk_attention_head on one path, so tests can compare them; 0 (nothing written) when this CPU or
/// this d cannot run it.
int dk_attention_head_on(dk_attention_path path, const float *q, const float *k, const float *v, int ld, int n, int d,
                         float scale, float *scratch, float *out, int ldo);

// ---- BLAS ---------------------------------------------------------------------------------------
//
// OpenBLAS loaded on first use, single-threaded (blas.c says why).

/// NULL once OpenBLAS is loaded, else why it could not be (a sentence naming the fix).
const char *dk_blas_load(void);

/// CPU features that decide OpenBLAS's kernels (dk_cpu_features), as bits.
typedef enum {
  DK_CPU_AVX2 = 1u << 0,
  DK_CPU_FMA = 1u << 1,
  DK_CPU_AVX512F = 1u << 2,
  DK_CPU_AVX512BW = 1u << 3,
  DK_CPU_AVX512VL = 1u << 4,
  DK_CPU_AVX512DQ = 1u << 5,
  DK_CPU_AVX512BF16 = 1u << 6,
  DK_CPU_AMD = 1u << 7,
} dk_cpu_feature;

/// This CPU's DK_CPU_* bits (0 off x86).
unsigned dk_cpu_features(void);

/// The OPENBLAS_CORETYPE Discern sets for a CPU with `features` (DK_CPU_* bits) when the user has
/// set none, or NULL to leave the choice to OpenBLAS (a CPU with neither AVX-512 nor AVX2 + FMA).
const char *dk_blas_core_for_features(unsigned features);

/// Who chose the kernels OpenBLAS runs.
typedef enum {
  /// The user, through OPENBLAS_CORETYPE.
  DK_BLAS_CORE_USER = 0,
  /// Discern, from the CPU's features (dk_blas_core_for_features).
  DK_BLAS_CORE_CHOSEN = 1,
  /// OpenBLAS's own detection (no AVX2 here, or not x86).
  DK_BLAS_CORE_OPENBLAS = 2,
} dk_blas_core_source;

/// The core type whose kernels the loaded OpenBLAS runs ("SkylakeX", "Haswell", "Prescott", …), as
/// openblas_get_corename says; NULL when OpenBLAS could not be loaded. Loads it if needed.
const char *dk_blas_core_name(void);

/// Who chose that core type. Loads OpenBLAS if needed.
dk_blas_core_source dk_blas_core_origin(void);

/// C = alpha · A · op(B) + beta · C, row-major; op(B) = Bᵀ when `transpose_b`.
void dk_sgemm(int transpose_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);

/// C = alpha · Aᵀ · A + beta · C (upper triangle), row-major, A is k × n.
void dk_dsyrk_upper_transposed(int n, int k, double alpha, const double *a, int lda, double beta, double *c, int ldc);

/// A fingerprint of every byte of `data`, continuing FNV-1a 64 state `value`: each 64 KiB block is
/// hashed by FNV-1a over its little-endian 8-byte words (then its tail bytes), and each block's hash
/// is mixed into `value` byte by byte. Word steps make a 90 MB model cost milliseconds at load;
/// Training/bert.py computes the same.
uint64_t dk_fingerprint_blocks(const uint8_t *data, size_t n, uint64_t value);

#ifdef __cplusplus
}
#endif

#endif
