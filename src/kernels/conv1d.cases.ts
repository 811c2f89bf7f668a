import { uniformArray as uniform } from '../util/random.ts';
import {
  type Conv1dParams,
  type ConvTranspose1dParams,
  conv1dBackwardInputKernel,
  conv1dBackwardWeightKernel,
  conv1dForwardKernel,
  convTranspose1dForwardKernel,
} from './conv1d.ts';
import { type BenchSizes, type KernelBenchCase, type KernelCheck, type KernelFamily, activationLabel, mega, randomReadInputs } from './family.ts';
import type { Kernel } from './kernel.ts';

export type Conv1dBenchOp =
  | { readonly kind: 'conv1dForward' | 'conv1dBackwardWeight' | 'conv1dBackwardInput'; readonly params: Conv1dParams }
  | { readonly kind: 'convTranspose1dForward'; readonly params: ConvTranspose1dParams };

const F32 = 4;

function convOut(p: Conv1dParams): number {
  return p.padding === 'same' ? p.length : p.length - p.kernelSize + 1;
}

function convLabel(p: Conv1dParams | ConvTranspose1dParams): string {
  const pad = typeof p.padding === 'number' ? `pad ${p.padding}` : p.padding;
  return `B${p.batch} L${p.length} ${p.inChannels}→${p.outChannels} k${p.kernelSize} ${pad}${activationLabel(p.activation)}`;
}

/** One conv kernel timed: its FLOPs as the napkin writes them, the bytes it must move, its inputs from `seed`. */
function convCase(
  name: string,
  op: Conv1dBenchOp,
  kernel: () => Kernel,
  seed: number,
  output: string,
  flops: { readonly formula: string; readonly value: number },
  bytes: number,
): KernelBenchCase<Conv1dBenchOp> {
  return {
    name,
    shape: convLabel(op.params),
    flops: flops.value,
    bytes,
    bound: 'compute',
    napkin: `${flops.formula} = ${mega(flops.value)}FLOP; ${mega(bytes)}B`,
    build: () => {
      const k = kernel();
      return { kernel: k, inputs: randomReadInputs(k, seed) };
    },
    output,
    op,
  };
}

function sizes(p: Conv1dParams): { B: number; L: number; Cin: number; Cout: number; K: number; Lout: number; gated: boolean } {
  const gated = p.activation !== undefined && p.activation.kind !== 'none';
  return { B: p.batch, L: p.length, Cin: p.inChannels, Cout: p.outChannels, K: p.kernelSize, Lout: convOut(p), gated };
}

function forwardCase(name: string, p: Conv1dParams): KernelBenchCase<Conv1dBenchOp> {
  const { B, L, Cin, Cout, K, Lout } = sizes(p);
  const flops = { formula: '2·B·Lout·Cout·K·Cin', value: 2 * B * Lout * Cout * K * Cin };
  const bytes = F32 * (B * L * Cin + K * Cin * Cout + Cout + B * Lout * Cout);
  return convCase(name, { kind: 'conv1dForward', params: p }, () => conv1dForwardKernel(p), 21, 'y', flops, bytes);
}

function backwardWeightCase(name: string, p: Conv1dParams): KernelBenchCase<Conv1dBenchOp> {
  const { B, L, Cin, Cout, K, Lout, gated } = sizes(p);
  const flops = { formula: '2·K·Cin·Cout·B·Lout', value: 2 * K * Cin * Cout * B * Lout };
  const bytes = F32 * (B * L * Cin + (gated ? 2 : 1) * B * Lout * Cout + K * Cin * Cout);
  return convCase(name, { kind: 'conv1dBackwardWeight', params: p }, () => conv1dBackwardWeightKernel(p), 31, 'dw', flops, bytes);
}

function backwardInputCase(name: string, p: Conv1dParams): KernelBenchCase<Conv1dBenchOp> {
  const { B, L, Cin, Cout, K, Lout, gated } = sizes(p);
  const flops = { formula: '2·B·L·Cin·K·Cout', value: 2 * B * L * Cin * K * Cout };
  const bytes = F32 * ((gated ? 2 : 1) * B * Lout * Cout + K * Cin * Cout + B * L * Cin);
  return convCase(name, { kind: 'conv1dBackwardInput', params: p }, () => conv1dBackwardInputKernel(p), 41, 'dx', flops, bytes);
}

function transposeForwardCase(name: string, p: ConvTranspose1dParams): KernelBenchCase<Conv1dBenchOp> {
  const { batch: B, length: L, inChannels: Cin, outChannels: Cout, kernelSize: K } = p;
  const Lout = L + K - 1 - 2 * p.padding;
  const flops = { formula: '2·B·Lout·Cout·K·Cin', value: 2 * B * Lout * Cout * K * Cin };
  const bytes = F32 * (B * L * Cin + K * Cin * Cout + Cout + B * Lout * Cout);
  return convCase(name, { kind: 'convTranspose1dForward', params: p }, () => convTranspose1dForwardKernel(p), 51, 'y', flops, bytes);
}

/** The conv layers of DeepChrome and the VAE at the bench's batch. */
function conv1dBenchCases({ batch: B }: BenchSizes): KernelBenchCase<Conv1dBenchOp>[] {
  const leaky = { kind: 'leaky_relu', alpha: 0.5 } as const;
  const relu = { kind: 'relu' } as const;
  const deepchromeConv: Conv1dParams = { batch: B, length: 100, inChannels: 5, outChannels: 50, kernelSize: 10, padding: 'valid', bias: true, activation: relu };
  const vaeConv2: Conv1dParams = { batch: B, length: 100, inChannels: 32, outChannels: 64, kernelSize: 5, padding: 'same', bias: true, activation: leaky };
  const vaeDeconv1: ConvTranspose1dParams = { batch: B, length: 100, inChannels: 64, outChannels: 64, kernelSize: 5, padding: 2, bias: true, activation: leaky };
  return [
    forwardCase('deepchrome conv forward', deepchromeConv),
    backwardWeightCase('deepchrome conv dW', deepchromeConv),
    forwardCase('vae enc.conv2 forward', vaeConv2),
    backwardInputCase('vae enc.conv2 dX', vaeConv2),
    backwardWeightCase('vae enc.conv2 dW', vaeConv2),
    transposeForwardCase('vae dec.deconv1 forward', vaeDeconv1),
  ];
}

export const conv1dFamily: KernelFamily<Conv1dBenchOp> = {
  name: 'conv1d',
  checks: (): KernelCheck[] => {
    const conv = { batch: 3, length: 37, inChannels: 5, outChannels: 7, kernelSize: 5, padding: 'same' as const, bias: true, activation: { kind: 'leaky_relu', alpha: 0.5 } as const };
    return [
      { kernel: conv1dForwardKernel(conv), inputs: { x: uniform(3 * 37 * 5, 7), w: uniform(5 * 5 * 7, 8), bias: uniform(7, 9) }, tolerance: 1e-4 },
      {
        kernel: conv1dBackwardWeightKernel(conv),
        inputs: { x: uniform(3 * 37 * 5, 10), dy: uniform(3 * 37 * 7, 11), y: uniform(3 * 37 * 7, 12) },
        tolerance: 1e-4,
      },
      {
        kernel: convTranspose1dForwardKernel({ ...conv, padding: 2, activation: { kind: 'tanh' } }),
        inputs: { x: uniform(3 * 37 * 5, 13), w: uniform(5 * 7 * 5, 14), bias: uniform(7, 15) },
        tolerance: 1e-4,
      },
    ];
  },
  bench: conv1dBenchCases,
};
