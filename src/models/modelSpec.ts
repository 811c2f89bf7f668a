import { ATTENTIVE_CHROME_HIDDEN, attentiveChromeModel } from './attentiveChrome.ts';
import { deepChromeModel } from './deepchrome.ts';
import { logregModel } from './logreg.ts';
import { mlpModel } from './mlp.ts';
import { type VaeModel, vaeModel } from './vae.ts';
import { jointModel } from './vaeJoint.ts';
import { type M2Config, m2Model } from './vaeM2.ts';
import type { Model } from '../nn/model.ts';

// Everything needed to rebuild a network's parameter layout, as plain JSON in
// a checkpoint's metadata. Every size is written out, defaults included, so a
// checkpoint does not depend on what the defaults are when it is read.

export type ClassifierSpec =
  | {
      readonly architecture: 'logreg';
      readonly inputShape: readonly number[];
      /** The L2 penalty on the weights this model was trained with (chosen by validation AUROC; the layout does not depend on it). */
      readonly l2: number;
    }
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
    }
  | {
      /** The VAE (encoder, decoder) and an MLP head on its latent mean, trained together (src/models/vaeJoint.ts). */
      readonly architecture: 'vae-joint';
      readonly vae: VaeSpec;
      readonly hidden: readonly number[];
    }
  /** Kingma et al.'s M2 (src/models/vaeM2.ts): q(y|x) is the classifier, and the store holds q(z|x,y) and p(x|z,y) too. */
  | ({ readonly architecture: 'vae-m2' } & M2Config)
  /** AttentiveChrome's two levels of BiLSTM and attention (src/models/attentiveChrome.ts); hidden: units per direction. */
  | { readonly architecture: 'attentivechrome'; readonly bins: number; readonly marks: number; readonly hidden: readonly [number, number] };

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

export function jointSpec(vae: VaeSpec): ClassifierSpec {
  return { architecture: 'vae-joint', vae, hidden: [256, 128] };
}

export function m2Spec(bins: number, marks: number, latent: number): ClassifierSpec {
  const { channels, kernelSize, leak } = vaeSpec(bins, marks, latent);
  return { architecture: 'vae-m2', bins, marks, latent, channels, kernelSize, leak, hidden: [128] };
}

export function attentiveChromeSpec(bins: number, marks: number): ClassifierSpec {
  return { architecture: 'attentivechrome', bins, marks, hidden: [...ATTENTIVE_CHROME_HIDDEN] as [number, number] };
}

export function logregSpec(inputShape: readonly number[], l2: number): ClassifierSpec {
  return { architecture: 'logreg', inputShape: [...inputShape], l2 };
}

type Architecture = ClassifierSpec['architecture'];
/** The spec of one architecture. */
export type SpecOf<A extends Architecture> = Extract<ClassifierSpec, { readonly architecture: A }>;

/** How each architecture's network is built from its spec; an architecture without an entry does not compile. */
const BUILDERS: { readonly [A in Architecture]: (spec: SpecOf<A>) => Model } = {
  logreg: (spec) => logregModel(spec.inputShape),
  mlp: (spec) => mlpModel({ inputShape: spec.inputShape, hidden: spec.hidden }),
  deepchrome: (spec) => deepChromeModel(spec),
  'vae-joint': (spec) => jointModel(spec.vae, spec.hidden).classifier,
  'vae-m2': (spec) => m2Model(spec),
  attentivechrome: (spec) => attentiveChromeModel(spec),
};

export function buildClassifier(spec: ClassifierSpec): Model {
  // A spec read from a file may name an architecture this version does not know.
  if (!Object.hasOwn(BUILDERS, spec.architecture)) throw new Error(`model: unknown architecture ${JSON.stringify(spec.architecture)}`);
  return (BUILDERS[spec.architecture] as (spec: ClassifierSpec) => Model)(spec);
}

// What the training core and predict ask of a spec's architecture, answered here so that the names of
// architectures (which are also the names of the models that introduced them) stay in src/models.

/** A VAE and a head trained together (vae-joint): the classifier's flat buffer begins with the VAE's. */
export const isJointSpec = (spec: ClassifierSpec): spec is SpecOf<'vae-joint'> => spec.architecture === 'vae-joint';
/** Kingma et al.'s M2 (vae-m2). */
export const isM2Spec = (spec: ClassifierSpec): spec is SpecOf<'vae-m2'> => spec.architecture === 'vae-m2';

/** The spec a linear fit at penalty `l2` is checkpointed as. */
export function withPenalty(spec: ClassifierSpec, l2: number): ClassifierSpec {
  if (spec.architecture !== 'logreg') throw new Error(`linear model: no penalty field in a ${spec.architecture} spec`);
  return { ...spec, l2 };
}

/** The bins of the window the classifier reads, or undefined when it reads a flat feature vector. */
export function inputBins(spec: ClassifierSpec): number | undefined {
  if (spec.architecture === 'deepchrome' || spec.architecture === 'vae-m2' || spec.architecture === 'attentivechrome') return spec.bins;
  if (spec.architecture === 'vae-joint') return spec.vae.bins;
  return spec.inputShape.length === 2 ? spec.inputShape[0] : undefined;
}

/** What the classifier of each model reads per gene: the window [bins, marks], or a latent vector of `width`. */
export interface ClassifierInput {
  readonly bins: number;
  readonly marks: number;
  /** Features per gene of the latent input (vae-mlp models); vae-m2: the width of its latent z. */
  readonly latentWidth?: number;
  /** Features per gene of a derived input (a definition's `features`, src/models/definition.ts). */
  readonly derivedWidth?: number;
}

export function buildVae(spec: VaeSpec): VaeModel {
  return vaeModel(spec);
}

const positiveInts = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isSafeInteger(d) && d >= 1);
const positiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** Checks a parsed JSON value is a classifier spec; `fail` gets what is wrong. */
export function checkClassifierSpec(v: unknown, fail: (what: string) => never): ClassifierSpec {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.architecture === 'logreg') {
    if (!positiveInts(o.inputShape) || typeof o.l2 !== 'number' || !Number.isFinite(o.l2) || o.l2 < 0) fail(`model: bad logreg spec ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'mlp') {
    if (!positiveInts(o.inputShape) || !positiveInts(o.hidden)) fail(`model: bad mlp sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'deepchrome') {
    for (const k of ['bins', 'marks', 'convChannels', 'kernelSize', 'pool']) if (!positiveInt(o[k])) fail(`model: deepchrome ${k} is ${JSON.stringify(o[k])}`);
    if (!positiveInts(o.hidden) || typeof o.dropout !== 'number' || o.dropout < 0 || o.dropout >= 1) fail(`model: bad deepchrome sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'vae-joint') {
    checkVaeSpec(o.vae, fail);
    if (!positiveInts(o.hidden)) fail(`model: bad vae-joint head sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'vae-m2') {
    for (const k of ['bins', 'marks', 'latent', 'kernelSize']) if (!positiveInt(o[k])) fail(`model: vae-m2 ${k} is ${JSON.stringify(o[k])}`);
    if (!positiveInts(o.channels) || (o.channels as number[]).length !== 2 || !positiveInts(o.hidden) || typeof o.leak !== 'number') fail(`model: bad vae-m2 sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  if (o.architecture === 'attentivechrome') {
    for (const k of ['bins', 'marks']) if (!positiveInt(o[k])) fail(`model: attentivechrome ${k} is ${JSON.stringify(o[k])}`);
    if (!positiveInts(o.hidden) || (o.hidden as number[]).length !== 2) fail(`model: bad attentivechrome sizes ${JSON.stringify(v)}`);
    return o as unknown as ClassifierSpec;
  }
  return fail(`model: architecture ${JSON.stringify(o.architecture)} is not logreg, mlp, deepchrome, vae-joint, vae-m2 or attentivechrome`);
}

export function checkVaeSpec(v: unknown, fail: (what: string) => never): VaeSpec {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (o.architecture !== 'vae') fail(`model: architecture ${JSON.stringify(o.architecture)} is not vae`);
  for (const k of ['bins', 'marks', 'latent', 'kernelSize']) if (!positiveInt(o[k])) fail(`model: vae ${k} is ${JSON.stringify(o[k])}`);
  if (!positiveInts(o.channels) || (o.channels as number[]).length !== 2 || typeof o.leak !== 'number') fail(`model: bad vae sizes ${JSON.stringify(v)}`);
  return o as unknown as VaeSpec;
}
