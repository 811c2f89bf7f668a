// What a kernel may ask of the device that will run it: today, which variant
// of the GEMM core to use for one of its products. Its own file because the
// kernel contract (kernel.ts) names it and the GEMM core (gemm.ts) both builds
// on that contract and answers it; either importing the other made a circle.

export const GEMM_VARIANTS = ['register4x4', 'register8x4', 'register4x8', 'register8x8', 'tiled64', 'splitk4x4', 'reduce4x4'] as const;
export type GemmVariant = (typeof GEMM_VARIANTS)[number];

export function isGemmVariant(s: string): s is GemmVariant {
  return (GEMM_VARIANTS as readonly string[]).includes(s);
}

/** C [M, N] reduced over K. */
export interface GemmShape {
  readonly M: number;
  readonly N: number;
  readonly K: number;
}

/** What a kernel asks of the device that will run it. */
export interface GpuTarget {
  /** The variant for one GEMM; `key` names the kernel's problem exactly (family, layout and every size). */
  gemmVariant(key: string, shape: GemmShape): GemmVariant;
}
