import { type Activation, activationCode } from '../cpu/activation.ts';
import { type MatmulSpec, matmul } from '../cpu/matmul.ts';
import {
  type FloatArray,
  type Kernel,
  MAX_WORKGROUPS_PER_DIM,
  type SlotSpec,
  f32Slot,
  requirePositiveInts,
  uniformBlock,
} from './kernel.ts';

export interface MatmulParams {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] (so op(A) = Aᵀ) instead of [M, K]. */
  readonly transA?: boolean;
  /** B is stored [N, K] (so op(B) = Bᵀ) instead of [K, N]. */
  readonly transB?: boolean;
  /** Adds a bias[N] slot, broadcast over the rows of C. */
  readonly bias?: boolean;
  /** Applied after the bias; default none. */
  readonly activation?: Activation;
  /** C += op(A)·op(B) (gradient accumulation); excludes bias and activation. */
  readonly accumulate?: boolean;
}

/** The 16x16 invocations of a workgroup in shaders/matmul.wgsl. */
const WORKGROUP_SIDE = 16;

/** Outputs per invocation along one side: the full 4 (a 64-wide tile) unless
 * the matrix is so thin that most of the tile would be idle. */
function outputsPerInvocation(extent: number): 1 | 2 | 4 {
  if (extent <= WORKGROUP_SIDE) return 1;
  if (extent <= 2 * WORKGROUP_SIDE) return 2;
  return 4;
}

function activationLabel(act: Activation): string {
  return act.kind === 'leaky_relu' ? `leaky_relu(${act.alpha})` : act.kind;
}

/**
 * C[M,N] = act(op(A)·op(B) + bias[N]), all row-major; or C += op(A)·op(B)
 * with `accumulate`. Slots: a ([M,K], or [K,M] with transA), b ([K,N], or
 * [N,K] with transB), bias ([N], only with `bias`), c ([M,N]).
 */
export function matmulKernel(p: MatmulParams): Kernel {
  requirePositiveInts('matmul', { M: p.M, N: p.N, K: p.K });
  const transA = p.transA === true;
  const transB = p.transB === true;
  const hasBias = p.bias === true;
  const accumulate = p.accumulate === true;
  const activation: Activation = p.activation ?? { kind: 'none' };
  if (accumulate && (hasBias || activation.kind !== 'none')) {
    const extras = [hasBias ? 'bias' : '', activation.kind !== 'none' ? activationLabel(activation) : '']
      .filter((s) => s !== '')
      .join(' and ');
    throw new Error(`matmul: accumulate (C += op(A)·op(B)) cannot be combined with bias or an activation, got ${extras}`);
  }
  let act: { code: number; alpha: number };
  try {
    act = activationCode(activation);
  } catch (e) {
    throw new Error(`matmul: ${(e as Error).message}`);
  }

  const variant = [
    transA ? 'A^T' : '',
    transB ? 'B^T' : '',
    hasBias ? 'bias' : '',
    activation.kind !== 'none' ? activationLabel(activation) : '',
    accumulate ? '+=' : '',
  ].filter((s) => s !== '');
  const name = variant.length > 0 ? `matmul[${variant.join(',')}]` : 'matmul';

  const { M, N, K } = p;
  const RM = outputsPerInvocation(M);
  const RN = outputsPerInvocation(N);
  const tileRows = WORKGROUP_SIDE * RM;
  const tileCols = WORKGROUP_SIDE * RN;
  const groupsY = Math.ceil(M / tileRows);
  const groupsX = Math.ceil(N / tileCols);
  if (groupsY > MAX_WORKGROUPS_PER_DIM || groupsX > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(
      `${name}: C [${M}, ${N}] needs ${groupsY} x ${groupsX} tiles of ${tileRows} x ${tileCols}, ` +
        `more than the ${MAX_WORKGROUPS_PER_DIM} workgroups a dispatch allows per dimension`,
    );
  }

  const slots: Record<string, SlotSpec> = {
    a: f32Slot(transA ? [K, M] : [M, K], 'read'),
    b: f32Slot(transB ? [N, K] : [K, N], 'read'),
  };
  if (hasBias) slots.bias = f32Slot([N], 'read');
  slots.c = f32Slot([M, N], 'read_write');

  const spec: MatmulSpec = { M, N, K, transA, transB, activation, accumulate };
  return {
    name,
    slots,
    cpu: (t) =>
      matmul(spec, t.a as FloatArray, t.b as FloatArray, hasBias ? (t.bias as FloatArray) : undefined, t.c as FloatArray),
    gpu: () => [
      {
        shader: 'matmul',
        entryPoint: 'main',
        defines: { TRANS_A: transA, TRANS_B: transB, HAS_BIAS: hasBias, ACCUMULATE: accumulate },
        constants: { ACT: act.code, ALPHA: act.alpha, RM, RN },
        bindings: hasBias ? ['a', 'b', 'bias', 'c'] : ['a', 'b', 'c'],
        uniforms: uniformBlock([
          ['u32', M],
          ['u32', N],
          ['u32', K],
        ]),
        workgroups: [groupsX, groupsY, 1],
      },
    ],
  };
}

/** A tensor of the forward product C = op(A)·op(B): its inputs or the gradient of C. */
export type MatmulOperand = 'A' | 'B' | 'dC';

export interface MatmulGradientKernel {
  readonly kernel: Kernel;
  /** The forward tensors to bind to the kernel's slots a and b; slot c receives the gradient. */
  readonly a: MatmulOperand;
  readonly b: MatmulOperand;
}

export interface MatmulBackwardParams {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
  /** Add into dA / dB (e.g. a weight used twice) instead of overwriting them. */
  readonly accumulateDA?: boolean;
  readonly accumulateDB?: boolean;
}

/**
 * The backward of C = op(A)·op(B) as two more matmuls, with dC = ∂L/∂C
 * (for a fused bias + activation, the gradient after the activation's
 * backward; the bias gradient is the column sum of dC, itself 1ᵀ·dC).
 *
 *   d op(A) = dC·op(B)ᵀ   [M,N]·[N,K]     d op(B) = op(A)ᵀ·dC   [K,M]·[M,N]
 *
 * Each gradient comes out in its operand's stored layout (dA is [K,M] when
 * transA): where the stored operand is the transpose, the product is
 * transposed instead, (XY)ᵀ = YᵀXᵀ, which swaps the roles of the two inputs.
 * Every case is a plain matmulKernel with transposes on its inputs:
 *
 *   dA = dC·B          (transB)     or  dC·Bᵀ        → [M,K]
 *   dA = op(B)·dCᵀ     (transA)                      → [K,M]
 *   dB = op(A)ᵀ·dC                                   → [K,N]
 *   dB = dCᵀ·op(A)     (transB)                      → [N,K]
 */
export function matmulBackwardKernels(p: MatmulBackwardParams): {
  readonly dA: MatmulGradientKernel;
  readonly dB: MatmulGradientKernel;
} {
  requirePositiveInts('matmul backward', { M: p.M, N: p.N, K: p.K });
  const { M, N, K } = p;
  const transA = p.transA === true;
  const transB = p.transB === true;
  const accumulateDA = p.accumulateDA === true;
  const accumulateDB = p.accumulateDB === true;

  const dA: MatmulGradientKernel = transA
    ? // [K,M] = op(B)·dCᵀ: op(B) is b read as stored (transB keeps its meaning).
      { kernel: matmulKernel({ M: K, N: M, K: N, transA: transB, transB: true, accumulate: accumulateDA }), a: 'B', b: 'dC' }
    : // [M,K] = dC·op(B)ᵀ: op(B)ᵀ is B itself when B is stored [N,K].
      { kernel: matmulKernel({ M, N: K, K: N, transA: false, transB: !transB, accumulate: accumulateDA }), a: 'dC', b: 'B' };

  const dB: MatmulGradientKernel = transB
    ? // [N,K] = dCᵀ·op(A): op(A) is A read as stored (transA keeps its meaning).
      { kernel: matmulKernel({ M: N, N: K, K: M, transA: true, transB: transA, accumulate: accumulateDB }), a: 'dC', b: 'A' }
    : // [K,N] = op(A)ᵀ·dC: op(A)ᵀ is A itself when A is stored [K,M].
      { kernel: matmulKernel({ M: K, N, K: M, transA: !transA, transB: false, accumulate: accumulateDB }), a: 'A', b: 'dC' };

  return { dA, dB };
}

/** The plan binding of a gradient kernel, given the forward's tensor names and the output's. */
export function bindMatmulGradient(
  g: MatmulGradientKernel,
  forward: Readonly<Record<MatmulOperand, string>>,
  gradient: string,
): Record<string, string> {
  return { a: forward[g.a], b: forward[g.b], c: gradient };
}
