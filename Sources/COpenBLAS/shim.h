#ifndef DISCERN_COPENBLAS_SHIM_H
#define DISCERN_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
