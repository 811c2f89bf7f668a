import { type MaxPool1dSizes, maxPool1dBackward, maxPool1dForward, maxPool1dOutLength } from '../cpu/maxpool1d.ts';
import {
  type FloatArray,
  type Kernel,
  f32Slot,
  grid1d,
  requirePositiveInts,
  u32Slot,
  uniformBlock,
} from './kernel.ts';

const WG = 256;

function checkSizes(kernel: string, s: MaxPool1dSizes): number {
  requirePositiveInts(kernel, { batch: s.batch, length: s.length, channels: s.channels, pool: s.pool });
  if (s.length < s.pool) {
    throw new Error(`${kernel}: length ${s.length} is shorter than the pool window ${s.pool}`);
  }
  // The shader indexes elements in u32; 2^31 leaves room for a grid's overhang.
  const elements = s.batch * s.length * s.channels;
  if (elements > 2 ** 31) throw new Error(`${kernel}: ${elements} input elements are more than 2^31`);
  return maxPool1dOutLength(s);
}

function params(s: MaxPool1dSizes, outLength: number, total: number): ArrayBuffer {
  return uniformBlock([
    ['u32', s.batch],
    ['u32', s.length],
    ['u32', s.channels],
    ['u32', s.pool],
    ['u32', outLength],
    ['u32', total],
  ]);
}

/**
 * x [batch, length, channels] (channels-last) -> y [batch, floor(length/pool), channels]
 * and argmax (u32, same shape as y): the position along `length` each maximum
 * came from; the first maximum wins on ties. Window and stride are both `pool`.
 */
export function maxPool1dForwardKernel(s: MaxPool1dSizes): Kernel {
  const name = `maxpool1d.forward[pool=${s.pool}]`;
  const outLength = checkSizes(name, s);
  const outShape = [s.batch, outLength, s.channels];
  const total = s.batch * outLength * s.channels;
  return {
    name,
    slots: {
      x: f32Slot([s.batch, s.length, s.channels], 'read'),
      y: f32Slot(outShape, 'read_write'),
      argmax: u32Slot(outShape, 'read_write'),
    },
    cpu: (t) => maxPool1dForward(s, t.x as FloatArray, t.y as FloatArray, t.argmax as Uint32Array),
    gpu: () => [
      {
        shader: 'maxpool1d',
        entryPoint: 'forward',
        defines: { FORWARD: true },
        constants: { WG },
        bindings: ['x', 'y', 'argmax'],
        uniforms: params(s, outLength, total),
        workgroups: grid1d(total, WG),
      },
    ],
  };
}

/** dx [batch, length, channels] from dy and argmax [batch, floor(length/pool), channels]:
 * dy goes to the position argmax names, every other dx element (the dropped tail
 * included) is written 0. */
export function maxPool1dBackwardKernel(s: MaxPool1dSizes): Kernel {
  const name = `maxpool1d.backward[pool=${s.pool}]`;
  const outLength = checkSizes(name, s);
  const outShape = [s.batch, outLength, s.channels];
  const total = s.batch * s.length * s.channels;
  return {
    name,
    slots: {
      dy: f32Slot(outShape, 'read'),
      argmax: u32Slot(outShape, 'read'),
      dx: f32Slot([s.batch, s.length, s.channels], 'read_write'),
    },
    cpu: (t) => maxPool1dBackward(s, t.dy as FloatArray, t.argmax as Uint32Array, t.dx as FloatArray),
    gpu: () => [
      {
        shader: 'maxpool1d',
        entryPoint: 'backward',
        constants: { WG },
        bindings: ['dy', 'argmax', 'dx'],
        uniforms: params(s, outLength, total),
        workgroups: grid1d(total, WG),
      },
    ],
  };
}
