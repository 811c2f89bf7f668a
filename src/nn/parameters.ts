import type { Shape } from '../kernels/kernel.ts';
import { elementCount, formatShape } from '../kernels/kernel.ts';
import { type Plan, VIEW_ALIGN_ELEMENTS } from '../plan/plan.ts';
import { seededRandom } from '../util/random.ts';

// Every trainable tensor of a model lives in one flat buffer, and so do its
// gradient and Adam's two moments: the optimizer is one dispatch over all of
// them, and a checkpoint is four contiguous copies. Each parameter is a view,
// aligned as WebGPU requires for binding at an offset.

export const PARAMS = 'params';
export const GRADS = 'grads';
export const ADAM_M = 'adam.m';
export const ADAM_V = 'adam.v';

/** 'uniform': PyTorch's default for Linear and Conv1d weights and biases, U(-1/√fanIn, 1/√fanIn); 'range': U(-bound,
 * bound), for models whose published code draws every parameter from one range (AttentiveChrome: ±0.1). */
export type Init =
  | { readonly kind: 'uniform'; readonly fanIn: number }
  | { readonly kind: 'range'; readonly bound: number }
  | { readonly kind: 'zeros' };

export interface Parameter {
  readonly name: string;
  readonly shape: Shape;
  readonly offset: number;
  readonly size: number;
  readonly init: Init;
  /** The plan tensor holding the value, and the one holding its gradient. */
  readonly value: string;
  readonly grad: string;
}

export class ParameterStore {
  private readonly list: Parameter[] = [];
  private end = 0;

  get parameters(): readonly Parameter[] {
    return this.list;
  }

  /** Elements of the flat buffer, padding included. */
  get total(): number {
    return Math.max(VIEW_ALIGN_ELEMENTS, Math.ceil(this.end / VIEW_ALIGN_ELEMENTS) * VIEW_ALIGN_ELEMENTS);
  }

  /** Trainable numbers, padding excluded. */
  get count(): number {
    return this.list.reduce((s, p) => s + p.size, 0);
  }

  add(name: string, shape: Shape, init: Init): Parameter {
    if (this.list.some((p) => p.name === name)) throw new Error(`parameter "${name}" is declared twice`);
    const size = elementCount(shape);
    if (size < 1) throw new Error(`parameter "${name}" has an empty shape ${formatShape(shape)}`);
    const offset = Math.ceil(this.end / VIEW_ALIGN_ELEMENTS) * VIEW_ALIGN_ELEMENTS;
    const p: Parameter = { name, shape, offset, size, init, value: `p.${name}`, grad: `g.${name}` };
    this.list.push(p);
    this.end = offset + size;
    return p;
  }

  /** Declares the four flat buffers and a value and gradient view per parameter. */
  declare(plan: Plan): void {
    for (const root of [PARAMS, GRADS, ADAM_M, ADAM_V]) plan.tensor(root, [this.total]);
    for (const p of this.list) {
      plan.view(p.value, PARAMS, p.offset, p.shape);
      plan.view(p.grad, GRADS, p.offset, p.shape);
    }
  }

  /** Initial values for the flat buffer, from one seeded stream in declaration order. */
  initialValues(seed: number): Float32Array {
    const out = new Float32Array(this.total);
    const random = seededRandom(seed);
    for (const p of this.list) {
      if (p.init.kind === 'zeros') continue;
      const bound = p.init.kind === 'range' ? p.init.bound : 1 / Math.sqrt(p.init.fanIn);
      for (let i = 0; i < p.size; i++) out[p.offset + i] = (2 * random() - 1) * bound;
    }
    return out;
  }
}
