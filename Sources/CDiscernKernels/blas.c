// OpenBLAS, loaded on first use rather than linked: a linked OpenBLAS starts its thread pool when
// the process starts, and those threads spin for a while even when no matrix is ever multiplied —
// on a two-core machine they took a tenth of a rules-only audit. Discern splits work across its own
// threads, so OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 is set before it loads).
//
// Loading late also lets Discern pick OpenBLAS's kernels. A DYNAMIC_ARCH OpenBLAS chooses them from
// a table of CPU models in its constructor (which runs inside dlopen), and a model newer than the
// build falls back to Prescott's SSE3 kernels, several times slower than the CPU's own: Debian's
// 0.3.21 did so on one of this project's AVX-512 machines. So before dlopen, unless the user has set
// OPENBLAS_CORETYPE, the core type is chosen from the CPU's features instead of its model
// (dk_blas_core_for_features).

#include "DiscernKernels.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// CBLAS's enum values (cblas.h), so this file needs no OpenBLAS headers to build.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, UPPER = 121 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*dsyrk_fn)(int, int, int, int, int, double, const double *, int, double, double *, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm;
static dsyrk_fn dsyrk;
static char failure[512];
static const char *(*corename)(void);
static dk_blas_core_source core_source = DK_BLAS_CORE_OPENBLAS;

const char *dk_blas_core_for_features(unsigned features) {
  const unsigned avx512 = DK_CPU_AVX512F | DK_CPU_AVX512BW | DK_CPU_AVX512VL | DK_CPU_AVX512DQ;
  // SkylakeX's kernels need all four AVX-512 subsets; Cooperlake's are SkylakeX's plus bf16.
  if ((features & avx512) == avx512) return (features & DK_CPU_AVX512BF16) ? "Cooperlake" : "SkylakeX";
  // Zen's kernels are Haswell's tuned for AMD's caches.
  if ((features & (DK_CPU_AVX2 | DK_CPU_FMA)) == (DK_CPU_AVX2 | DK_CPU_FMA)) return (features & DK_CPU_AMD) ? "Zen" : "Haswell";
  return NULL;
}

unsigned dk_cpu_features(void) {
  unsigned features = 0;
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks that the OS saves the AVX/AVX-512 registers (XCR0).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) features |= DK_CPU_AVX2;
  if (__builtin_cpu_supports("fma")) features |= DK_CPU_FMA;
  if (__builtin_cpu_supports("avx512f")) features |= DK_CPU_AVX512F;
  if (__builtin_cpu_supports("avx512bw")) features |= DK_CPU_AVX512BW;
  if (__builtin_cpu_supports("avx512vl")) features |= DK_CPU_AVX512VL;
  if (__builtin_cpu_supports("avx512dq")) features |= DK_CPU_AVX512DQ;
  if (__builtin_cpu_supports("avx512bf16")) features |= DK_CPU_AVX512BF16;
  if (__builtin_cpu_is("amd")) features |= DK_CPU_AMD;
#endif
  return features;
}

static void load(void) {
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const char *chosen = NULL;
  const char *requested = getenv("OPENBLAS_CORETYPE");
  if (requested && requested[0]) {
    core_source = DK_BLAS_CORE_USER;
  } else if ((chosen = dk_blas_core_for_features(dk_cpu_features()))) {
    setenv("OPENBLAS_CORETYPE", chosen, 1);
    core_source = DK_BLAS_CORE_CHOSEN;
  }
  const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
  void *library = NULL;
  for (size_t i = 0; i < sizeof names / sizeof *names && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  // OpenBLAS has read it in its constructor; a process Discern starts should not inherit a choice
  // that looks like the user's.
  if (chosen) unsetenv("OPENBLAS_CORETYPE");
  if (!library) {
    const char *reason = dlerror();
    snprintf(failure, sizeof failure, "cannot load OpenBLAS (%s); install libopenblas0 ('make deps' does)",
             reason ? reason : "not found");
    return;
  }
  sgemm = (sgemm_fn)dlsym(library, "cblas_sgemm");
  dsyrk = (dsyrk_fn)dlsym(library, "cblas_dsyrk");
  corename = (const char *(*)(void))dlsym(library, "openblas_get_corename");
  void (*set_threads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
  if (set_threads) set_threads(1);
  if (!sgemm || !dsyrk) snprintf(failure, sizeof failure, "the loaded OpenBLAS has no cblas_sgemm/cblas_dsyrk");
}

const char *dk_blas_load(void) {
  pthread_once(&once, load);
  return failure[0] ? failure : NULL;
}

const char *dk_blas_core_name(void) {
  if (dk_blas_load() || !corename) return NULL;
  return corename();
}

dk_blas_core_source dk_blas_core_origin(void) {
  dk_blas_load();
  return core_source;
}

static void require_blas(void) {
  const char *problem = dk_blas_load();
  if (problem) {
    fprintf(stderr, "error: %s\n", problem);
    abort();
  }
}

void dk_sgemm(int transpose_b, int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc) {
  require_blas();
  sgemm(ROW_MAJOR, NO_TRANS, transpose_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void dk_dsyrk_upper_transposed(int n, int k, double alpha, const double *a, int lda, double beta, double *c, int ldc) {
  require_blas();
  dsyrk(ROW_MAJOR, UPPER, TRANS, n, k, alpha, a, lda, beta, c, ldc);
}
