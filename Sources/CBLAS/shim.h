// OpenBLAS through its CBLAS interface: the network's matrix products.
#ifndef CBLAS_SHIM_H
#define CBLAS_SHIM_H
#include <cblas.h>

static inline int CBLAS_row_major(void) { return CblasRowMajor; }
static inline int CBLAS_no_trans(void) { return CblasNoTrans; }
static inline int CBLAS_trans(void) { return CblasTrans; }
#endif
