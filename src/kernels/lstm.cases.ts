import type { LstmSizes } from '../cpu/lstm.ts';
import { uniformArray as uniform } from '../util/random.ts';
import type { KernelCheck, KernelFamily } from './family.ts';
import { LSTM_SEQUENCES, type LstmSequences, lstmBackwardKernel, lstmForwardKernel, lstmInputGradKernel, lstmWeightGradKernel } from './lstm.ts';

// Awkward sizes: one step, one unit, a batch of one, and a hidden width whose 4H gates outnumber a workgroup.
const SIZES: readonly LstmSizes[] = [
  { batch: 3, length: 37, groups: 2, input: 1, hidden: 37 },
  { batch: 1, length: 129, groups: 1, input: 5, hidden: 1 },
  { batch: 37, length: 1, groups: 1, input: 2, hidden: 129 },
];

// Every sequences-per-workgroup variant of forward and BPTT, each with slots past the batch (37 and 3 are no
// multiple of 2, 4 or 8) and a hidden width that is no multiple of the four units an invocation holds.
const VARIANT_SIZES: readonly LstmSizes[] = [
  { batch: 37, length: 6, groups: 2, input: 3, hidden: 7 },
  { batch: 3, length: 11, groups: 1, input: 1, hidden: 6 },
];

function checksAt(s: LstmSizes, seed: number, sequences?: LstmSequences): KernelCheck[] {
  const rows = s.batch * s.length * s.groups;
  const gates = rows * 2 * 4 * s.hidden;
  const state = rows * 2 * s.hidden;
  const weight = s.groups * 2 * (s.input + s.hidden) * 4 * s.hidden;
  const x = uniform(rows * s.input, seed, -2, 2);
  const w = uniform(weight, seed + 1, -0.5, 0.5);
  const recurrent: KernelCheck[] = [
    { kernel: lstmForwardKernel(s, sequences), inputs: { x, weight: w, bias: uniform(s.groups * 8 * s.hidden, seed + 2, -0.5, 0.5) }, tolerance: 1e-5 },
    {
      kernel: lstmBackwardKernel(s, sequences),
      inputs: { dhs: uniform(state, seed + 3), weight: w, cs: uniform(state, seed + 4, -2, 2), acts: uniform(gates, seed + 5, 0.01, 0.99) },
      tolerance: 1e-5,
    },
  ];
  if (sequences !== undefined) return recurrent;
  return [
    ...recurrent,
    { kernel: lstmWeightGradKernel(s), inputs: { x, hs: uniform(state, seed + 6), dz: uniform(gates, seed + 7) }, tolerance: 1e-5 },
    { kernel: lstmInputGradKernel(s), inputs: { dz: uniform(gates, seed + 7), weight: w }, tolerance: 1e-5 },
  ];
}

export const lstmFamily: KernelFamily = {
  name: 'lstm',
  checks: (): KernelCheck[] => [
    ...SIZES.flatMap((s, i) => checksAt(s, 100 + 10 * i)),
    ...VARIANT_SIZES.flatMap((s, i) => LSTM_SEQUENCES.flatMap((n) => checksAt(s, 200 + 10 * i + n, n))),
  ],
};
