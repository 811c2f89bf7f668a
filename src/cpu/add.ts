import type { FloatArray } from '../core/tensor.ts';

// CPU twin of shaders/add.wgsl.
export function add(n: number, a: FloatArray, b: FloatArray, c: FloatArray): void {
  for (let i = 0; i < n; i++) c[i] = (a[i] as number) + (b[i] as number);
}
