import { type Activation, activationCode } from '../core/activation.ts';
import { type MatmulSpec, matmul } from '../cpu/matmul.ts';
import { type GemmFrontend, gemmDispatches, gemmParams, gemmScratch } from './gemm.ts';
import type { GemmShape } from './gpuTarget.ts';
import { type FloatArray, type Kernel, MAX_WORKGROUPS_PER_DIM, type SlotSpec, f32Slot, requirePositiveInts } from './kernel.ts';

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
  /** Gate operand A or B by act'(y) (slot gate, y stored like that operand), `activation`
   * naming the activation; the epilogue then applies none. A dense layer's backward. */
  readonly gate?: 'A' | 'B';
  /** Also db[N] = Σ_k op(B)[k, :] (slot db): a dense layer's bias gradient in its weight-gradient pass. */
  readonly biasGrad?: boolean;
}

function activationLabel(act: Activation): string {
  return act.kind === 'leaky_relu' ? `leaky_relu(${act.alpha})` : act.kind;
}

/**
 * C[M,N] = act(op(A)·op(B) + bias[N]), all row-major; or C += op(A)·op(B)
 * with `accumulate`. Slots: a ([M,K], or [K,M] with transA), b ([K,N], or
 * [N,K] with transB), bias ([N], only with `bias`), gate (stored like the
 * gated operand, only with `gate`), c ([M,N]), db ([N], only with `biasGrad`).
 * Runs on the GEMM core (src/kernels/gemm.ts) in whichever variant the
 * device's GpuTarget picks.
 * Napkin math: 2·M·N·K FLOPs over 4·(MK + KN + MN) bytes at the least.
 */
export function matmulKernel(p: MatmulParams): Kernel {
  requirePositiveInts('matmul', { M: p.M, N: p.N, K: p.K });
  const transA = p.transA === true;
  const transB = p.transB === true;
  const hasBias = p.bias === true;
  const accumulate = p.accumulate === true;
  const biasGrad = p.biasGrad === true;
  const gate = p.gate;
  const activation: Activation = p.activation ?? { kind: 'none' };
  if (accumulate && (hasBias || (activation.kind !== 'none' && gate === undefined))) {
    const extras = [hasBias ? 'bias' : '', activation.kind !== 'none' ? activationLabel(activation) : '']
      .filter((s) => s !== '')
      .join(' and ');
    throw new Error(`matmul: accumulate (C += op(A)·op(B)) cannot be combined with bias or an activation, got ${extras}`);
  }
  if (gate !== undefined && gate !== 'A' && gate !== 'B') {
    throw new Error(`matmul: gate must be 'A' or 'B', got ${JSON.stringify(gate)}`);
  }
  if (gate !== undefined && (hasBias || activation.kind === 'none')) {
    throw new Error(`matmul: a gated operand (gate ${gate}) needs the activation whose derivative gates it and no bias`);
  }
  if (biasGrad && hasBias) throw new Error('matmul: biasGrad (db = column sums of op(B)) cannot be combined with a forward bias');
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
    gate !== undefined ? `gate${gate}(${activationLabel(activation)})` : activation.kind !== 'none' ? activationLabel(activation) : '',
    accumulate ? '+=' : '',
    biasGrad ? '+db' : '',
  ].filter((s) => s !== '');
  const name = variant.length > 0 ? `matmul[${variant.join(',')}]` : 'matmul';

  const { M, N, K } = p;
  // The largest workgroups cover 64 rows and 64 columns; smaller ones refuse larger shapes in gpu().
  for (const [what, extent] of [['rows', M + (biasGrad ? 1 : 0)], ['columns', N]] as const) {
    if (Math.ceil(extent / 64) > MAX_WORKGROUPS_PER_DIM) {
      throw new Error(
        `${name}: C [${M}, ${N}] has ${extent} ${what}, more than 64 x ${MAX_WORKGROUPS_PER_DIM} ` +
          `(the outputs a dispatch reaches in one dimension with 64 per workgroup)`,
      );
    }
  }
  const slots: Record<string, SlotSpec> = {
    a: f32Slot(transA ? [K, M] : [M, K], 'read'),
    b: f32Slot(transB ? [N, K] : [K, N], 'read'),
  };
  if (hasBias) slots.bias = f32Slot([N], 'read');
  if (gate === 'A') slots.gate = f32Slot(transA ? [K, M] : [M, K], 'read');
  if (gate === 'B') slots.gate = f32Slot(transB ? [N, K] : [K, N], 'read');
  slots.c = f32Slot([M, N], 'read_write');
  if (biasGrad) slots.db = f32Slot([N], 'read_write');

  // The bias gradient is one more row of the GEMM (a row of ones in op(A)).
  const shape: GemmShape = { M: biasGrad ? M + 1 : M, N, K };
  const key = `${name}|M${M},N${N},K${K}`;
  const frontend: GemmFrontend = {
    shader: 'matmul',
    defines: {
      TRANS_A: transA,
      TRANS_B: transB,
      // Four values of a row at once where rows are contiguous along the read dimension and 4-aligned.
      A_VEC4: !transA && K % 4 === 0,
      B_VEC4: !transB && N % 4 === 0,
      HAS_BIAS: hasBias,
      ACCUMULATE: accumulate,
      GATE_A: gate === 'A',
      GATE_B: gate === 'B',
      BIAS_GRAD_ROW: biasGrad,
    },
    constants: { ACT: act.code, ALPHA: act.alpha },
    bindings: [...Object.keys(slots)],
    uniforms: (splitLen, splits) => gemmParams(shape, splitLen, splits, [['u32', M]]),
  };
  const spec: MatmulSpec = { M, N, K, transA, transB, activation, accumulate, gate, biasGradRow: biasGrad };
  return {
    name,
    slots,
    scratch: (target) => gemmScratch(shape, target.gemmVariant(key, shape)),
    cpu: (t) =>
      matmul(
        spec,
        t.a as FloatArray,
        t.b as FloatArray,
        hasBias ? (t.bias as FloatArray) : undefined,
        t.c as FloatArray,
        gate !== undefined ? (t.gate as FloatArray) : undefined,
        biasGrad ? (t.db as FloatArray) : undefined,
      ),
    gpu: (target) => gemmDispatches(name, shape, target.gemmVariant(key, shape), frontend),
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
  /** The forward had this activation after the product: both gradient kernels
   * gate dC (then dL/dy) by act'(y) as they load it, y bound to slot gate. */
  readonly gate?: Activation;
  /** The dB kernel also writes db = Σ_rows dC (slot db): the forward's bias gradient. Needs B stored [K,N]. */
  readonly biasGrad?: boolean;
}

/**
 * The backward of C = op(A)·op(B) as two more matmuls, with dC = ∂L/∂C
 * (with `gate`, dC = dL/dy · act'(y) formed as the kernels load it; with
 * `biasGrad`, the bias gradient 1ᵀ·dC comes out of the dB kernel).
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
  const biasGrad = p.biasGrad === true;
  if (biasGrad && transB) throw new Error('matmul backward: biasGrad needs B stored [K, N] (transB false)');
  // dC is operand A of the product when it is read as stored, operand B when read transposed.
  const gated = (dcIs: 'A' | 'B'): Partial<MatmulParams> =>
    p.gate !== undefined && p.gate.kind !== 'none' ? { gate: dcIs, activation: p.gate } : {};

  const dA: MatmulGradientKernel = transA
    ? // [K,M] = op(B)·dCᵀ: op(B) is b read as stored (transB keeps its meaning).
      { kernel: matmulKernel({ M: K, N: M, K: N, transA: transB, transB: true, accumulate: accumulateDA, ...gated('B') }), a: 'B', b: 'dC' }
    : // [M,K] = dC·op(B)ᵀ: op(B)ᵀ is B itself when B is stored [N,K].
      { kernel: matmulKernel({ M, N: K, K: N, transA: false, transB: !transB, accumulate: accumulateDA, ...gated('A') }), a: 'dC', b: 'B' };

  const dB: MatmulGradientKernel = transB
    ? // [N,K] = dCᵀ·op(A): op(A) is A read as stored (transA keeps its meaning).
      { kernel: matmulKernel({ M: N, N: K, K: M, transA: true, transB: transA, accumulate: accumulateDB, ...gated('A') }), a: 'dC', b: 'A' }
    : // [K,N] = op(A)ᵀ·dC: op(A)ᵀ is A itself when A is stored [K,M].
      {
        kernel: matmulKernel({ M: K, N, K: M, transA: !transA, transB: false, accumulate: accumulateDB, biasGrad, ...gated('B') }),
        a: 'A',
        b: 'dC',
      };

  return { dA, dB };
}

/** The plan binding of a gradient kernel, given the forward's tensor names and the output's;
 * `extra` binds the gate (the forward output y) and db when the kernel has those slots. */
export function bindMatmulGradient(
  g: MatmulGradientKernel,
  forward: Readonly<Record<MatmulOperand, string>>,
  gradient: string,
  extra: { readonly gate?: string; readonly db?: string } = {},
): Record<string, string> {
  const bind: Record<string, string> = { a: forward[g.a], b: forward[g.b], c: gradient };
  if ('gate' in g.kernel.slots) {
    if (extra.gate === undefined) throw new Error(`${g.kernel.name}: the gradient is gated, bind the forward output as gate`);
    bind.gate = extra.gate;
  }
  if ('db' in g.kernel.slots) {
    if (extra.db === undefined) throw new Error(`${g.kernel.name}: the kernel writes the bias gradient, bind db`);
    bind.db = extra.db;
  }
  return bind;
}
