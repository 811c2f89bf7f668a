import { deepChromeModel } from '../models/deepchrome.ts';
import { mlpModel } from '../models/mlp.ts';
import { type VaeModel, vaeModel } from '../models/vae.ts';
import type { Model } from '../nn/model.ts';

// Everything needed to rebuild a network's parameter layout, as plain JSON in
// a checkpoint's metadata. Every size is written out, defaults included, so a
// checkpoint does not depend on what the defaults are when it is read.

export type ClassifierSpec =
  | { readonly architecture: 'mlp'; readonly inputShape: readonly number[]; readonly hidden: readonly number[] }
  | {
      readonly architecture: 'deepchrome';
      readonly bins: number;
      readonly marks: number;
      readonly convChannels: number;
      readonly kernelSize: number;
      readonly pool: number;
      readonly hidden: readonly number[];
      readonly dropout: number;
    };

export interface VaeSpec {
  readonly architecture: 'vae';
  readonly bins: number;
  readonly marks: number;
  readonly latent: number;
  readonly channels: readonly [number, number];
  readonly kernelSize: number;
  readonly leak: number;
}

export function mlpSpec(inputShape: readonly number[]): ClassifierSpec {
  return { architecture: 'mlp', inputShape: [...inputShape], hidden: [256, 128] };
}

export function deepChromeSpec(bins: number, marks: number): ClassifierSpec {
  return { architecture: 'deepchrome', bins, marks, convChannels: 50, kernelSize: 10, pool: 5, hidden: [625, 125], dropout: 0.5 };
}

export function vaeSpec(bins: number, marks: number, latent: number): VaeSpec {
  return { architecture: 'vae', bins, marks, latent, channels: [32, 64], kernelSize: 5, leak: 0.5 };
}

export function buildClassifier(spec: ClassifierSpec): Model {
  if (spec.architecture === 'mlp') return mlpModel({ inputShape: spec.inputShape, hidden: spec.hidden });
  return deepChromeModel(spec);
}

export function buildVae(spec: VaeSpec): VaeModel {
  return vaeModel(spec);
}

const positiveInts = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isSafeInteger(d) && d >= 1);
const positiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** Checks a parsed JSON value is a classifier spec; `fail` gets what is wrong. */
export function checkClassifierSpec(v: unknown, fail: (what: string) => never): ClassifierSpec {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.architecture === 'mlp') {
    if (!positiveInts(o.inputShape) || !positiveInts(o.hidden)) fail(`model: bad mlp sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'deepchrome') {
    for (const k of ['bins', 'marks', 'convChannels', 'kernelSize', 'pool']) if (!positiveInt(o[k])) fail(`model: deepchrome ${k} is ${JSON.stringify(o[k])}`);
    if (!positiveInts(o.hidden) || typeof o.dropout !== 'number' || o.dropout < 0 || o.dropout >= 1) fail(`model: bad deepchrome sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  return fail(`model: architecture ${JSON.stringify(o.architecture)} is not mlp or deepchrome`);
}

export function checkVaeSpec(v: unknown, fail: (what: string) => never): VaeSpec {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.architecture !== 'vae') fail(`model: architecture ${JSON.stringify(o.architecture)} is not vae`);
  for (const k of ['bins', 'marks', 'latent', 'kernelSize']) if (!positiveInt(o[k])) fail(`model: vae ${k} is ${JSON.stringify(o[k])}`);
  if (!positiveInts(o.channels) || (o.channels as number[]).length !== 2 || typeof o.leak !== 'number') fail(`model: bad vae sizes ${JSON.stringify(v)}`);
  return o as unknown as VaeSpec;
}
