// The kernels for AVX-512F (Skylake-SP and later): the 12×32 zmm GEMM micro-kernel. Compiled with -mavx512f.
#define RECSYS_ISA_NAME "avx512"
#define RECSYS_ISA_ENTRY recsys_ops_avx512
#include "kernels.inc"
