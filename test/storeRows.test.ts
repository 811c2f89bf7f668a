import { describe, expect, it } from 'vitest';
import { storeRowsKernel } from '../src/kernels/storeRows.ts';
import { randomArray, runBoth } from './helpers.ts';

describe('store_rows, GPU against CPU', () => {
  for (const [batch, rowSize, capacity, cursor] of [
    [1, 1, 1, 0],
    [37, 5, 129, 3],
    [64, 10, 129, 2],
    [37, 129, 100, 1],
  ] as const) {
    it(`batch=${batch} rowSize=${rowSize} capacity=${capacity} cursor=${cursor}`, async () => {
      const kernel = storeRowsKernel({ batch, rowSize, capacity });
      const src = randomArray(batch * rowSize, batch + rowSize);
      // dest starts as a known pattern: rows outside the batch must keep it.
      const dest = Float32Array.from({ length: capacity * rowSize }, (_, i) => -i);
      const r = await runBoth(kernel, { src, cursor: [cursor], dest });
      expect(Array.from(r.gpu.dest as Float32Array)).toEqual(Array.from(r.cpu.dest as Float32Array));
      const cpuDest = r.cpu.dest as Float32Array;
      const first = cursor * batch;
      for (let row = 0; row < capacity; row++) {
        for (let j = 0; j < rowSize; j++) {
          const inBatch = row >= first && row < first + batch;
          const want = inBatch ? (src[(row - first) * rowSize + j] as number) : -(row * rowSize + j);
          expect(cpuDest[row * rowSize + j]).toBe(Math.fround(want));
        }
      }
    });
  }

  it('rejects bad sizes', () => {
    expect(() => storeRowsKernel({ batch: 0, rowSize: 1, capacity: 1 })).toThrow(
      'store_rows: batch must be a positive integer, got 0',
    );
  });
});
