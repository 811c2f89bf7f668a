import { type GatherSizes, gatherRows } from '../cpu/gather.ts';
import { type DType, type GpuDispatch, type HostArray, type Kernel, grid1d, requirePositiveInts, u32Slot, uniformBlock } from './kernel.ts';

// Training records many steps into one submit, so a step cannot be told its
// minibatch by the host: it finds it on the GPU from the epoch's shuffled
// order and a u32 cursor (the step within the epoch, advanced by
// counterIncrementKernel). Row b of batch `cursor` is
//   order[(cursor * batch + b) mod indexLength],
// so a cursor past the end of the order wraps around it, and a batch that
// straddles the end continues from its start. An order entry >= rows (a bad
// index) must not read out of bounds: its output row is written as zeros, on
// the GPU and in the CPU twin alike.

const WG = 256;
const U32_RANGE = 2 ** 32;

function checkSizes(kernel: string, s: GatherSizes): void {
  requirePositiveInts(kernel, { rows: s.rows, rowSize: s.rowSize, batch: s.batch, indexLength: s.indexLength });
  // The largest position before the final mod is indexLength * batch - 1.
  if (s.indexLength * s.batch > U32_RANGE) {
    throw new Error(
      `${kernel}: indexLength ${s.indexLength} × batch ${s.batch} exceeds 2^32; the cursor arithmetic is u32`,
    );
  }
  if (s.rows * s.rowSize > U32_RANGE) {
    throw new Error(`${kernel}: source of ${s.rows} × ${s.rowSize} elements exceeds the u32 index range`);
  }
  if (s.batch * s.rowSize >= U32_RANGE) {
    throw new Error(`${kernel}: output of ${s.batch} × ${s.rowSize} elements exceeds the u32 index range`);
  }
}

function dispatch(s: GatherSizes): GpuDispatch {
  const total = s.batch * s.rowSize;
  return {
    shader: 'gather',
    entryPoint: 'gather_rows',
    constants: { WG },
    bindings: ['source', 'order', 'cursor', 'out'],
    uniforms: uniformBlock([
      ['u32', s.rows],
      ['u32', s.rowSize],
      ['u32', s.batch],
      ['u32', s.indexLength],
      ['u32', total],
    ]),
    workgroups: grid1d(total, WG),
  };
}

function gatherKernel(name: string, s: GatherSizes, sourceShape: readonly number[], outShape: readonly number[], dtype: DType): Kernel {
  checkSizes(name, s);
  return {
    name,
    slots: {
      source: { shape: sourceShape, dtype, access: 'read' },
      order: u32Slot([s.indexLength], 'read'),
      cursor: u32Slot([1], 'read'),
      out: { shape: outShape, dtype, access: 'read_write' },
    },
    cpu: (t) => gatherRows(s, t.source as HostArray, t.order as Uint32Array, t.cursor as Uint32Array, t.out as HostArray),
    gpu: () => [dispatch(s)],
  };
}

/**
 * Slots: source [rows, rowSize] (f32, read: the whole training set), order
 * [indexLength] (u32, read: the epoch's shuffled row indices), cursor [1]
 * (u32, read: the step), out [batch, rowSize] (f32, written):
 * out[b, :] = source[order[(cursor·batch + b) mod indexLength], :], or zeros
 * where that order entry is >= rows.
 */
export function gatherRowsKernel(s: GatherSizes): Kernel {
  return gatherKernel('gather.rows', s, [s.rows, s.rowSize], [s.batch, s.rowSize], 'f32');
}

export interface GatherValuesSizes {
  readonly rows: number;
  readonly batch: number;
  readonly indexLength: number;
  /** dtype of source and out; default f32. */
  readonly dtype?: DType;
}

/**
 * One value per row (labels): source [rows] -> out [batch], both of `dtype`
 * (f32 or u32, default f32), with order and cursor as in gatherRowsKernel:
 * out[b] = source[order[(cursor·batch + b) mod indexLength]], or 0 where that
 * order entry is >= rows.
 */
export function gatherValuesKernel({ rows, batch, indexLength, dtype = 'f32' }: GatherValuesSizes): Kernel {
  const name = `gather.values[${String(dtype)}]`;
  if (dtype !== 'f32' && dtype !== 'u32') throw new Error(`${name}: dtype must be 'f32' or 'u32'`);
  return gatherKernel(name, { rows, rowSize: 1, batch, indexLength }, [rows], [batch], dtype);
}
