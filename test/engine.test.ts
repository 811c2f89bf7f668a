import { describe, expect, it } from 'vitest';
import { acquireGpu } from '../src/gpu/device.ts';
import { GpuDeviceLostError } from '../src/gpu/errors.ts';
import { preprocess } from '../src/gpu/shaders.ts';
import { activationForwardKernel } from '../src/kernels/activation.ts';
import { type Kernel, f32Slot, grid1d } from '../src/kernels/kernel.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { getGpu, maxRelError } from './helpers.ts';

function fixtureKernel(shader: string, n = 8): Kernel {
  return {
    name: `fixture.${shader}`,
    slots: { y: f32Slot([n], 'read_write') },
    cpu: () => {},
    gpu: () => [{ shader: `../test/fixtures/${shader}`, entryPoint: 'main', bindings: ['y'], workgroups: grid1d(n, 64) }],
  };
}

describe('plan checks shapes once, before anything runs', () => {
  const relu = activationForwardKernel({ kind: 'relu' }, [4, 5]);

  it('names the tensor and both shapes on a mismatch', () => {
    const plan = new Plan();
    plan.tensor('hidden', [4, 5]);
    plan.tensor('out', [5, 4]);
    expect(() => plan.call(relu, { x: 'hidden', y: 'out' })).toThrow(
      'activation.forward[relu]: tensor "out" (slot "y") has shape [5, 4], the kernel expects [4, 5]',
    );
  });

  it('rejects unbound slots, unknown slots, unknown tensors and wrong dtypes', () => {
    const plan = new Plan();
    plan.tensor('x', [4, 5]);
    plan.tensor('idx', [4, 5], 'u32');
    expect(() => plan.call(relu, { x: 'x' })).toThrow('activation.forward[relu]: slot "y" is not bound');
    expect(() => plan.call(relu, { x: 'x', y: 'x', z: 'x' })).toThrow('activation.forward[relu]: has no slot "z"');
    expect(() => plan.call(relu, { x: 'x', y: 'nope' })).toThrow('slot "y" is bound to unknown tensor "nope"');
    expect(() => plan.call(relu, { x: 'x', y: 'idx' })).toThrow('tensor "idx" (slot "y") is u32, the kernel expects f32');
  });

  it('rejects bad tensors and views', () => {
    const plan = new Plan();
    expect(() => plan.tensor('bad', [3, 0])).toThrow('plan: tensor "bad" has an invalid shape [3, 0]');
    plan.tensor('params', [200]);
    expect(() => plan.tensor('params', [1])).toThrow('plan: tensor "params" is declared twice');
    expect(() => plan.view('w', 'params', 10, [4])).toThrow('offset 10 is not a multiple of 64 elements');
    expect(() => plan.view('w', 'params', 128, [100])).toThrow('plan: view "w" [100] at offset 128 runs past "params" of 200 elements');
  });

  it('rejects writes of the wrong length on both executors', async () => {
    const plan = new Plan();
    plan.tensor('x', [4, 5]);
    plan.tensor('y', [4, 5]);
    plan.call(relu, { x: 'x', y: 'y' });
    expect(() => new CpuExecutor(plan).write('x', new Float32Array(19))).toThrow(
      'write "x": got 19 values, tensor [4, 5] holds 20',
    );
    const exec = await GpuExecutor.create(await getGpu(), plan);
    try {
      expect(() => exec.write('x', new Float32Array(21))).toThrow('write "x": got 21 values, tensor [4, 5] holds 20');
    } finally {
      exec.destroy();
    }
  });
});

describe('views share storage on both executors', () => {
  it('a kernel writing through a view lands in the root tensor', async () => {
    const plan = new Plan();
    plan.tensor('input', [37]);
    plan.tensor('arena', [192]);
    plan.view('b', 'arena', 64, [37]);
    plan.view('b2d', 'b', 0, [1, 37]);
    plan.tensor('out', [1, 37]);
    plan.call(activationForwardKernel({ kind: 'relu' }, [37]), { x: 'input', y: 'b' });
    plan.call(activationForwardKernel({ kind: 'tanh' }, [1, 37]), { x: 'b2d', y: 'out' });
    const x = Float32Array.from({ length: 37 }, (_, i) => i - 18);
    const cpu = new CpuExecutor(plan);
    cpu.write('input', x);
    cpu.run();
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    try {
      gpu.write('arena', new Float32Array(192).fill(Number.NaN));
      gpu.write('input', x);
      await gpu.run();
      const arena = await gpu.read('arena');
      expect(Array.from(arena.subarray(64, 101))).toEqual(Array.from(x, (v) => Math.max(v, 0)));
      expect(Number.isNaN(arena[63])).toBe(true);
      expect(Number.isNaN(arena[101])).toBe(true);
      // tanh may differ by an ulp between the GPU and JavaScript's Math.tanh.
      expect(maxRelError(await gpu.read('out'), cpu.read('out'))).toBeLessThanOrEqual(1e-6);
    } finally {
      gpu.destroy();
    }
  });

  it('refuses a call that reads and writes views of one tensor', () => {
    const plan = new Plan();
    plan.tensor('arena', [128]);
    plan.view('a', 'arena', 0, [37]);
    plan.view('b', 'arena', 64, [37]);
    expect(() => plan.call(activationForwardKernel({ kind: 'relu' }, [37]), { x: 'a', y: 'b' })).toThrow(
      'activation.forward[relu]: slots "x", "y" (written) all live in tensor "arena"',
    );
  });
});

describe('GPU errors fail loudly with the kernel name', () => {
  it('a WGSL compile error names the kernel, the file and the line', async () => {
    const plan = new Plan();
    plan.tensor('y', [8]);
    plan.call(fixtureKernel('broken'), { y: 'y' });
    const err = await GpuExecutor.create(await getGpu(), plan).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/fixture\.broken \(shaders\/\.\.\/test\/fixtures\/broken\.wgsl, entry main\)/);
    expect(err?.message).toMatch(/:6:\d+ error: unresolved call target 'undefined_function'/);
  });

  it('a binding declared differently in WGSL and in the kernel is a named validation error', async () => {
    const plan = new Plan();
    plan.tensor('y', [8]);
    plan.call(fixtureKernel('mismatched'), { y: 'y' });
    await expect(GpuExecutor.create(await getGpu(), plan)).rejects.toThrow(
      /creating pipeline fixture\.mismatched .*GPUValidationError/s,
    );
  });

  it('an unknown #if flag is refused before compiling', () => {
    expect(() => preprocess('activation', '#if FORWARD\nx\n#endif\n', { FORWRD: true })).toThrow(
      'shader "activation": flag FORWRD is not used by the file',
    );
  });

  it('a lost device is reported, never waited on', async () => {
    const gpu = await acquireGpu({ log: () => {} });
    const plan = new Plan();
    plan.tensor('x', [8]);
    plan.tensor('y', [8]);
    plan.call(activationForwardKernel({ kind: 'relu' }, [8]), { x: 'x', y: 'y' });
    const exec = await GpuExecutor.create(gpu, plan);
    gpu.destroy();
    await gpu.lost;
    await expect(exec.run()).rejects.toBeInstanceOf(GpuDeviceLostError);
    await expect(exec.read('y')).rejects.toThrow(/GPU device lost before reading tensor "y": destroyed/);
  });
});

describe('segments run parts of one plan over the same tensors', () => {
  it('runs each segment alone, on both executors', async () => {
    const plan = new Plan();
    plan.tensor('x', [5]);
    plan.tensor('a', [5]);
    plan.tensor('b', [5]);
    plan.segment('first');
    plan.call(activationForwardKernel({ kind: 'relu' }, [5]), { x: 'x', y: 'a' });
    plan.segment('second');
    plan.call(activationForwardKernel({ kind: 'none' }, [5]), { x: 'a', y: 'b' });
    expect(() => plan.range('third')).toThrow('plan: no segment named "third" (have: first, second)');
    const x = [-2, -1, 0, 1, 2];
    const cpu = new CpuExecutor(plan);
    const gpu = await GpuExecutor.create(await getGpu(), plan);
    try {
      for (const e of [cpu, gpu]) {
        e.write('x', x);
        e.write('b', [9, 9, 9, 9, 9]);
      }
      cpu.run(1, 'first');
      await gpu.run(1, 'first');
      expect(Array.from(cpu.read('b'))).toEqual([9, 9, 9, 9, 9]);
      expect(Array.from(await gpu.read('b'))).toEqual([9, 9, 9, 9, 9]);
      cpu.run(1, 'second');
      await gpu.run(1, 'second');
      expect(Array.from(cpu.read('b'))).toEqual([0, 0, 0, 1, 2]);
      expect(Array.from(await gpu.read('b'))).toEqual([0, 0, 0, 1, 2]);
      expect(gpu.stats.dispatches).toBe(2);
      expect(gpu.stats.submits).toBe(2);
    } finally {
      gpu.destroy();
    }
  });
});
