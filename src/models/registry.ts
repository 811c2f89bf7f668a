// The one list of models the command line can train. Argument parsing, the
// help text, flag checks, the experiment, resume and predict all ask this
// list; what each model's classifier is built from is decided by the
// exhaustive switch in src/models/modelSpec.ts (classifierSpecFor), so a
// new name here does not compile until it says what it builds.

import type { FeatureBuilder } from './derivedFeatures.ts';
import { expressionPriorBuilder } from './expressionPrior.ts';
import { logregNeighborsFeatures } from './logregNeighbors.ts';
import { tssLinearFeatures } from './tssLinear.ts';

export const MODEL_NAMES = ['logreg', 'mlp', 'deepchrome', 'vae-mlp', 'vae-mlp-neighbors', 'vae-joint', 'vae-m2', 'tss-linear', 'expression-prior', 'logreg-neighbors'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** What the classifier of a model reads for each gene; 'window+vae': the window, through a VAE encoder
 * that it fine-tunes (pretrained like vae-mlp's, then trained with the head). */
/** 'derived': a feature matrix its definition builds per gene (the `features` builder), read instead of the window. */
export type ModelInput = 'window' | 'latent' | 'latent+neighbors' | 'window+vae' | 'derived';

export interface ModelInfo {
  readonly name: ModelName;
  readonly input: ModelInput;
  /** One line for --help. */
  readonly summary: string;
  /** Whether --target expression can train it: a model whose label is itself a latent class (vae-m2) cannot. */
  readonly predictsExpression: boolean;
  /** A linear model on its input, fit by the convex solver with the penalty search (src/train/linearFit.ts):
   * full-batch L-BFGS to convergence, not epochs of Adam. */
  readonly linear: boolean;
  /** Whether --neighbors and --k choose genes whose inputs it reads beside each gene's own. */
  readonly neighbors: boolean;
  /** input 'derived': what the classifier reads per gene, built from the normalised dataset and the sources. */
  readonly features?: FeatureBuilder;
}

export const MODEL_REGISTRY: { readonly [K in ModelName]: ModelInfo & { readonly name: K } } = {
  logreg: { name: 'logreg', input: 'window', summary: 'logistic regression on the flattened window, fit to convergence (L-BFGS), L2 penalty chosen by validation AUROC', predictsExpression: true, linear: true, neighbors: false },
  mlp: { name: 'mlp', input: 'window', summary: 'MLP 256-128 on the flattened window', predictsExpression: true, linear: false, neighbors: false },
  deepchrome: { name: 'deepchrome', input: 'window', summary: 'DeepChrome CNN (Singh et al. 2016)', predictsExpression: true, linear: false, neighbors: false },
  'vae-mlp': { name: 'vae-mlp', input: 'latent', summary: "MLP on the VAE's latent means (SimpleChrome)", predictsExpression: true, linear: false, neighbors: false },
  'vae-mlp-neighbors': { name: 'vae-mlp-neighbors', input: 'latent+neighbors', summary: "MLP on a gene's latent and its neighbours' (SimpleChrome)", predictsExpression: true, linear: false, neighbors: true },
  'vae-joint': {
    name: 'vae-joint',
    input: 'window+vae',
    summary: "semi-supervised: vae-mlp's VAE and MLP trained on together (BCE + λ·ELBO, --joint-weight)",
    predictsExpression: true,
    linear: false,
    neighbors: false,
  },
  'vae-m2': {
    name: 'vae-m2',
    input: 'window',
    summary: "semi-supervised VAE (Kingma et al. 2014, M2): the label a latent variable, on labeled and unlabeled genes, started from vae-mlp's pretrained VAE",
    predictsExpression: false,
    linear: false,
    neighbors: false,
  },
  'tss-linear': {
    name: 'tss-linear',
    input: 'derived',
    summary: "logistic regression on 5 summaries per mark at the TSS (the TSS bin(s), means over 3 widening windows, the window's mean)",
    predictsExpression: true,
    linear: true,
    neighbors: false,
    features: tssLinearFeatures,
  },
  'expression-prior': {
    name: 'expression-prior',
    input: 'derived',
    summary: "logistic regression on the gene's mean and sd of log10(RPKM+1) over the other cells of the 56-cell table; no marks",
    predictsExpression: true,
    linear: true,
    neighbors: false,
    features: expressionPriorBuilder,
  },
  'logreg-neighbors': {
    name: 'logreg-neighbors',
    input: 'derived',
    summary: "logistic regression on the gene's window and its --k neighbours' windows (--neighbors, as vae-mlp-neighbors)",
    predictsExpression: true,
    linear: true,
    neighbors: true,
    features: logregNeighborsFeatures,
  },
};

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The registry's entry for `name`; an unknown name is an error naming the known ones, never another model. */
export function modelInfo(name: string, where = 'model'): ModelInfo {
  if (!isModelName(name)) throw new Error(`${where}: unknown model ${JSON.stringify(name)}; known models are ${MODEL_NAMES.join(', ')}`);
  return MODEL_REGISTRY[name];
}

export const usesVae = (name: ModelName): boolean => ['latent', 'latent+neighbors', 'window+vae'].includes(MODEL_REGISTRY[name].input);
/** A model that is itself a VAE with the label as a latent (vae-m2): --vae-epochs, --latent and --beta apply to it. */
export const isSemiSupervisedVae = (name: ModelName): boolean => name === 'vae-m2';
/** Whether a run of `name` first trains SimpleChrome's VAE on the unlabeled genes: every model that reads it
 * (usesVae), and vae-m2, which starts from its weights (src/models/m2FromVae.ts) but keeps none of it apart
 * (its checkpoint holds the whole M2, so predict needs no VAE file; unless --m2-init random skips the VAE). */
export const pretrainsVae = (name: ModelName): boolean => usesVae(name) || isSemiSupervisedVae(name);
export const usesNeighbors = (name: ModelName): boolean => MODEL_REGISTRY[name].neighbors;
/** A linear model fit by the convex solver with the penalty search (logreg, and logistic regression on derived features), not by the epoch loop. */
export const isLinear = (name: ModelName): boolean => MODEL_REGISTRY[name].linear;
/** The builder of the feature matrix a 'derived'-input model reads, or undefined for the others. */
export const derivedFeatures = (name: ModelName): FeatureBuilder | undefined => MODEL_REGISTRY[name].features;
/** The classifier is trained on fixed latent means (not on the window through an encoder it trains). */
export const readsLatents = (name: ModelName): boolean => MODEL_REGISTRY[name].input.startsWith('latent');
export const trainsJointly = (name: ModelName): boolean => MODEL_REGISTRY[name].input === 'window+vae';
/** Whether --target expression can train `name` (predicted log expression from a one-output head). */
export const predictsExpression = (name: ModelName): boolean => MODEL_REGISTRY[name].predictsExpression;
