import { type M2LossSpec, m2Loss } from '../cpu/m2Loss.ts';
import { type FloatArray, type GpuDispatch, type Kernel, MAX_WORKGROUPS_PER_DIM, f32Slot, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';

/** Invocations per row in `rows`: a row is the reconstruction (bins·marks) and the latent, about a hundred numbers. */
const ROW_WG = 64;
const COMBINE_WG = 256;

export interface M2LossParams extends Omit<M2LossSpec, 'accumulate'> {
  /** D: reconstruction width. */
  readonly features: number;
  /** Z: latent width. */
  readonly latent: number;
  readonly accumulate?: boolean;
  /** Rows of a stepLosses [rows, 1] slot that receives loss[0] after this step at row cursor[0] (as elbo's). */
  readonly stepLosses?: number;
}

/**
 * The M2 loss of one step and every gradient (formula: src/cpu/m2Loss.ts).
 * With B labeled and U unlabeled genes and N = B + 2U rows: recon [N, D],
 * x [B+U, D], mu and logvar [N, Z], logits [B+U], y [B] (read); loss [1]
 * (written, or added to with `accumulate`), dRecon [N, D], dMu and dLogvar
 * [N, Z], dLogits [B+U] (written). GPU: one workgroup per row, then one that
 * combines the rows' -ELBO; deterministic.
 */
export function m2LossKernel(p: M2LossParams): Kernel {
  const accumulate = p.accumulate === true;
  const name = `m2_loss${accumulate ? '[+=]' : ''}`;
  const { labeled: B, unlabeled: U, features: D, latent: Z } = p;
  requirePositiveInts(name, { labeled: B, unlabeled: U, features: D, latent: Z });
  for (const k of ['reconWeight', 'klWeight', 'labeledWeight', 'classWeight', 'unlabeledWeight'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] >= 0)) throw new Error(`${name}: ${k} must be finite and ≥ 0, got ${p[k]}`);
  }
  const N = B + 2 * U;
  if (N * (D + Z) > 2 ** 31) throw new Error(`${name}: ${N} rows of ${D + Z} are more than 2^31 elements`);
  const stepRows = p.stepLosses;
  if (stepRows !== undefined) requirePositiveInts(name, { stepLosses: stepRows });
  const steps = stepRows !== undefined;
  const spec: M2LossSpec = { ...p, accumulate };
  const uniforms = uniformBlock([
    ['u32', B],
    ['u32', U],
    ['u32', D],
    ['u32', Z],
    ['f32', p.reconWeight],
    ['f32', p.klWeight],
    ['f32', p.labeledWeight],
    ['f32', p.classWeight],
    ['f32', p.unlabeledWeight],
    ['u32', stepRows ?? 0],
  ]);
  const rowGrid: [number, number, number] = N <= MAX_WORKGROUPS_PER_DIM ? [N, 1, 1] : [MAX_WORKGROUPS_PER_DIM, Math.ceil(N / MAX_WORKGROUPS_PER_DIM), 1];
  return {
    name,
    slots: {
      recon: f32Slot([N, D], 'read'),
      x: f32Slot([B + U, D], 'read'),
      mu: f32Slot([N, Z], 'read'),
      logvar: f32Slot([N, Z], 'read'),
      logits: f32Slot([B + U], 'read'),
      y: f32Slot([B], 'read'),
      loss: f32Slot([1], 'read_write'),
      dRecon: f32Slot([N, D], 'read_write'),
      dMu: f32Slot([N, Z], 'read_write'),
      dLogvar: f32Slot([N, Z], 'read_write'),
      dLogits: f32Slot([B + U], 'read_write'),
      ...(steps ? { cursor: u32Slot([1], 'read'), stepLosses: f32Slot([stepRows, 1], 'read_write') } : {}),
    },
    scratch: { rowLoss: { shape: [N], dtype: 'f32' } },
    cpu: (t) =>
      m2Loss(
        spec,
        {
          recon: t.recon as FloatArray,
          x: t.x as FloatArray,
          mu: t.mu as FloatArray,
          logvar: t.logvar as FloatArray,
          logits: t.logits as FloatArray,
          y: t.y as FloatArray,
          loss: t.loss as FloatArray,
          dRecon: t.dRecon as FloatArray,
          dMu: t.dMu as FloatArray,
          dLogvar: t.dLogvar as FloatArray,
          dLogits: t.dLogits as FloatArray,
        },
        steps ? { cursor: t.cursor as Uint32Array, rows: t.stepLosses as FloatArray } : undefined,
      ),
    gpu: (): readonly GpuDispatch[] => [
      {
        shader: 'm2_loss',
        entryPoint: 'rows',
        constants: { WG: ROW_WG },
        bindings: ['recon', 'x', 'mu', 'logvar', 'logits', 'dRecon', 'dMu', 'dLogvar', 'rowLoss'],
        uniforms,
        workgroups: rowGrid,
      },
      {
        shader: 'm2_loss',
        entryPoint: 'combine',
        defines: { COMBINE: true, ACCUMULATE: accumulate, STEP_LOSSES: steps },
        constants: { WG: COMBINE_WG },
        bindings: ['rowLoss', 'logits', 'y', 'loss', 'dLogits', ...(steps ? ['cursor', 'stepLosses'] : [])],
        uniforms,
        workgroups: [1, 1, 1],
      },
    ],
  };
}
