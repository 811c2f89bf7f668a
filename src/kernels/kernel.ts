// The contract every kernel family fulfils. A kernel is a value built once,
// at plan time, from its parameters (sizes, flags): it knows the exact shape
// and dtype of every tensor it touches, how to run on the CPU (the reference
// twin) and which WGSL dispatches do the same work on the GPU. The executors
// in src/plan run a list of these over named tensors.

import type { GpuTarget } from './gpuTarget.ts';

export type { GpuTarget };
export type { DType, FloatArray, HostArray, Shape } from '../core/tensor.ts';
export { elementCount, formatShape, requirePositiveInts, sameShape } from '../core/tensor.ts';
import type { DType, FloatArray, HostArray, Shape } from '../core/tensor.ts';
export interface TensorSpec {
  readonly shape: Shape;
  readonly dtype: DType;
}

export type Access = 'read' | 'read_write';

export interface SlotSpec extends TensorSpec {
  readonly access: Access;
}

/** One compute dispatch. Binding 0 of group 0 is the uniform block (when
 * `uniforms` is given); the named slots follow from binding 1 in order. */
export interface GpuDispatch {
  /** File name under shaders/, without the .wgsl extension. */
  readonly shader: string;
  readonly entryPoint: string;
  /** Flags for wgsl-preprocessor's #if / #elif. */
  readonly defines?: Readonly<Record<string, boolean>>;
  /** WGSL `override` constants (workgroup sizes, tile sizes). */
  readonly constants?: Readonly<Record<string, number>>;
  /** Slot (or scratch) names in binding order, starting at @binding(1). */
  readonly bindings: readonly string[];
  /** Uniform block contents, bound at @binding(0); 16-byte multiple. */
  readonly uniforms?: ArrayBuffer;
  readonly workgroups: readonly [number, number, number];
}

export interface Kernel {
  /** Family and variant, e.g. `matmul[A^T,bias,relu]`; names errors and pipelines. */
  readonly name: string;
  /** Every tensor the caller binds, keyed by slot name. */
  readonly slots: Readonly<Record<string, SlotSpec>>;
  /** Temporaries private to this call (e.g. reduction partials), GPU only;
   * a function when they depend on the variant the device runs. */
  readonly scratch?: Readonly<Record<string, TensorSpec>> | ((target: GpuTarget) => Readonly<Record<string, TensorSpec>>);
  /** The reference twin: reads and writes the slot arrays in place. */
  cpu(t: Readonly<Record<string, HostArray>>): void;
  /** The same work as WGSL dispatches, in order, for the device `target` describes. */
  gpu(target: GpuTarget): readonly GpuDispatch[];
}

/** A kernel's scratch on the device `target` describes. */
export function scratchOf(kernel: Kernel, target: GpuTarget): Readonly<Record<string, TensorSpec>> {
  const s = kernel.scratch;
  return typeof s === 'function' ? s(target) : (s ?? {});
}

export function f32Slot(shape: Shape, access: Access): SlotSpec {
  return { shape, dtype: 'f32', access };
}

export function u32Slot(shape: Shape, access: Access): SlotSpec {
  return { shape, dtype: 'u32', access };
}

/** Packs a uniform block of u32/f32 fields, padded to 16 bytes as WGSL requires. */
export function uniformBlock(fields: readonly (readonly ['u32' | 'f32' | 'i32', number])[]): ArrayBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const buf = new ArrayBuffer(bytes);
  const view = new DataView(buf);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else view.setUint32(i * 4, value, true);
  });
  return buf;
}

/** WebGPU caps each grid dimension at 65535 workgroups; large 1-D launches fold into y. */
export const MAX_WORKGROUPS_PER_DIM = 65535;

export function grid1d(invocations: number, workgroupSize: number): readonly [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= MAX_WORKGROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIM);
  if (y > MAX_WORKGROUPS_PER_DIM) throw new Error(`grid1d: ${invocations} invocations exceed the dispatch limit`);
  return [MAX_WORKGROUPS_PER_DIM, y, 1];
}
