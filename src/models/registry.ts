// The one list of models the command line can train: each is one definition
// in src/models/definitions/<name>.ts (definition.ts says what it declares),
// and adding a model is its file and one line here. Argument parsing, the
// help text, flag checks, the training core, the experiment, resume and
// predict all ask this list, through the predicates below; none compares
// model names.

import { inWords } from '../util/inWords.ts';
import type { AttentionMaps, ModelDefinition, ModelSetting, SourceFile, TrainingDefaults, TrainingPhase } from './definition.ts';
import { attentivechromeDefinition } from './definitions/attentivechrome.ts';
import { deepchromeDefinition } from './definitions/deepchrome.ts';
import { expressionPriorDefinition } from './definitions/expression-prior.ts';
import { logregNeighborsDefinition } from './definitions/logreg-neighbors.ts';
import { logregDefinition } from './definitions/logreg.ts';
import { markMeansDefinition } from './definitions/mark-means.ts';
import { mlpDefinition } from './definitions/mlp.ts';
import { tssLinearDefinition } from './definitions/tss-linear.ts';
import { vaeJointDefinition } from './definitions/vae-joint.ts';
import { vaeM2Definition } from './definitions/vae-m2.ts';
import { vaeMlpNeighborsDefinition } from './definitions/vae-mlp-neighbors.ts';
import { vaeMlpDefinition } from './definitions/vae-mlp.ts';
import type { FeatureBuilder } from './derivedFeatures.ts';
import type { ClassifierInput, ClassifierSpec } from './modelSpec.ts';

export type { ModelDefinition, ModelInput } from './definition.ts';

/** In the order --help, the experiment's default --models and its tables list them. */
const DEFINITIONS = [
  logregDefinition,
  mlpDefinition,
  deepchromeDefinition,
  vaeMlpDefinition,
  vaeMlpNeighborsDefinition,
  vaeJointDefinition,
  vaeM2Definition,
  tssLinearDefinition,
  expressionPriorDefinition,
  logregNeighborsDefinition,
  markMeansDefinition,
  attentivechromeDefinition,
] as const;

export type ModelName = (typeof DEFINITIONS)[number]['name'];
export const MODEL_NAMES: readonly ModelName[] = DEFINITIONS.map((d) => d.name);

export const MODEL_REGISTRY: { readonly [K in ModelName]: ModelDefinition<K> } = Object.fromEntries(DEFINITIONS.map((d) => [d.name, d])) as {
  readonly [K in ModelName]: ModelDefinition<K>;
};

/** An experiment's --models when none are named: every model but those whose definition says why a run costs too
 * much to take unasked (costlyInExperiment). */
export const DEFAULT_EXPERIMENT_MODELS: readonly ModelName[] = DEFINITIONS.filter((d) => d.costlyInExperiment === undefined).map((d) => d.name);

/** The models left out of that default, each with why. */
export const COSTLY_IN_EXPERIMENT: readonly { readonly name: ModelName; readonly why: string }[] = DEFINITIONS.flatMap((d) =>
  d.costlyInExperiment === undefined ? [] : [{ name: d.name, why: d.costlyInExperiment }],
);

/** The model an experiment's shared VAE is recorded under in its checkpoints: every model that reads the VAE
 * pretrains the same one, vae-mlp's. */
export const SHARED_VAE_MODEL: ModelName = vaeMlpDefinition.name;

/** The training settings the model takes unless the user gives them (its definition's trainingDefaults). */
export function trainingDefaults(m: ModelName): TrainingDefaults {
  return MODEL_REGISTRY[m].trainingDefaults ?? {};
}

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** The registry's entry for `name`; an unknown name is an error naming the known ones, never another model. */
export function modelInfo(name: string, where = 'model'): ModelDefinition<ModelName> {
  if (!isModelName(name)) throw new Error(`${where}: unknown model ${JSON.stringify(name)}; known models are ${MODEL_NAMES.join(', ')}`);
  return MODEL_REGISTRY[name];
}

/** The definition of a name known to be registered; one read from outside the type system is still checked. */
const definitionOf = (name: ModelName): ModelDefinition<ModelName> => modelInfo(name);
const hasPhase = (name: ModelName, phase: TrainingPhase): boolean => definitionOf(name).phases.includes(phase);

/** Whether `name`'s classifier reads SimpleChrome's VAE: its latents, or the window through its encoder. */
export const usesVae = (name: ModelName): boolean => ['latent', 'latent+neighbors', 'window+vae'].includes(definitionOf(name).input);
/** A model that is itself a VAE with the label as a latent (vae-m2): --vae-epochs, --latent and --beta apply to it. */
export const isSemiSupervisedVae = (name: ModelName): boolean => hasPhase(name, 'm2');
/** Whether a run of `name` first trains SimpleChrome's VAE on the unlabeled genes: every model that reads it
 * (usesVae), and vae-m2, which starts from its weights (src/models/m2FromVae.ts) but keeps none of it apart
 * (its checkpoint holds the whole M2, so predict needs no VAE file; unless --m2-init random skips the VAE). */
export const pretrainsVae = (name: ModelName): boolean => hasPhase(name, 'vae-pretraining');
/** Whether --neighbors and --k choose genes whose inputs it reads beside each gene's own. */
export const usesNeighbors = (name: ModelName): boolean => takesSetting(name, 'neighbors');
/** A linear model fit by the convex solver with the penalty search (logreg, and logistic regression on derived features), not by the epoch loop. */
export const isLinear = (name: ModelName): boolean => hasPhase(name, 'linear-fit');
/** The builder of the feature matrix a 'derived'-input model reads, or undefined for the others. */
export const derivedFeatures = (name: ModelName): FeatureBuilder | undefined => definitionOf(name).features;
/** The classifier is trained on fixed latent means (not on the window through an encoder it trains). */
export const readsLatents = (name: ModelName): boolean => definitionOf(name).input.startsWith('latent');
export const trainsJointly = (name: ModelName): boolean => hasPhase(name, 'joint');
/** Whether --target expression can train `name` (predicted log expression from a one-output head). */
/** The layers whose weights are the model's attention maps, or undefined for a model without attention. */
export const attentionMapsOf = (name: ModelName): AttentionMaps | undefined => definitionOf(name).attentionMaps;

/** Why a model gives no attention maps: it has no attention layers; which models have them. */
export function noAttentionMaps(name: ModelName): string {
  const withMaps = MODEL_NAMES.filter((n) => attentionMapsOf(n) !== undefined);
  return `a ${name} model has no attention layers; attention maps come from ${inWords(withMaps, 'or')} models`;
}

export const predictsExpression = (name: ModelName): boolean => definitionOf(name).predictsExpression;
/** A derived model whose features are affine in the gene's own window (what explain needs of it). */
export const explainsWindowAffinely = (name: ModelName): boolean => definitionOf(name).affineInWindow === true;
/** What explain says the model reads besides the gene's own window, or undefined when it reads nothing else. */
export const outsideInputs = (name: ModelName): string | undefined => definitionOf(name).outsideInputs;
/** Whether the model-specific setting `setting` (its flag) applies to `name`. */
export const takesSetting = (name: ModelName, setting: ModelSetting): boolean => definitionOf(name).settings.includes(setting);

/** The files besides the data a run of `name` reads: its features' (the definition's `sources`), and for a model
 * with neighbours, the annotation (spatial neighbours, by TSS) or the RPKM table (functional, by co-expression). */
export function sourcesRead(name: ModelName, neighbors: 'spatial' | 'functional'): SourceFile[] {
  const read = new Set<SourceFile>(definitionOf(name).sources ?? []);
  if (usesNeighbors(name)) read.add(neighbors === 'spatial' ? 'annotation' : 'expressionTable');
  return [...read];
}

/** The classifier each registered model trains; `l2` is a linear model's penalty. */
export function classifierSpecFor(model: ModelName, input: ClassifierInput, l2 = 0): ClassifierSpec {
  const d = modelInfo(model);
  return d.classifierSpec(
    {
      bins: input.bins,
      marks: input.marks,
      latentWidth: () => {
        if (input.latentWidth === undefined) throw new Error(`${model}: its classifier reads latents, and no latent width was given`);
        return input.latentWidth;
      },
      derivedWidth: () => {
        if (input.derivedWidth === undefined) throw new Error(`${model}: its classifier reads derived features, and no feature width was given`);
        return input.derivedWidth;
      },
    },
    l2,
  );
}

/** The experiment's baselines in the registry's order: the window-only ones, then those that see other cells' expression. */
export const baselineModels = (kind?: 'window' | 'outside'): ModelName[] =>
  DEFINITIONS.filter((d) => d.baseline !== undefined && (kind === undefined || d.baseline === kind)).map((d) => d.name);
