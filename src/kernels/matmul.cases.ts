import { uniformArray as uniform } from '../util/random.ts';
import { type BenchSizes, type KernelBenchCase, type KernelCheck, type KernelFamily, activationLabel, mega, randomReadInputs } from './family.ts';
import { type MatmulParams, matmulKernel } from './matmul.ts';

export interface MatmulBenchOp {
  readonly kind: 'matmul';
  readonly params: MatmulParams;
}

export const SQUARE_SIZES = [64, 128, 256, 512, 1024, 2048] as const;

const F32 = 4;

function matmulCase(name: string, p: MatmulParams): KernelBenchCase<MatmulBenchOp> {
  const { M, N, K } = p;
  const flops = 2 * M * N * K;
  const bytes = F32 * (M * K + K * N + M * N + (p.bias ? N : 0));
  const layout = `${p.transA ? 'Aᵀ' : 'A'}·${p.transB ? 'Bᵀ' : 'B'}`;
  return {
    name,
    shape: `${M}×${K}×${N} ${layout}${p.bias ? ' +bias' : ''}${activationLabel(p.activation)}`,
    flops,
    bytes,
    bound: 'compute',
    napkin: `2·M·N·K = ${mega(flops)}FLOP; 4·(MK+KN+MN) = ${mega(bytes)}B`,
    build: () => {
      const kernel = matmulKernel(p);
      return { kernel, inputs: randomReadInputs(kernel, 11) };
    },
    output: 'c',
    op: { kind: 'matmul', params: p },
  };
}

/** Square matmuls up to `maxSquare`, then the models' own shapes at the bench's batch. */
function matmulBenchCases({ batch: B, maxSquare }: BenchSizes): KernelBenchCase<MatmulBenchOp>[] {
  const leaky = { kind: 'leaky_relu', alpha: 0.5 } as const;
  const relu = { kind: 'relu' } as const;
  return [
    ...SQUARE_SIZES.filter((n) => n <= maxSquare).map((n) => matmulCase(`square ${n}`, { M: n, N: n, K: n })),
    matmulCase('mlp fc1 forward', { M: B, K: 500, N: 256, bias: true, activation: relu }),
    matmulCase('mlp fc1 dW', { M: 500, K: B, N: 256, transA: true }),
    matmulCase('deepchrome fc1 forward', { M: B, K: 900, N: 625, bias: true, activation: relu }),
    matmulCase('vae enc.mu forward', { M: B, K: 6400, N: 10, bias: true }),
    matmulCase('vae enc.mu dW', { M: 6400, K: B, N: 10, transA: true }),
    matmulCase('vae enc.mu dX', { M: B, K: 10, N: 6400, transB: true }),
    matmulCase('vae dec.fc forward', { M: B, K: 10, N: 6400, bias: true, activation: leaky }),
  ];
}

export const matmulFamily: KernelFamily<MatmulBenchOp> = {
  name: 'matmul',
  checks: (): KernelCheck[] => [
    {
      kernel: matmulKernel({ M: 37, N: 129, K: 65, transA: true, bias: true, activation: { kind: 'relu' } }),
      inputs: { a: uniform(65 * 37, 4), b: uniform(65 * 129, 5), bias: uniform(129, 6) },
      tolerance: 1e-4,
    },
  ],
  bench: matmulBenchCases,
};
