import type { HostArray } from '../core/tensor.ts';

// CPU twin of shaders/gather.wgsl: the same index arithmetic, one loop
// iteration per GPU invocation. Values are copied as they are (the GPU copies
// their bits), so f32 and u32 tensors go through the same code.

export interface GatherSizes {
  /** Rows in the source tensor. */
  readonly rows: number;
  /** Elements per row (1 for a per-row value such as a label). */
  readonly rowSize: number;
  /** Rows gathered per call. */
  readonly batch: number;
  /** Length of the order (index) tensor. */
  readonly indexLength: number;
}

export function gatherRows(
  s: GatherSizes,
  source: HostArray,
  order: Uint32Array,
  cursor: Uint32Array,
  out: HostArray,
): void {
  const total = s.batch * s.rowSize;
  for (let i = 0; i < total; i++) {
    const k = i % s.rowSize;
    const b = Math.floor(i / s.rowSize);
    const start = ((cursor[0] as number) % s.indexLength) * s.batch;
    const position = (start + b) % s.indexLength;
    const row = order[position] as number;
    let value = 0;
    if (row < s.rows) value = source[row * s.rowSize + k] as number;
    out[i] = value;
  }
}
