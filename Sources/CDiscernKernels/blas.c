// OpenBLAS, loaded on first use rather than linked: a linked OpenBLAS starts its thread pool when
// the process starts, and those threads spin for a while even when no matrix is ever multiplied —
// on a two-core machine they took a tenth of a rules-only audit. Discern splits work across its own
// threads, so OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 is set before it loads).

#include "DiscernKernels.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// CBLAS's enum values (cblas.h), so this file needs no OpenBLAS headers to build.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, UPPER = 121 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*dsyrk_fn)(int, int, int, int, int, double, const double *, int, double, double *, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm;
static dsyrk_fn dsyrk;
static char failure[512];

static void load(void) {
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const char *names[] = {"libopenblas.so.0", "libopenblas.so"};
  void *library = NULL;
  for (size_t i = 0; i < sizeof names / sizeof *names && !library; i++) library = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    snprintf(failure, sizeof failure, "cannot load OpenBLAS (%s); install libopenblas0 ('make deps' does)",
             reason ? reason : "not found");
    return;
  }
  sgemm = (sgemm_fn)dlsym(library, "cblas_sgemm");
  dsyrk = (dsyrk_fn)dlsym(library, "cblas_dsyrk");
  void (*set_threads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
  if (set_threads) set_threads(1);
  if (!sgemm || !dsyrk) snprintf(failure, sizeof failure, "the loaded OpenBLAS has no cblas_sgemm/cblas_dsyrk");
}

const char *dk_blas_load(void) {
  pthread_once(&once, load);
  return failure[0] ? failure : NULL;
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
