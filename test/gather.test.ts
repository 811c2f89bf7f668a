import { describe, expect, it } from 'vitest';
import { counterIncrementKernel } from '../src/kernels/counter.ts';
import { gatherRowsKernel, gatherValuesKernel } from '../src/kernels/gather.ts';
import type { HostArray } from '../src/kernels/kernel.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { AWKWARD, getGpu, randomArray, rng, runBoth } from './helpers.ts';

// A gather is a copy, so GPU and CPU must agree bit for bit (no tolerance),
// and both must agree with the definition computed here independently, in
// exact BigInt arithmetic: out[b, :] = source[order[(cursor·batch + b) mod L], :],
// zeros where the order entry is out of range.

const MAX_U32 = 0xffffffff;

function bits(a: HostArray): Uint32Array {
  return a instanceof Uint32Array ? a : new Uint32Array(Float32Array.from(a).buffer);
}

function shuffledOrder(length: number, rows: number, seed: number): Uint32Array {
  const r = rng(seed);
  const order = new Uint32Array(length);
  for (let i = 0; i < length; i++) order[i] = i % rows;
  for (let i = length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** The definition, with the position computed exactly however large the cursor. */
function expectedGather(
  source: Float32Array | Uint32Array,
  rowSize: number,
  rows: number,
  order: Uint32Array,
  cursor: number,
  batch: number,
): Uint32Array {
  const src = bits(source);
  const out = new Uint32Array(batch * rowSize);
  for (let b = 0; b < batch; b++) {
    const position = Number((BigInt(cursor) * BigInt(batch) + BigInt(b)) % BigInt(order.length));
    const row = order[position] as number;
    if (row >= rows) continue;
    out.set(src.subarray(row * rowSize, (row + 1) * rowSize), b * rowSize);
  }
  return out;
}

describe('gather.rows, GPU against CPU and the definition, bit for bit', () => {
  for (const rows of AWKWARD) {
    for (const rowSize of [1, 5, 500]) {
      for (const batch of [1, 37, 64]) {
        it(`rows=${rows} rowSize=${rowSize} batch=${batch}`, async () => {
          const indexLength = rows;
          const source = randomArray(rows * rowSize, rows * 1000 + rowSize * 10 + batch);
          const order = shuffledOrder(indexLength, rows, rows + batch);
          const kernel = gatherRowsKernel({ rows, rowSize, batch, indexLength });
          // 0; one batch past the end of the order (wraps for every size here);
          // the largest u32, far past any epoch.
          for (const cursor of [0, Math.ceil(indexLength / batch) + 1, MAX_U32]) {
            const r = await runBoth(kernel, { source, order, cursor: [cursor] });
            const want = expectedGather(source, rowSize, rows, order, cursor, batch);
            // The output starts NaN-poisoned: every element must have been written.
            expect((r.gpu.out as Float32Array).every(Number.isFinite)).toBe(true);
            expect(bits(r.gpu.out as HostArray)).toEqual(want);
            expect(bits(r.cpu.out as HostArray)).toEqual(want);
          }
        });
      }
    }
  }

  it('an order longer than the source (repeats) and shorter (a subset)', async () => {
    const rows = 37;
    const rowSize = 5;
    const source = randomArray(rows * rowSize, 3);
    for (const indexLength of [129, 10]) {
      const order = shuffledOrder(indexLength, rows, indexLength);
      for (const cursor of [0, 1, 7, 1000]) {
        const r = await runBoth(gatherRowsKernel({ rows, rowSize, batch: 37, indexLength }), { source, order, cursor: [cursor] });
        const want = expectedGather(source, rowSize, rows, order, cursor, 37);
        expect(bits(r.gpu.out as HostArray)).toEqual(want);
        expect(bits(r.cpu.out as HostArray)).toEqual(want);
      }
    }
  });

  it('copies -0, denormals, infinities and NaN unchanged', async () => {
    const source = Float32Array.from([-0, 1e-40, -1e-45, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 3.4028234663852886e38, 1]);
    const order = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    const r = await runBoth(gatherRowsKernel({ rows: 8, rowSize: 1, batch: 8, indexLength: 8 }), { source, order, cursor: [0] });
    expect(bits(r.gpu.out as HostArray)).toEqual(bits(source));
    expect(bits(r.cpu.out as HostArray)).toEqual(bits(source));
  });

  it('an out-of-range order entry gives a row of zeros on both sides, not an out-of-bounds read', async () => {
    const rows = 37;
    const rowSize = 5;
    const source = randomArray(rows * rowSize, 4, 1, 2);
    const order = Uint32Array.from([3, rows, 0, rows + 5, MAX_U32, rows - 1]);
    const r = await runBoth(gatherRowsKernel({ rows, rowSize, batch: 6, indexLength: 6 }), { source, order, cursor: [0] });
    const gpu = r.gpu.out as Float32Array;
    expect(bits(gpu)).toEqual(bits(r.cpu.out as HostArray));
    for (const b of [1, 3, 4]) expect(Array.from(gpu.subarray(b * rowSize, (b + 1) * rowSize))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(gpu.subarray(0, rowSize))).toEqual(Array.from(source.subarray(3 * rowSize, 4 * rowSize)));
  });
});

describe('gather.values (labels), GPU against CPU and the definition', () => {
  for (const dtype of ['u32', 'f32'] as const) {
    for (const rows of AWKWARD) {
      for (const batch of [1, 37, 64]) {
        it(`${dtype} rows=${rows} batch=${batch}`, async () => {
          const r0 = rng(rows + batch);
          const source =
            dtype === 'u32'
              ? Uint32Array.from({ length: rows }, () => Math.floor(r0() * 2))
              : randomArray(rows, rows + batch);
          const order = shuffledOrder(rows, rows, batch);
          // One entry out of range: a 0 must replace the poison there.
          order[Math.floor(rows / 2)] = rows;
          const kernel = gatherValuesKernel({ rows, batch, indexLength: rows, dtype });
          for (const cursor of [0, 5, MAX_U32]) {
            const r = await runBoth(kernel, { source, order, cursor: [cursor] });
            const want = expectedGather(source, 1, rows, order, cursor, batch);
            expect(bits(r.gpu.out as HostArray)).toEqual(want);
            expect(bits(r.cpu.out as HostArray)).toEqual(want);
          }
        });
      }
    }
  }

  it('defaults to f32', () => {
    const k = gatherValuesKernel({ rows: 4, batch: 2, indexLength: 4 });
    expect(k.name).toBe('gather.values[f32]');
    expect(k.slots.source).toEqual({ shape: [4], dtype: 'f32', access: 'read' });
    expect(k.slots.out).toEqual({ shape: [2], dtype: 'f32', access: 'read_write' });
  });
});

describe('gather inside a plan: the cursor advances on the GPU', () => {
  const rows = 37;
  const rowSize = 5;
  const batch = 8;

  function epochPlan(): Plan {
    const plan = new Plan();
    plan.tensor('features', [rows, rowSize]);
    plan.tensor('labels', [rows], 'u32');
    plan.tensor('order', [rows], 'u32');
    plan.tensor('step', [1], 'u32');
    plan.tensor('x', [batch, rowSize]);
    plan.tensor('y', [batch], 'u32');
    const sizes = { rows, batch, indexLength: rows };
    plan.call(gatherRowsKernel({ ...sizes, rowSize }), { source: 'features', order: 'order', cursor: 'step', out: 'x' });
    plan.call(gatherValuesKernel({ ...sizes, dtype: 'u32' }), { source: 'labels', order: 'order', cursor: 'step', out: 'y' });
    plan.call(counterIncrementKernel(), { step: 'step' });
    return plan;
  }

  const features = randomArray(rows * rowSize, 9);
  const labels = Uint32Array.from({ length: rows }, (_, i) => i * 3);
  const order = shuffledOrder(rows, rows, 10);

  it('one step per run visits the epoch in order, wrapping in the last batch', async () => {
    const plan = epochPlan();
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    try {
      for (const [name, data] of [['features', features], ['labels', labels], ['order', order], ['step', [0]]] as const) {
        gpu.write(name, data);
      }
      const steps = Math.ceil(rows / batch);
      const seen = new Set<number>();
      for (let s = 0; s < steps; s++) {
        await gpu.run();
        expect(bits(await gpu.read('x'))).toEqual(expectedGather(features, rowSize, rows, order, s, batch));
        const y = await gpu.read('y');
        expect(y).toEqual(expectedGather(labels, 1, rows, order, s, batch));
        for (const v of y) seen.add(v / 3);
      }
      // 5 batches of 8 cover all 37 rows; the last 3 wrap to the epoch's start.
      expect(seen.size).toBe(rows);
      expect(Array.from(await gpu.read('step'))).toEqual([steps]);
    } finally {
      gpu.destroy();
    }
  });

  it('many steps recorded into one submit end on the last step’s batch, like the CPU run step by step', async () => {
    const plan = epochPlan();
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    const cpu = new CpuExecutor(plan);
    try {
      for (const exec of [gpu, cpu]) {
        exec.write('features', features);
        exec.write('labels', labels);
        exec.write('order', order);
        exec.write('step', [MAX_U32 - 2]);
      }
      // The counter wraps from 2^32 - 1 to 0 halfway: the cursor arithmetic must not care.
      const repeat = 6;
      await gpu.run(repeat);
      for (let r = 0; r < repeat; r++) cpu.run();
      expect(gpu.stats.submits).toBe(1);
      const lastCursor = (MAX_U32 - 2 + repeat - 1) % 2 ** 32;
      const want = expectedGather(features, rowSize, rows, order, lastCursor, batch);
      expect(bits(await gpu.read('x'))).toEqual(want);
      expect(bits(cpu.read('x'))).toEqual(want);
      expect(await gpu.read('y')).toEqual(cpu.read('y'));
      expect(Array.from(await gpu.read('step'))).toEqual([lastCursor + 1]);
    } finally {
      gpu.destroy();
    }
  });
});

describe('gather rejects bad parameters and misshapen tensors', () => {
  it('sizes must be positive integers', () => {
    expect(() => gatherRowsKernel({ rows: 0, rowSize: 5, batch: 4, indexLength: 4 })).toThrow(
      'gather.rows: rows must be a positive integer, got 0',
    );
    expect(() => gatherRowsKernel({ rows: 4, rowSize: 1.5, batch: 4, indexLength: 4 })).toThrow(
      'gather.rows: rowSize must be a positive integer, got 1.5',
    );
    expect(() => gatherRowsKernel({ rows: 4, rowSize: 5, batch: -1, indexLength: 4 })).toThrow(
      'gather.rows: batch must be a positive integer, got -1',
    );
    expect(() => gatherValuesKernel({ rows: 4, batch: 2, indexLength: Number.NaN })).toThrow(
      'gather.values[f32]: indexLength must be a positive integer, got NaN',
    );
  });

  it('sizes whose index arithmetic would overflow u32', () => {
    expect(() => gatherRowsKernel({ rows: 10, rowSize: 1, batch: 2 ** 16 + 1, indexLength: 2 ** 16 })).toThrow(
      'gather.rows: indexLength 65536 × batch 65537 exceeds 2^32; the cursor arithmetic is u32',
    );
    expect(() => gatherRowsKernel({ rows: 2 ** 20, rowSize: 2 ** 13, batch: 1, indexLength: 1 })).toThrow(
      'gather.rows: source of 1048576 × 8192 elements exceeds the u32 index range',
    );
    expect(() => gatherRowsKernel({ rows: 1, rowSize: 2 ** 16, batch: 2 ** 16, indexLength: 1 })).toThrow(
      'gather.rows: output of 65536 × 65536 elements exceeds the u32 index range',
    );
  });

  it('dtype must be f32 or u32', () => {
    const dtype = 'i32' as unknown as 'u32';
    expect(() => gatherValuesKernel({ rows: 4, batch: 2, indexLength: 4, dtype })).toThrow(
      "gather.values[i32]: dtype must be 'f32' or 'u32'",
    );
  });

  it('a wrong-shaped or wrong-dtype tensor bound in a plan names the tensor and both shapes', () => {
    const plan = new Plan();
    plan.tensor('features', [37, 5]);
    plan.tensor('epochOrder', [36], 'u32');
    plan.tensor('orderF32', [37]);
    plan.tensor('step', [1], 'u32');
    plan.tensor('x', [8, 5]);
    plan.tensor('labels', [37]);
    plan.tensor('y', [8]);
    const kernel = gatherRowsKernel({ rows: 37, rowSize: 5, batch: 8, indexLength: 37 });
    expect(() => plan.call(kernel, { source: 'features', order: 'epochOrder', cursor: 'step', out: 'x' })).toThrow(
      'gather.rows: tensor "epochOrder" (slot "order") has shape [36], the kernel expects [37]',
    );
    expect(() => plan.call(kernel, { source: 'features', order: 'orderF32', cursor: 'step', out: 'x' })).toThrow(
      'gather.rows: tensor "orderF32" (slot "order") is f32, the kernel expects u32',
    );
    const wideRows = gatherRowsKernel({ rows: 37, rowSize: 6, batch: 8, indexLength: 36 });
    expect(() => plan.call(wideRows, { source: 'features', order: 'epochOrder', cursor: 'step', out: 'x' })).toThrow(
      'gather.rows: tensor "features" (slot "source") has shape [37, 5], the kernel expects [37, 6]',
    );
    const u32Labels = gatherValuesKernel({ rows: 37, batch: 8, indexLength: 36, dtype: 'u32' });
    expect(() => plan.call(u32Labels, { source: 'labels', order: 'epochOrder', cursor: 'step', out: 'y' })).toThrow(
      'gather.values[u32]: tensor "labels" (slot "source") is f32, the kernel expects u32',
    );
  });
});
