import { GEMM_VARIANTS, type GemmVariant, isGemmVariant } from '../kernels/gpuTarget.ts';

// How GEMM variants are chosen, as a user asks for it (flag or environment);
// apart from the tuning itself (autotune.ts, which needs node:fs for its cache)
// so that option parsing stays free of Node built-ins.

/** 'tune': measure (or read the cache); 'heuristic': no timing; a variant: that one everywhere. */
export type VariantMode = 'tune' | 'heuristic' | GemmVariant;

export const VARIANT_ENV = 'SIMPLECHROME_GEMM';

export function parseVariantMode(value: string, where: string): VariantMode {
  if (value === 'tune' || value === 'heuristic' || isGemmVariant(value)) return value;
  throw new Error(`${where}: GEMM variant must be tune, heuristic or one of ${GEMM_VARIANTS.join(', ')}; got ${JSON.stringify(value)}`);
}

/** The mode asked for: the flag if given, else $SIMPLECHROME_GEMM, else tune. */
export function variantModeFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): VariantMode {
  if (flag !== undefined) return parseVariantMode(flag, '--gemm');
  const fromEnv = env[VARIANT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return parseVariantMode(fromEnv, `$${VARIANT_ENV}`);
  return 'tune';
}
