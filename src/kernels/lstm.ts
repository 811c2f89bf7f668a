import { type LstmSizes, lstmBackward, lstmForward, lstmInputGrad, lstmWeightGrad } from '../cpu/lstm.ts';
import { type FloatArray, type Kernel, MAX_WORKGROUPS_PER_DIM, f32Slot, grid1d, requirePositiveInts, uniformBlock } from './kernel.ts';

// A bidirectional LSTM layer in four kernels (layouts: src/cpu/lstm.ts).
//
// Dispatches: per layer and train step, 4 (forward 1; backward 3: BPTT, the
// weight and bias gradients, and the input gradient when asked: the first
// level, over the bins, does not ask, so attentivechrome's two layers take 7).
// The forward pass is ONE dispatch for the whole sequence, both directions
// and every sequence of the batch: a workgroup steps S sequences of one group
// and direction (S = 1, 2, 4, 8: lstmSequencesPerWorkgroup) through time
// with h in workgroup memory, ONE barrier a step (h is double-buffered: a
// step reads one buffer and writes the other). A step cannot take fewer: its
// gates depend on the whole previous h, so a step is a dependency the
// workgroup waits on, and one dispatch per step would cost T dispatches
// instead (100 for the bins). An invocation holds four units' gates for the S
// sequences (S·4 vec4 sums, named, not an indexed array): a step is the
// product [S × (I + H)] · [(I + H) × 4H], each weight load serving S
// sequences and each h load four units. BPTT is the same grid in reverse step
// order (dz double-buffered, one barrier a step), writing the gates'
// pre-activation gradients dz; dh through W_hh likewise serves four units
// and S sequences per load. Why S sequences and four units: on SwiftShader
// every load whose address is not a compile-time constant is a 4-lane gather,
// and every barrier switches each 4-lane subgroup out as a coroutine, so what
// counts is gathers per multiply-add and barriers per sequence: the old
// kernels (one sequence a workgroup, four gate columns an invocation, two
// barriers a step) spent 1.25 (forward) to 2 (BPTT's dh) gathers per
// multiply-add, these about 0.2 and 0.4 at S = 8. The price: 40 bytes of
// workgroup memory per sequence and unit, so H ≤ 409 (it was 682).

// Why the input projection x·W_ih is not a GEMM on the matmul kernel here:
// AttentiveChrome gives every histone mark its own LSTM, so the weights are
// per group of sequences, and the first level's input is one value per bin
// (a K = 1 product). Folding W_ih into the recurrence (z = b + [x_t; h_{t-1}]
// · [W_ih; W_hh]) costs I extra multiply-adds per gate and step and saves a
// dispatch and a [rows, 8H] tensor; the weight gradients, a sum over batch
// and time per group, are one dispatch where the per-group GEMMs would be
// 2·G of them (and views of per-group slices that are rarely 256-byte aligned).
//
// Measured on SwiftShader (2 cores, heavily loaded, so only the ratios
// count), batch 10 of the E003 sample (T = 100 bins, G = 5 marks, H = 32):
// forward 6.5 s, BPTT 4.8 s, weight gradient 6.9 s per call with scalar
// loads and 64-wide workgroups; 1.4 s, 2.4 s and 2.1 s with the weights and
// dz read as vec4 (a row is 4H wide), the weight gradient as 4×4 register
// tiles, and workgroups as wide as H. Then (2026-12-07, at load 5 on the
// same machine, CPU time of each kernel alone, batch 64): forward 3.1 →
// 1.0 s, BPTT 3.3–3.8 → 1.2–1.6 s with S = 8 and four units an invocation,
// the weight gradient 5.0–5.4 → 0.9 s with 8 rows × 4 columns an invocation
// and W_hh's rows apart from [W_ih; bias]; a GEMM of the forward's FLOPs
// (535 M) would take about 0.6 s there. Forward by S: 2.1, 1.5, 1.1, 1.0 s
// for S = 1, 2, 4, 8, so S = 8 where the batch fills it; at batch 10, S = 4
// (12 slots) took 0.20 s and S = 8 (16 slots) 0.26 s, hence the rule in
// lstmSequencesPerWorkgroup. bench/RESULTS.md has the step and the epoch.

/** The forward and backward workgroup: one invocation per four units (each weight load then serves four units'
 * sums, each of h's or dz's serves four rows), at most 64: each idle invocation still waits at every barrier, which
 * a software GPU pays for. */
const sequenceWorkgroup = (hidden: number): number => Math.min(64, Math.ceil(hidden / 4));
const WG_ELEMENTS = 64;

/** What the sequences-per-workgroup choice S can be: the shader names S accumulators one by one (flags SEQ2, SEQ4, SEQ8). */
export const LSTM_SEQUENCES = [1, 2, 4, 8] as const;
export type LstmSequences = (typeof LSTM_SEQUENCES)[number];
/** WebGPU's default maxComputeWorkgroupStorageSize. */
const WORKGROUP_BYTES = 16384;
/** Workgroup bytes per sequence and unit: backward's two dz buffers (2 × 4 gates) and dh, dc; forward's are fewer. */
const BYTES_PER_SEQUENCE_UNIT = (2 * 4 + 2) * 4;

/** Sequences of one group and direction a forward or backward workgroup steps through together: each weight load
 * then serves S of them and each barrier S times the work. The most that fit workgroup memory, and no more than the
 * batch rounded up to a choice: S = 8 at B = 10 would compute 16 (the last workgroup's slots past the batch repeat
 * a sequence), where 4 computes 12. */
export function lstmSequencesPerWorkgroup(s: LstmSizes): LstmSequences {
  const fits = LSTM_SEQUENCES.filter((n) => n * s.hidden * BYTES_PER_SEQUENCE_UNIT <= WORKGROUP_BYTES);
  const padded = (n: number): number => Math.ceil(s.batch / n) * n;
  let best: LstmSequences = 1;
  for (const n of fits) if (padded(n) <= padded(best) * 1.25) best = n;
  return best;
}

function sequenceDispatch(
  kernel: string,
  s: LstmSizes,
  n: LstmSequences,
): { workgroups: [number, number, number]; constants: Record<string, number>; defines: Record<string, boolean> } {
  if (!LSTM_SEQUENCES.includes(n)) throw new Error(`${kernel}: ${n} sequences a workgroup; it takes ${LSTM_SEQUENCES.join(', ')}`);
  const bytes = n * s.hidden * BYTES_PER_SEQUENCE_UNIT;
  if (bytes > WORKGROUP_BYTES) {
    throw new Error(`${kernel}: ${n} sequence(s) of ${s.hidden} units need ${bytes} bytes of workgroup memory, more than ${WORKGROUP_BYTES}`);
  }
  const blocks = Math.ceil(s.batch / n) * s.groups;
  if (blocks > MAX_WORKGROUPS_PER_DIM) {
    throw new Error(`${kernel}: ${s.batch} × ${s.groups} sequences in workgroups of ${n} are ${blocks} workgroups, more than ${MAX_WORKGROUPS_PER_DIM} in one dimension`);
  }
  return {
    workgroups: [blocks, 2, 1],
    constants: { WG: sequenceWorkgroup(s.hidden), H: s.hidden, S: n },
    defines: { SEQ2: n >= 2, SEQ4: n >= 4, SEQ8: n >= 8 },
  };
}
/** The shader's ROWS: rows of the weight gradient one invocation sums (times 4 columns), each dz load serving them all. */
const WEIGHT_GRAD_ROWS = 8;

function withFlag<D extends { defines: Record<string, boolean> }>(d: D, flag: string): D {
  return { ...d, defines: { ...d.defines, [flag]: true } };
}

function check(kernel: string, s: LstmSizes): void {
  requirePositiveInts(kernel, { batch: s.batch, length: s.length, groups: s.groups, input: s.input, hidden: s.hidden });
  const elements = s.batch * s.length * s.groups * 8 * s.hidden;
  if (elements > 2 ** 31) throw new Error(`${kernel}: ${elements} gate elements are more than 2^31`);
}

function params(s: LstmSizes, total: number): ArrayBuffer {
  return uniformBlock([
    ['u32', s.batch],
    ['u32', s.length],
    ['u32', s.groups],
    ['u32', s.input],
    ['u32', s.hidden],
    ['u32', total],
  ]);
}

const label = (s: LstmSizes): string => `T=${s.length},G=${s.groups},I=${s.input},H=${s.hidden}`;
const rowsOf = (s: LstmSizes): number[] => [s.batch, s.length, s.groups];
export const lstmWeightShape = (s: LstmSizes): number[] => [s.groups, 2, s.input + s.hidden, 4 * s.hidden];
export const lstmBiasShape = (s: LstmSizes): number[] => [s.groups, 2, 4 * s.hidden];
/** hs and cs: [B, T, G, 2H]; acts and dz: [B, T, G, 2, 4H]. */
const stateShape = (s: LstmSizes): number[] => [...rowsOf(s), 2 * s.hidden];
const gateShape = (s: LstmSizes): number[] => [...rowsOf(s), 2, 4 * s.hidden];

/** x, weight, bias → hs (the layer's output), and cs and acts kept for the backward pass. */
export function lstmForwardKernel(s: LstmSizes, sequences: LstmSequences = lstmSequencesPerWorkgroup(s)): Kernel {
  const name = `lstm.forward[${label(s)},S=${sequences}]`;
  check(name, s);
  const dispatch = sequenceDispatch(name, s, sequences);
  return {
    name,
    slots: {
      x: f32Slot([...rowsOf(s), s.input], 'read'),
      weight: f32Slot(lstmWeightShape(s), 'read'),
      bias: f32Slot(lstmBiasShape(s), 'read'),
      hs: f32Slot(stateShape(s), 'read_write'),
      cs: f32Slot(stateShape(s), 'read_write'),
      acts: f32Slot(gateShape(s), 'read_write'),
    },
    cpu: (t) => lstmForward(s, t.x as FloatArray, t.weight as FloatArray, t.bias as FloatArray, t.hs as FloatArray, t.cs as FloatArray, t.acts as FloatArray),
    gpu: () => [
      {
        shader: 'lstm',
        entryPoint: 'forward',
        ...withFlag(dispatch, 'FORWARD'),
        bindings: ['x', 'weight', 'bias', 'hs', 'cs', 'acts'],
        uniforms: params(s, 0),
      },
    ],
  };
}

/** dhs (the gradient of hs), weight, cs, acts → dz, the gates' pre-activation gradients. */
export function lstmBackwardKernel(s: LstmSizes, sequences: LstmSequences = lstmSequencesPerWorkgroup(s)): Kernel {
  const name = `lstm.backward[${label(s)},S=${sequences}]`;
  check(name, s);
  const dispatch = sequenceDispatch(name, s, sequences);
  return {
    name,
    slots: {
      dhs: f32Slot(stateShape(s), 'read'),
      weight: f32Slot(lstmWeightShape(s), 'read'),
      cs: f32Slot(stateShape(s), 'read'),
      acts: f32Slot(gateShape(s), 'read'),
      dz: f32Slot(gateShape(s), 'read_write'),
    },
    cpu: (t) => lstmBackward(s, t.dhs as FloatArray, t.weight as FloatArray, t.cs as FloatArray, t.acts as FloatArray, t.dz as FloatArray),
    gpu: () => [
      {
        shader: 'lstm',
        entryPoint: 'backward',
        ...withFlag(dispatch, 'BACKWARD'),
        bindings: ['dhs', 'weight', 'cs', 'acts', 'dz'],
        uniforms: params(s, 0),
      },
    ],
  };
}

/** x, hs, dz → dweight and dbias (written, not added to). */
export function lstmWeightGradKernel(s: LstmSizes): Kernel {
  const name = `lstm.weightGrad[${label(s)}]`;
  check(name, s);
  // shaders/lstm.wgsl's weight_grad: an invocation per 4 gate columns and WEIGHT_GRAD_ROWS rows, of W_hh or of [W_ih; bias].
  const blocks = Math.ceil(s.hidden / WEIGHT_GRAD_ROWS) + Math.ceil((s.input + 1) / WEIGHT_GRAD_ROWS);
  const total = s.groups * 2 * blocks * s.hidden;
  return {
    name,
    slots: {
      x: f32Slot([...rowsOf(s), s.input], 'read'),
      hs: f32Slot(stateShape(s), 'read'),
      dz: f32Slot(gateShape(s), 'read'),
      dweight: f32Slot(lstmWeightShape(s), 'read_write'),
      dbias: f32Slot(lstmBiasShape(s), 'read_write'),
    },
    cpu: (t) => lstmWeightGrad(s, t.x as FloatArray, t.hs as FloatArray, t.dz as FloatArray, t.dweight as FloatArray, t.dbias as FloatArray),
    gpu: () => [
      {
        shader: 'lstm',
        entryPoint: 'weight_grad',
        defines: { WEIGHT_GRAD: true },
        constants: { WG: WG_ELEMENTS, H: s.hidden },
        bindings: ['x', 'hs', 'dz', 'dweight', 'dbias'],
        uniforms: params(s, total),
        workgroups: grid1d(total, WG_ELEMENTS),
      },
    ],
  };
}

/** dz, weight → dx [B, T, G, I], both directions summed. */
export function lstmInputGradKernel(s: LstmSizes): Kernel {
  const name = `lstm.inputGrad[${label(s)}]`;
  check(name, s);
  const total = s.batch * s.length * s.groups * s.input;
  return {
    name,
    slots: {
      dz: f32Slot(gateShape(s), 'read'),
      weight: f32Slot(lstmWeightShape(s), 'read'),
      dx: f32Slot([...rowsOf(s), s.input], 'read_write'),
    },
    cpu: (t) => lstmInputGrad(s, t.dz as FloatArray, t.weight as FloatArray, t.dx as FloatArray),
    gpu: () => [
      {
        shader: 'lstm',
        entryPoint: 'input_grad',
        constants: { WG: WG_ELEMENTS, H: s.hidden },
        bindings: ['dz', 'weight', 'dx'],
        uniforms: params(s, total),
        workgroups: grid1d(total, WG_ELEMENTS),
      },
    ],
  };
}
