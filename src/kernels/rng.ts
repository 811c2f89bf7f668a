import { requireSeed } from '../core/checks.ts';
import { normalFill, philoxRows } from '../cpu/philox.ts';
import { type FloatArray, type Kernel, f32Slot, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';

// Integer Box–Muller is ~2k integer operations per block of four normals,
// so a modest workgroup keeps more workgroups in flight on small draws.
const WG = 64;

/** Element indices are u32 on the GPU, four to a Philox block. */
export const MAX_RANDOM_ELEMENTS = 2 ** 30;

export interface NormalParams {
  readonly n: number;
  readonly seed: number;
}

/**
 * Standard normals. Slots: step [1] (u32, read on the GPU so that many
 * training steps can be recorded into one submit), eps [n] (written).
 * eps[i] is the normal of element i at (seed, step), identical bit for bit
 * on the GPU and the CPU; reparamForwardKernel draws the same values.
 */
export function normalKernel(p: NormalParams): Kernel {
  const name = 'rng.normal';
  requirePositiveInts(name, { n: p.n });
  requireSeed(name, p.seed);
  if (p.n > MAX_RANDOM_ELEMENTS) throw new Error(`${name}: n must be at most 2^30, got ${p.n}`);
  const { n, seed } = p;
  return {
    name,
    slots: { step: u32Slot([1], 'read'), eps: f32Slot([n], 'read_write') },
    cpu: (t) => normalFill(seed, (t.step as Uint32Array)[0] as number, t.eps as FloatArray),
    gpu: () => [
      {
        shader: 'rng',
        entryPoint: 'normal',
        constants: { WG },
        bindings: ['step', 'eps'],
        uniforms: uniformBlock([
          ['u32', n],
          ['u32', seed],
        ]),
        workgroups: grid1d(Math.ceil(n / 4), WG),
      },
    ],
  };
}

/**
 * Raw Philox4x32-10 blocks for explicit counters and keys: the known-answer
 * tests, and any user that needs uniform bits of its own layout. Slots:
 * counters [rows, 4] (u32), keys [rows, 2] (u32), blocks [rows, 4] (u32, written).
 */
export function philoxKernel(p: { readonly rows: number }): Kernel {
  const name = 'rng.philox';
  requirePositiveInts(name, { rows: p.rows });
  const { rows } = p;
  return {
    name,
    slots: {
      counters: u32Slot([rows, 4], 'read'),
      keys: u32Slot([rows, 2], 'read'),
      blocks: u32Slot([rows, 4], 'read_write'),
    },
    cpu: (t) => philoxRows(t.counters as Uint32Array, t.keys as Uint32Array, t.blocks as Uint32Array),
    gpu: () => [
      {
        shader: 'rng',
        entryPoint: 'philox',
        defines: { PHILOX: true },
        constants: { WG },
        bindings: ['counters', 'keys', 'blocks'],
        uniforms: uniformBlock([['u32', rows]]),
        workgroups: grid1d(rows, WG),
      },
    ],
  };
}
