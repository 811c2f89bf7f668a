import { type LabelConcatSizes, labelConcatBackward, labelConcatForward, labelConcatRows } from '../cpu/labelConcat.ts';
import { type FloatArray, type GpuDispatch, type Kernel, f32Slot, grid1d, requirePositiveInts, uniformBlock } from './kernel.ts';

const WG = 256;

function check(name: string, s: LabelConcatSizes): { inRows: number; outRows: number } {
  requirePositiveInts(name, { labeled: s.labeled, unlabeled: s.unlabeled, width: s.width });
  const rows = labelConcatRows(s);
  if (rows.outRows * (s.width + 2) > 2 ** 31) throw new Error(`${name}: ${rows.outRows} rows of ${s.width + 2} are more than 2^31 elements`);
  return rows;
}

function dispatch(s: LabelConcatSizes, rows: { inRows: number; outRows: number }, entryPoint: 'forward' | 'backward', bindings: readonly string[], elements: number): GpuDispatch {
  return {
    shader: 'label_concat',
    entryPoint,
    defines: { TILED: s.tiled, BACKWARD: entryPoint === 'backward' },
    constants: { WG },
    bindings,
    uniforms: uniformBlock([
      ['u32', s.labeled],
      ['u32', s.unlabeled],
      ['u32', s.width],
      ['u32', rows.outRows],
      ['u32', rows.inRows],
    ]),
    workgroups: grid1d(elements, WG),
  };
}

/**
 * M2's label-conditioned rows (see src/cpu/labelConcat.ts). Slots: input
 * [inRows, width], y [labeled] (0/1 as f32), output [labeled + 2·unlabeled,
 * width + 2] (written): each row, then the one-hot of its label.
 */
export function labelConcatKernel(s: LabelConcatSizes): Kernel {
  const name = `label_concat${s.tiled ? '[tiled]' : ''}`;
  const rows = check(name, s);
  return {
    name,
    slots: {
      input: f32Slot([rows.inRows, s.width], 'read'),
      y: f32Slot([s.labeled], 'read'),
      output: f32Slot([rows.outRows, s.width + 2], 'read_write'),
    },
    cpu: (t) => labelConcatForward(s, t.input as FloatArray, t.y as FloatArray, t.output as FloatArray),
    gpu: () => [dispatch(s, rows, 'forward', ['input', 'y', 'output'], rows.outRows * (s.width + 2))],
  };
}

/** Its backward. Slots: dOutput [labeled + 2·unlabeled, width + 2] (read), dInput [inRows, width] (written). */
export function labelConcatBackwardKernel(s: LabelConcatSizes): Kernel {
  const name = `label_concat.backward${s.tiled ? '[tiled]' : ''}`;
  const rows = check(name, s);
  return {
    name,
    slots: {
      dOutput: f32Slot([rows.outRows, s.width + 2], 'read'),
      dInput: f32Slot([rows.inRows, s.width], 'read_write'),
    },
    cpu: (t) => labelConcatBackward(s, t.dOutput as FloatArray, t.dInput as FloatArray),
    gpu: () => [dispatch(s, rows, 'backward', ['dOutput', 'dInput'], rows.inRows * s.width)],
  };
}
