import {
  type DType,
  type Kernel,
  type Shape,
  elementCount,
  formatShape,
  sameShape,
} from '../kernels/kernel.ts';

// A plan is the static program both executors run: named tensors whose shapes
// are fixed up front, and an ordered list of kernel calls binding each kernel
// slot to one of those tensors. Every shape is checked here, once, so that
// nothing wrong can reach a dispatch.

/** WebGPU binds storage buffers at offsets that are multiples of 256 bytes. */
export const VIEW_ALIGN_ELEMENTS = 64;

export interface PlannedTensor {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Set when this tensor is a window into another one (e.g. a layer's weights in the flat parameter buffer). */
  readonly view?: { readonly parent: string; readonly offset: number };
}

export interface PlannedCall {
  readonly kernel: Kernel;
  /** slot name -> tensor name */
  readonly bind: Readonly<Record<string, string>>;
}

/** A contiguous range of calls that can be run on its own (a training step,
 * a prediction pass), all over the same tensors. */
export interface Segment {
  readonly start: number;
  readonly end: number;
}

export class Plan {
  private readonly tensorsByName = new Map<string, PlannedTensor>();
  private readonly callList: PlannedCall[] = [];
  private readonly segmentsByName = new Map<string, { start: number; end: number }>();
  private openSegment: string | undefined;

  get tensors(): ReadonlyMap<string, PlannedTensor> {
    return this.tensorsByName;
  }

  get calls(): readonly PlannedCall[] {
    return this.callList;
  }

  /** Calls appended from now until the next `segment()` belong to `name`. */
  segment(name: string): void {
    if (this.segmentsByName.has(name)) throw new Error(`plan: segment "${name}" is declared twice`);
    this.openSegment = name;
    this.segmentsByName.set(name, { start: this.callList.length, end: this.callList.length });
  }

  /** The calls of one segment, or of the whole plan when `name` is undefined. */
  range(name?: string): Segment {
    if (name === undefined) return { start: 0, end: this.callList.length };
    const s = this.segmentsByName.get(name);
    if (!s) throw new Error(`plan: no segment named "${name}" (have: ${[...this.segmentsByName.keys()].join(', ') || 'none'})`);
    return s;
  }

  tensor(name: string, shape: Shape, dtype: DType = 'f32'): string {
    if (this.tensorsByName.has(name)) throw new Error(`plan: tensor "${name}" is declared twice`);
    if (!shape.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`plan: tensor "${name}" has an invalid shape ${formatShape(shape)}`);
    }
    this.tensorsByName.set(name, { name, shape, dtype, size: elementCount(shape) });
    return name;
  }

  /** A tensor that shares storage with `parent` from element `offset` on; with offset 0 and
   * the parent's size it is a reshape. */
  view(name: string, parent: string, offset: number, shape: Shape): string {
    const p = this.get(parent);
    if (offset % VIEW_ALIGN_ELEMENTS !== 0) {
      throw new Error(`plan: view "${name}" offset ${offset} is not a multiple of ${VIEW_ALIGN_ELEMENTS} elements`);
    }
    const size = elementCount(shape);
    if (offset < 0 || offset + size > p.size) {
      throw new Error(
        `plan: view "${name}" ${formatShape(shape)} at offset ${offset} runs past "${parent}" of ${p.size} elements`,
      );
    }
    if (this.tensorsByName.has(name)) throw new Error(`plan: tensor "${name}" is declared twice`);
    // Views of views resolve to the root, so executors only ever allocate roots.
    const root = p.view ? { parent: p.view.parent, offset: p.view.offset + offset } : { parent, offset };
    this.tensorsByName.set(name, { name, shape, dtype: p.dtype, size, view: root });
    return name;
  }

  get(name: string): PlannedTensor {
    const t = this.tensorsByName.get(name);
    if (!t) throw new Error(`plan: no tensor named "${name}"`);
    return t;
  }

  /** Appends a kernel call; throws if any binding is missing, unknown or misshapen. */
  call(kernel: Kernel, bind: Readonly<Record<string, string>>): void {
    for (const slot of Object.keys(bind)) {
      if (!(slot in kernel.slots)) throw new Error(`${kernel.name}: has no slot "${slot}"`);
    }
    for (const [slot, spec] of Object.entries(kernel.slots)) {
      const name = bind[slot];
      if (name === undefined) throw new Error(`${kernel.name}: slot "${slot}" is not bound`);
      const t = this.tensorsByName.get(name);
      if (!t) throw new Error(`${kernel.name}: slot "${slot}" is bound to unknown tensor "${name}"`);
      if (t.dtype !== spec.dtype) {
        throw new Error(`${kernel.name}: tensor "${name}" (slot "${slot}") is ${t.dtype}, the kernel expects ${spec.dtype}`);
      }
      if (!sameShape(t.shape, spec.shape)) {
        throw new Error(
          `${kernel.name}: tensor "${name}" (slot "${slot}") has shape ${formatShape(t.shape)}, ` +
            `the kernel expects ${formatShape(spec.shape)}`,
        );
      }
    }
    this.checkAliasing(kernel, bind);
    this.callList.push({ kernel, bind: { ...bind } });
    if (this.openSegment !== undefined) {
      const seg = this.segmentsByName.get(this.openSegment);
      if (seg) seg.end = this.callList.length;
    }
  }

  /** WebGPU forbids binding one buffer as writable storage together with a
   * read-only binding of it in a dispatch, even at disjoint ranges, so views
   * of one root tensor cannot be both read and written by one call. Several
   * written views of one root are allowed (a weight and a bias gradient in the
   * flat gradient buffer), as long as they do not overlap. */
  private checkAliasing(kernel: Kernel, bind: Readonly<Record<string, string>>): void {
    const byRoot = new Map<string, { slot: string; write: boolean; start: number; end: number }[]>();
    for (const [slot, name] of Object.entries(bind)) {
      const t = this.get(name);
      const root = t.view ? t.view.parent : t.name;
      const list = byRoot.get(root) ?? [];
      const start = t.view?.offset ?? 0;
      list.push({ slot, write: kernel.slots[slot]?.access === 'read_write', start, end: start + t.size });
      byRoot.set(root, list);
    }
    for (const [root, uses] of byRoot) {
      if (uses.length < 2 || !uses.some((u) => u.write)) continue;
      const slots = uses.map((u) => `"${u.slot}"${u.write ? ' (written)' : ''}`).join(', ');
      if (!uses.every((u) => u.write)) {
        throw new Error(`${kernel.name}: slots ${slots} all live in tensor "${root}"; a written tensor cannot share storage with a slot the same call reads`);
      }
      const sorted = [...uses].sort((a, b) => a.start - b.start);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1] as (typeof sorted)[number];
        const cur = sorted[i] as (typeof sorted)[number];
        if (cur.start < prev.end) {
          throw new Error(`${kernel.name}: written slots "${prev.slot}" and "${cur.slot}" overlap in tensor "${root}"`);
        }
      }
    }
  }
}
