import { describe, expect, it } from 'vitest';
import { addKernel } from '../src/kernels/add.ts';

// add's GPU-against-CPU cases are src/kernels/add.cases.ts (run by test/kernelFamilies.test.ts).

describe('add', () => {
  it('rejects an empty shape', () => {
    expect(() => addKernel([0])).toThrow('add: shape must have at least one element');
  });
});
