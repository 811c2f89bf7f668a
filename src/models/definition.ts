import type { FeatureBuilder } from './derivedFeatures.ts';
import type { ClassifierSpec } from './modelSpec.ts';

// What the rest of the program may ask about a model, declared once in its
// file under src/models/definitions/ and listed in registry.ts. Nothing
// outside src/models names a model: argument parsing, --help, flag checks,
// the training core, checkpoints and predict ask these fields instead.

/** What the classifier of a model reads for each gene. 'window+vae': the window, through a VAE encoder that it
 * fine-tunes (pretrained like vae-mlp's, then trained with the head). 'derived': a feature matrix its definition
 * builds per gene (the `features` builder), read instead of the window. */
export type ModelInput = 'window' | 'latent' | 'latent+neighbors' | 'window+vae' | 'derived';

/** The stages a run of the model goes through, in order:
 * - 'vae-pretraining': SimpleChrome's VAE trained on the unlabeled genes first (vae-m2 starts from its weights,
 *   src/models/m2FromVae.ts, unless --m2-init random skips it);
 * - 'classifier': the epoch loop of Adam on the labeled genes;
 * - 'joint': that loop with the VAE's ELBO beside the classifier's loss (--joint-weight);
 * - 'linear-fit': the convex solver with the penalty search (src/train/linearFit.ts), full-batch L-BFGS to
 *   convergence, not epochs of Adam;
 * - 'm2': Kingma et al.'s M2 objective on labeled and unlabeled genes, the label a latent variable. */
export type TrainingPhase = 'vae-pretraining' | 'classifier' | 'joint' | 'linear-fit' | 'm2';

/** The run settings (their command-line flags: --vae-epochs, …) that only some models read; a flag of one that no
 * chosen model lists is refused by src/cli/flags/flagScope.ts. */
export const MODEL_SETTINGS = ['vaeEpochs', 'vaeBatch', 'latent', 'beta', 'sigma', 'alpha', 'm2Init', 'jointWeight', 'neighbors', 'k'] as const;
export type ModelSetting = (typeof MODEL_SETTINGS)[number];
/** The settings of SimpleChrome's VAE, which every model that reads it takes. */
export const VAE_SETTINGS = ['vaeEpochs', 'vaeBatch', 'latent', 'beta', 'sigma'] as const satisfies readonly ModelSetting[];
/** Whose neighbours a model reads beside each gene's own (--neighbors, --k). */
export const NEIGHBOR_SETTINGS = ['neighbors', 'k'] as const satisfies readonly ModelSetting[];

/** Files besides the data a run may read: the gene annotation (TSS windows) and the 56-cell RPKM table. */
export const SOURCE_FILES = ['annotation', 'expressionTable'] as const;
export type SourceFile = (typeof SOURCE_FILES)[number];

/** The training settings a model's own paper or public code uses, where they differ from the command line's defaults
 * (src/train/runSettings.ts RUN_DEFAULTS): a run of the model takes them unless the user gives the setting. */
export interface TrainingDefaults {
  readonly lr?: number;
  readonly batch?: number;
  readonly epochs?: number;
  /** The gradient-norm clip (--clip). */
  readonly clip?: number;
}

export interface ModelDefinition<N extends string = string> {
  readonly name: N;
  /** One line for --help. */
  readonly summary: string;
  readonly input: ModelInput;
  readonly phases: readonly TrainingPhase[];
  /** The model-specific settings it reads. */
  readonly settings: readonly ModelSetting[];
  /** Whether --target expression can train it: a model whose label is itself a latent class (vae-m2) cannot. */
  readonly predictsExpression: boolean;
  /** The classifier it trains and checkpoints, for inputs of these sizes; `l2` is a linear model's penalty. */
  readonly classifierSpec: (input: SpecSizes, l2: number) => ClassifierSpec;
  /** input 'derived': what the classifier reads per gene, built from the normalised dataset and the sources. */
  readonly features?: FeatureBuilder;
  /** The files its features read whatever its settings (expression-prior: the RPKM table). A model with neighbours
   * reads one more, chosen by --neighbors (registry.ts sourcesRead). */
  readonly sources?: readonly SourceFile[];
  /** A baseline the experiment compares every model with, seed by seed: 'window' when it sees only the gene's own
   * window of marks, as SimpleChrome's vae-mlp does (the claim is measured against the best of these), 'outside'
   * when it also sees other cells' expression (through the table or its neighbours). Absent: not a baseline. */
  readonly baseline?: 'window' | 'outside';
  /** input 'derived': its features are affine in the gene's own window (each gene's f = J·window + c, with c
   * not depending on that window), which `explain` (src/train/explain.ts) needs to carry their gradient back
   * to the window; it refuses a derived model that does not say so. */
  readonly affineInWindow?: boolean;
  /** What the model reads besides the gene's own window (neighbours' windows, other cells' expression), as
   * `explain` names it: it attributes only the gene's own window and reports Σ gradient × input over these. */
  readonly outsideInputs?: string;
  /** Its own defaults for the training settings (TrainingDefaults); absent: the command line's. */
  readonly trainingDefaults?: TrainingDefaults;
  /** The layers whose softmax weights are its attention maps (predict --attention); absent: it has none. */
  readonly attentionMaps?: AttentionMaps;
  /** Why an experiment leaves it out unless --models names it (the hours a run costs on a software adapter);
   * absent: it is in the experiment's default --models. */
  readonly costlyInExperiment?: string;
}

/** Names of two AttentionPool layers (src/nn/attentionPool.ts) of a model over a [bins, marks] window: `bins`
 * pools each mark's bins (its weights per gene: [marks, bins]), `marks` pools the marks ([1, marks]). */
export interface AttentionMaps {
  readonly bins: string;
  readonly marks: string;
}

/** Keeps the name's literal type, so the registry's list gives the union of model names. */
export function defineModel<const N extends string>(d: ModelDefinition<N>): ModelDefinition<N> {
  return d;
}

/** The sizes a classifier spec is built from. A width the model's input does not have throws, naming the model
 * (src/models/registry.ts classifierSpecFor), so a definition asks only for what it reads. */
export interface SpecSizes {
  readonly bins: number;
  readonly marks: number;
  /** Features per gene of the latent input (vae-mlp models); vae-joint and vae-m2: the width of their latent z. */
  latentWidth(): number;
  /** Features per gene of a derived input (the definition's `features`). */
  derivedWidth(): number;
}
