import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/store_rows.wgsl.
export function storeRows(
  batch: number,
  rowSize: number,
  capacity: number,
  src: FloatArray,
  cursor: Uint32Array,
  dest: FloatArray,
): void {
  for (let i = 0; i < batch * rowSize; i++) {
    const b = Math.floor(i / rowSize);
    const j = i % rowSize;
    const row = (cursor[0] as number) * batch + b;
    if (row >= capacity) continue;
    dest[row * rowSize + j] = src[i] as number;
  }
}
