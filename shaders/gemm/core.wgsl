// The one GEMM core, included last by each family shader (matmul.wgsl,
// conv1d.wgsl) after it has declared its operands and epilogue. The variant
// flags pick the walk; src/kernels/gemm.ts picks the flags.
#include "gemm/common"
#if GEMM_TILED
#include "gemm/tiled"
#elif GEMM_REDUCE
#include "gemm/reduce"
#elif GEMM_SUM_SPLITS
#include "gemm/splits"
#else
#include "gemm/register"
#endif
