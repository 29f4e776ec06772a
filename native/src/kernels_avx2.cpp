// The kernels for AVX2 + FMA (Haswell / Zen and later). Compiled with -mavx2 -mfma.
#define RECSYS_ISA_NAME "avx2"
#define RECSYS_ISA_ENTRY recsys_ops_avx2
#include "kernels.inc"
