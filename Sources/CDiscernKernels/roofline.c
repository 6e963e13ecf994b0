#include "DiscernKernels.h"

// The machine's sustained multiply-accumulate rate per instruction path: CHAINS independent
// accumulators (enough to cover each instruction's latency at full throughput) updated in a loop
// whose only work is the instruction under test. The empty asm statements tell the compiler the
// inputs change every round, so it cannot hoist or fold the arithmetic, and cost no instruction.
// Each chain multiplies its own operands where the product does not involve the accumulator
// (VPMADDUBSW): with shared operands the compiler would compute the product once for all chains.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

enum { CHAINS = 12 };

#define DK_PEAK_LOOP(vector, zero, STEP, REDUCE)                                                                     \
  vector acc[CHAINS];                                                                                               \
  for (int j = 0; j < CHAINS; j++) acc[j] = zero;                                                                   \
  for (uint64_t i = 0; i < rounds; i++) {                                                                           \
    __asm__ volatile("" : "+v"(a), "+v"(b));                                                                         \
    for (int j = 0; j < CHAINS; j++) acc[j] = STEP(acc[j], a, b);                                                   \
  }                                                                                                                 \
  for (int j = 1; j < CHAINS; j++) acc[0] = REDUCE(acc[0], acc[j]);                                                 \
  *sink = acc[0][0];

// Six chains, each with its own weights: 6 accumulators + 6 weights + the activations and the ones
// fill 14 of AVX2's 16 registers. The chain's dependency is the 1-cycle add alone.
enum { MADDUBS_CHAINS = 6 };
__attribute__((target("avx2"))) static void peak_avx2(uint64_t rounds, volatile long long *sink) {
  __m256i a = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1), w[MADDUBS_CHAINS], acc[MADDUBS_CHAINS];
  for (int j = 0; j < MADDUBS_CHAINS; j++) {
    w[j] = _mm256_set1_epi8((char)(j + 1));
    acc[j] = _mm256_setzero_si256();
  }
  for (uint64_t i = 0; i < rounds; i++) {
    __asm__ volatile("" : "+x"(a));
    for (int j = 0; j < MADDUBS_CHAINS; j++)
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, w[j]), ones));
  }
  for (int j = 1; j < MADDUBS_CHAINS; j++) acc[0] = _mm256_add_epi32(acc[0], acc[j]);
  *sink = acc[0][0];
}

__attribute__((target("avx512f,avx512vnni"))) static void peak_avx512_vnni(uint64_t rounds, volatile long long *sink) {
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
  DK_PEAK_LOOP(__m512i, _mm512_setzero_si512(), _mm512_dpbusd_epi32, _mm512_add_epi32)
}

__attribute__((target("avx512f,avx512vl,avx512vnni"))) static void peak_avx512_vnni_ymm(uint64_t rounds,
                                                                                      volatile long long *sink) {
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(5);
  DK_PEAK_LOOP(__m256i, _mm256_setzero_si256(), _mm256_dpbusd_epi32, _mm256_add_epi32)
}

__attribute__((target("avx2,avxvnni"))) static void peak_avx_vnni(uint64_t rounds, volatile long long *sink) {
  __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(5);
  DK_PEAK_LOOP(__m256i, _mm256_setzero_si256(), _mm256_dpbusd_avx_epi32, _mm256_add_epi32)
}

#define DK_FMA256(acc, a, b) _mm256_fmadd_ps(a, b, acc)
__attribute__((target("avx2,fma"))) static void peak_fma_ymm(uint64_t rounds, volatile long long *sink) {
  __m256 a = _mm256_set1_ps(0.5f), b = _mm256_set1_ps(0.25f);
  DK_PEAK_LOOP(__m256, _mm256_setzero_ps(), DK_FMA256, _mm256_add_ps)
}

#define DK_FMA512(acc, a, b) _mm512_fmadd_ps(a, b, acc)
__attribute__((target("avx512f"))) static void peak_fma_zmm(uint64_t rounds, volatile long long *sink) {
  __m512 a = _mm512_set1_ps(0.5f), b = _mm512_set1_ps(0.25f);
  DK_PEAK_LOOP(__m512, _mm512_setzero_ps(), DK_FMA512, _mm512_add_ps)
}

#include <cpuid.h>
static int has_avx512vl(void) {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512VL);
}
#endif

int dk_peak_supported(dk_peak peak) {
#if defined(__x86_64__) || defined(__i386__)
  switch (peak) {
  case DK_PEAK_AVX2_MADDUBS: return dk_kernel_supported(DK_KERNEL_AVX2);
  case DK_PEAK_AVX512_VNNI_ZMM: return dk_kernel_supported(DK_KERNEL_AVX512_VNNI);
  case DK_PEAK_AVX512_VNNI_YMM: return dk_kernel_supported(DK_KERNEL_AVX512_VNNI) && has_avx512vl();
  case DK_PEAK_AVX_VNNI_YMM: return dk_kernel_supported(DK_KERNEL_AVX_VNNI);
  case DK_PEAK_FMA_YMM: return dk_has_avx2();
  case DK_PEAK_FMA_ZMM: return dk_kernel_supported(DK_KERNEL_AVX512_VNNI);
  }
#endif
  (void)peak;
  return 0;
}

uint64_t dk_peak_run(dk_peak peak, uint64_t rounds) {
  if (!dk_peak_supported(peak)) return 0;
#if defined(__x86_64__) || defined(__i386__)
  volatile long long sink;
  // Multiply-accumulates per instruction step: bytes (int8) or floats (fp32) per register.
  switch (peak) {
  case DK_PEAK_AVX2_MADDUBS: peak_avx2(rounds, &sink); return rounds * MADDUBS_CHAINS * 32;
  case DK_PEAK_AVX512_VNNI_ZMM: peak_avx512_vnni(rounds, &sink); return rounds * CHAINS * 64;
  case DK_PEAK_AVX512_VNNI_YMM: peak_avx512_vnni_ymm(rounds, &sink); return rounds * CHAINS * 32;
  case DK_PEAK_AVX_VNNI_YMM: peak_avx_vnni(rounds, &sink); return rounds * CHAINS * 32;
  case DK_PEAK_FMA_YMM: peak_fma_ymm(rounds, &sink); return rounds * CHAINS * 8;
  case DK_PEAK_FMA_ZMM: peak_fma_zmm(rounds, &sink); return rounds * CHAINS * 16;
  }
#endif
  return 0;
}
