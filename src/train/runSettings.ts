import { deepchromeDefinition } from '../models/definitions/deepchrome.ts';
import { MODEL_SETTINGS, type ModelSetting } from '../models/definition.ts';
import { derivedFeatures, isLinear, isSemiSupervisedVae, type ModelName, takesSetting, usesNeighbors } from '../models/registry.ts';
import type { Target } from './target.ts';

// What one training run is told: the model, its sizes and its schedule. The
// command line (src/cli/flags/pickRunSettings.ts) and the page each fill one in from
// their own inputs; nothing here knows where a setting came from.

export interface RunSettings {
  readonly model: ModelName;
  /** What the model predicts: the high/low class (BCE), or log10(RPKM + 1) (MSE); see target.ts. */
  readonly target: Target;
  /** Labeled training genes; undefined = all. */
  readonly trainSize: number | undefined;
  /** Classifier epochs (vae-m2: M2 epochs after the pretrained VAE's). */
  readonly epochs: number;
  /** The VAE's epochs (vae-m2 under m2Init 'random': its own epochs, with no pretraining). */
  readonly vaeEpochs: number;
  /** Classifier minibatch. */
  readonly batch: number;
  /** The VAE's minibatch (its pretraining, and vae-m2's unlabeled genes), --batch's unless given: the common protocol
   * trains classifiers at 32 and the VAE at 64. */
  readonly vaeBatch: number;
  readonly lr: number;
  /** The largest L2 norm of the gradient of each Adam step (torch.nn.utils.clip_grad_norm_ over the model being
   * trained: the classifier, vae-joint's VAE and head, vae-m2); undefined: no clipping. The VAE's pretraining is not
   * clipped: it is shared by every vae-* model of a cell and seed. */
  readonly clip: number | undefined;
  readonly latent: number;
  /** The KL term's weight in the VAE's loss. */
  readonly beta: number;
  /** How the VAE's encoder gives its spread: a log-variance head, or softplus of a raw one. */
  readonly sigma: 'logvar' | 'softplus';
  /** vae-joint: λ, the ELBO's weight in its loss BCE + λ·ELBO; several: one model per value, the best kept by validation score. */
  readonly jointWeight: readonly number[];
  /** vae-m2: α, the weight of the labeled genes' classification loss, as a multiple of N (labeled + unlabeled genes):
   * α = A·N (Kingma's 0.1); several: one model per value, the best kept by validation score. */
  readonly alpha: readonly number[];
  /** vae-m2's start: the pretrained VAE's weights (vae-mlp's VAE; M2 then trains `epochs` epochs), or random ones
   * with no pretraining and `vaeEpochs` M2 epochs (what it did before, and what runs stored then read back as). */
  readonly m2Init: 'pretrained' | 'random';
  /** vae-mlp-neighbors and logreg-neighbors: which genes are a gene's neighbours, and how many on each side. */
  readonly neighbors: 'spatial' | 'functional';
  readonly k: number;
  readonly seed: number;
  /** Sources for neighbour genes (vae-mlp-neighbors only). */
  readonly annotation: string;
  readonly expressionTable: string;
}

/** The settings' defaults, apart from the sources, which depend on where the data lies: the command line's flags
 * default to these, and the page takes those it has no field for. */
export const RUN_DEFAULTS: Omit<RunSettings, 'annotation' | 'expressionTable'> = {
  model: deepchromeDefinition.name,
  target: 'class',
  trainSize: undefined,
  epochs: 10,
  vaeEpochs: 30,
  batch: 64,
  vaeBatch: 64,
  lr: 1e-3,
  clip: undefined,
  latent: 10,
  beta: 5e-5,
  sigma: 'logvar',
  jointWeight: [10],
  alpha: [0.1],
  m2Init: 'pretrained',
  neighbors: 'spatial',
  k: 2,
  seed: 1,
};

/** The settings the run's model reads, as metrics.json records them: a default the model ignores (--k on a vae-mlp
 * run, --epochs on a linear fit) would read as a choice that shaped the result. */
export function settingsThatApply(s: RunSettings): Partial<RunSettings> {
  const m = s.model;
  const applies = (key: string): boolean => {
    if ((MODEL_SETTINGS as readonly string[]).includes(key)) return takesSetting(m, key as ModelSetting);
    // A linear model is fit by L-BFGS on every labeled gene at once: no epochs, minibatch, learning rate or clip.
    if (key === 'epochs' || key === 'batch' || key === 'lr' || key === 'clip') return !isLinear(m) && !(key === 'epochs' && isSemiSupervisedVae(m) && s.m2Init === 'random');
    // The gene annotation and the expression table are read for neighbours and derived features only.
    if (key === 'annotation' || key === 'expressionTable') return usesNeighbors(m) || derivedFeatures(m) !== undefined;
    return true;
  };
  return Object.fromEntries(Object.entries(s).filter(([k]) => applies(k))) as Partial<RunSettings>;
}
