// Shared by the kernels (src/kernels) and their CPU twins (src/cpu), which
// neither borrow from each other: the tensor types, and the checks every
// factory applies to its sizes.

export type DType = 'f32' | 'u32';
export type Shape = readonly number[];

/** CPU storage: f32 tensors may be held in float64 for finite-difference checks. */
export type FloatArray = Float32Array | Float64Array;
export type HostArray = FloatArray | Uint32Array;

export function elementCount(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Validates the integer sizes a kernel factory receives, naming the kernel. */
export function requirePositiveInts(kernel: string, sizes: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${kernel}: ${k} must be a positive integer, got ${v}`);
    }
  }
}

