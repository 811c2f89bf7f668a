// The one list of models the command line can train. Argument parsing, the
// help text, flag checks, the experiment, resume and predict all ask this
// list; what each model's classifier is built from is decided by the
// exhaustive switch in src/checkpoint/modelSpec.ts (classifierSpecFor), so a
// new name here does not compile until it says what it builds.

export const MODEL_NAMES = ['logreg', 'mlp', 'deepchrome', 'vae-mlp', 'vae-mlp-neighbors', 'vae-joint', 'vae-m2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** What the classifier of a model reads for each gene; 'window+vae': the window, through a VAE encoder
 * that it fine-tunes (pretrained like vae-mlp's, then trained with the head). */
export type ModelInput = 'window' | 'latent' | 'latent+neighbors' | 'window+vae';

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
}

export const MODEL_REGISTRY: { readonly [K in ModelName]: ModelInfo & { readonly name: K } } = {
  logreg: { name: 'logreg', input: 'window', summary: 'logistic regression on the flattened window, fit to convergence (L-BFGS), L2 penalty chosen by validation AUROC', predictsExpression: true, linear: true },
  mlp: { name: 'mlp', input: 'window', summary: 'MLP 256-128 on the flattened window', predictsExpression: true, linear: false },
  deepchrome: { name: 'deepchrome', input: 'window', summary: 'DeepChrome CNN (Singh et al. 2016)', predictsExpression: true, linear: false },
  'vae-mlp': { name: 'vae-mlp', input: 'latent', summary: "MLP on the VAE's latent means (SimpleChrome)", predictsExpression: true, linear: false },
  'vae-mlp-neighbors': { name: 'vae-mlp-neighbors', input: 'latent+neighbors', summary: "MLP on a gene's latent and its neighbours' (SimpleChrome)", predictsExpression: true, linear: false },
  'vae-joint': {
    name: 'vae-joint',
    input: 'window+vae',
    summary: "semi-supervised: vae-mlp's VAE and MLP trained on together (BCE + λ·ELBO, --joint-weight)",
    predictsExpression: true,
    linear: false,
  },
  'vae-m2': { name: 'vae-m2', input: 'window', summary: 'semi-supervised VAE (Kingma et al. 2014, M2): the label a latent variable, on labeled and unlabeled genes', predictsExpression: false, linear: false },
};

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The registry's entry for `name`; an unknown name is an error naming the known ones, never another model. */
export function modelInfo(name: string, where = 'model'): ModelInfo {
  if (!isModelName(name)) throw new Error(`${where}: unknown model ${JSON.stringify(name)}; known models are ${MODEL_NAMES.join(', ')}`);
  return MODEL_REGISTRY[name];
}

export const usesVae = (name: ModelName): boolean => MODEL_REGISTRY[name].input !== 'window';
/** A model that is itself a VAE with the label as a latent (vae-m2): no separate VAE phase, but --vae-epochs, --latent and --beta apply. */
export const isSemiSupervisedVae = (name: ModelName): boolean => name === 'vae-m2';
export const usesNeighbors = (name: ModelName): boolean => MODEL_REGISTRY[name].input === 'latent+neighbors';
/** The classifier is trained on fixed latent means (not on the window through an encoder it trains). */
export const readsLatents = (name: ModelName): boolean => MODEL_REGISTRY[name].input.startsWith('latent');
export const trainsJointly = (name: ModelName): boolean => MODEL_REGISTRY[name].input === 'window+vae';
/** Whether --target expression can train `name` (predicted log expression from a one-output head). */
/** Whether `name` is fit by the convex solver (registry field `linear`), not by the epoch loop. */
export const isLinear = (name: ModelName): boolean => MODEL_REGISTRY[name].linear;
export const predictsExpression = (name: ModelName): boolean => MODEL_REGISTRY[name].predictsExpression;
