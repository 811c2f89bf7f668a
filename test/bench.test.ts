import { describe, expect, it } from 'vitest';
import { epochOrder, syntheticData } from '../bench/lib/benchData.ts';
import { BENCH_MODELS, type BenchModel, buildOurTrainer, segmentDispatches, statsDelta } from '../bench/lib/ourTraining.ts';
import { Flags, median } from '../bench/lib/report.ts';
import { counted, installCallCounters } from '../bench/lib/webgpuCalls.ts';
import { matmulKernel } from '../src/kernels/matmul.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { singleKernelPlan } from '../src/plan/singleKernel.ts';
import { seededRandom } from '../src/util/random.ts';
import { getGpu, randomArray } from './helpers.ts';

// The machine-independent figures bench/train.ts reports, on small models:
// an epoch is one plan submit and one host read, a step is exactly the plan's
// dispatches, and the WebGPU-call counters used for TF.js agree with the
// executor's own. No timing is asserted.

const SMALL = { vaeChannels: [4, 8] as const, latent: 3, hidden: [8, 4], lstmHidden: [4, 3] as const };

async function smallTrainer(model: BenchModel, genes: number, batch: number) {
  const data = syntheticData(genes, 3, 20, 5);
  const t = await buildOurTrainer(await getGpu(), model, data, batch, 1, SMALL);
  return { data, t };
}

describe('bench counters', () => {
  for (const model of BENCH_MODELS) {
    it(`${model}: an epoch is one submit and one host read, steps × the plan's dispatches, and uploads only the order and counters`, async () => {
      const { data, t } = await smallTrainer(model, 10, 4);
      try {
        expect(t.stepsPerEpoch).toBe(3);
        const order = epochOrder(data.train, 4, seededRandom(1));
        expect(order.length).toBe(12);
        const before = { ...t.exec.stats };
        const loss = await t.epoch(order);
        expect(Number.isFinite(loss)).toBe(true);
        const d = statsDelta(t.exec.stats, before);
        const perStep = segmentDispatches(t.plan, 'train');
        const lossValues = model === 'vae' ? 3 : 1;
        expect(d).toEqual({
          submits: 1,
          hostReads: 1,
          dispatches: 3 * perStep,
          // order (u32 each), cursor, loss accumulator
          bytesUploaded: 4 * order.length + 4 + 4 * lossValues,
        });
      } finally {
        t.destroy();
      }
    });
  }

  it("one run of the train segment adds exactly the plan's dispatch count", async () => {
    const { t } = await smallTrainer('vae', 8, 4);
    try {
      const before = { ...t.exec.stats };
      await t.exec.run(1, 'train');
      const d = statsDelta(t.exec.stats, before);
      expect(d.submits).toBe(1);
      expect(d.dispatches).toBe(segmentDispatches(t.plan, 'train'));
      expect(d.dispatches).toBeGreaterThan(0);
    } finally {
      t.destroy();
    }
  });

  it('the WebGPU-call counters agree with the executor on an epoch (the loss read adds one copy submit)', async () => {
    const { data, t } = await smallTrainer('mlp', 9, 3);
    installCallCounters();
    try {
      const order = epochOrder(data.train, 3, seededRandom(2));
      const before = { ...t.exec.stats };
      const { counts } = await counted(() => t.epoch(order));
      const d = statsDelta(t.exec.stats, before);
      expect(counts.dispatches).toBe(d.dispatches);
      expect(counts.submits).toBe(d.submits + d.hostReads);
      expect(counts.hostReads).toBe(d.hostReads);
      expect(counts.bytesUploaded).toBe(d.bytesUploaded);
    } finally {
      t.destroy();
    }
  });

  it('counting windows do not nest', async () => {
    installCallCounters();
    await expect(counted(() => counted(async () => 1))).rejects.toThrow('webgpuCalls: counting windows do not nest');
  });

  it('rejects an epoch order of the wrong length, naming both lengths', async () => {
    const { t } = await smallTrainer('mlp', 10, 4);
    try {
      await expect(t.epoch(new Uint32Array(8))).rejects.toThrow('bench mlp: epoch order of 8, the plan takes 12');
    } finally {
      t.destroy();
    }
  });
});

describe('GpuExecutor.timedRun', () => {
  it('runs the same dispatches as run(), counts one submit, and reports GPU time exactly when the device has timestamps', async () => {
    const gpu = await getGpu();
    const kernel = matmulKernel({ M: 5, N: 7, K: 3 });
    const plan = singleKernelPlan(kernel);
    const a = randomArray(15, 1);
    const b = randomArray(21, 2);
    const results: Float32Array[] = [];
    for (const mode of ['run', 'timed'] as const) {
      const exec = await GpuExecutor.create(gpu, plan);
      try {
        exec.write('a', a);
        exec.write('b', b);
        exec.write('c', new Float32Array(35).fill(Number.NaN));
        if (mode === 'run') await exec.run(2);
        else {
          const t = await exec.timedRun(2);
          expect(Number.isFinite(t.wallMs)).toBe(true);
          expect(t.gpuMs === undefined).toBe(!gpu.hasTimestamps);
          expect(exec.stats.submits).toBe(1);
          expect(exec.stats.dispatches).toBe(2);
        }
        results.push((await exec.read('c')) as Float32Array);
      } finally {
        exec.destroy();
      }
    }
    expect(Array.from(results[1] as Float32Array)).toEqual(Array.from(results[0] as Float32Array));
    expect((results[0] as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('names a missing segment', async () => {
    const exec = await GpuExecutor.create(await getGpu(), singleKernelPlan(matmulKernel({ M: 2, N: 2, K: 2 })));
    try {
      await expect(exec.timedRun(1, 'nope')).rejects.toThrow('plan: no segment named "nope"');
    } finally {
      exec.destroy();
    }
  });
});

describe('bench helpers', () => {
  it('median of odd and even counts; none is an error', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('median of no values');
  });

  it('epoch orders are a permutation of the training genes wrapped to whole batches', () => {
    const order = epochOrder(Uint32Array.of(5, 6, 7, 8, 9), 2, seededRandom(4));
    expect(order.length).toBe(6);
    expect([...order.subarray(0, 5)].sort()).toEqual([5, 6, 7, 8, 9]);
    expect(order[5]).toBe(order[0]);
  });

  it('synthetic data has the real shape and rejects too few genes', () => {
    const d = syntheticData(4);
    expect(d.features.length).toBe(4 * 100 * 5);
    expect(d.real).toBe(false);
    expect(d.description).toContain('SYNTHETIC');
    expect(() => syntheticData(1)).toThrow('synthetic bench data: genes must be an integer ≥ 2, got 1');
    // --bins: fewer bins, and the description no longer claims the real shape.
    const short = syntheticData(4, 7, 12);
    expect(short.features.length).toBe(4 * 12 * 5);
    expect(short.description).toContain('12 bins × 5 marks');
    expect(short.description).not.toContain("the real data's shape");
    expect(d.description).toContain("100 bins × 5 marks (the real data's shape)");
  });

  it('flags: unknown flags, missing values and bad numbers are named', () => {
    const known = { '--reps': 'value', '--models': 'value', '--no-tfjs': 'switch' } as const;
    expect(() => new Flags('b', ['--nope'], known)).toThrow('b: unknown flag "--nope" (known: --reps, --models, --no-tfjs)');
    expect(() => new Flags('b', ['--reps'], known)).toThrow('b: --reps needs a value');
    expect(() => new Flags('b', ['--reps', '0'], known).int('--reps', 5)).toThrow('b: --reps needs an integer ≥ 1, got "0"');
    expect(() => new Flags('b', ['--models', 'vae,cnn'], known).list('--models', [], ['vae', 'mlp'])).toThrow('b: --models: unknown "cnn" (known: vae, mlp)');
    const f = new Flags('b', ['--reps', '3', '--no-tfjs'], known);
    expect(f.int('--reps', 5)).toBe(3);
    expect(f.has('--no-tfjs')).toBe(true);
  });
});
