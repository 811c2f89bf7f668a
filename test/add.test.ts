import { describe, expect, it } from 'vitest';
import { addKernel } from '../src/kernels/add.ts';
import { AWKWARD, randomArray, runBoth } from './helpers.ts';

describe('add, GPU against CPU', () => {
  for (const n of [...AWKWARD, 70_001]) {
    it(`n=${n}`, async () => {
      const a = randomArray(n, 1);
      const b = randomArray(n, 2);
      const r = await runBoth(addKernel([n]), { a, b });
      // A single f32 addition rounds the same way everywhere: exact agreement.
      expect(Array.from(r.gpu.c as Float32Array)).toEqual(Array.from(r.cpu.c as Float32Array));
    });
  }
  it('rejects an empty shape', () => {
    expect(() => addKernel([0])).toThrow('add: shape must have at least one element');
  });
});
