import { type CliOptions, type ModelName, UsageError } from './args.ts';
import { NEIGHBOR_SETTINGS, VAE_SETTINGS, type ModelSetting } from '../../models/definition.ts';
import { MODEL_NAMES, isLinear, isSemiSupervisedVae, predictsExpression, takesSetting } from '../../models/registry.ts';
import { inWords } from '../session/outputs.ts';
import { FLAG_OF } from './storedSettings.ts';

// Which flags apply to which command. A flag that the chosen command would
// ignore is an error naming the flag and what it belongs to, never silently
// dropped: `--seeds 5` without --experiment would otherwise train one model
// with one seed and look like it had done what was asked.

const FLAG: Readonly<Partial<Record<keyof CliOptions, string>>> = {
  ...FLAG_OF,
  seeds: '--seeds',
  minSteps: '--min-steps',
  maxEpochs: '--max-epochs',
  models: '--models',
  sizes: '--sizes',
  quiet: '--quiet',
  resume: '--resume',
  overwrite: '--overwrite',
  gemm: '--gemm',
  plan: '--plan',
};

const EXPERIMENT_SETTINGS: readonly (keyof CliOptions)[] = ['models', 'sizes', 'seeds', 'minSteps', 'maxEpochs', 'plan'];
/** One training run's choices that the experiment makes itself, with what it takes instead. */
const SINGLE_RUN_SETTINGS: Readonly<Partial<Record<keyof CliOptions, string>>> = {
  model: 'it trains every model of --models',
  trainSize: 'it trains every size of --sizes',
  seed: 'it runs seeds 1..N of --seeds',
};

const flagOf = (key: keyof CliOptions): string => FLAG[key] ?? `--${key}`;

/** The models whose definitions (src/models/definitions/) list `setting` as one they read. */
const taking = (setting: ModelSetting) => (m: ModelName): boolean => takesSetting(m, setting);
/** The models that have a VAE of some kind: they take one of its settings. */
const hasVae = (m: ModelName): boolean => VAE_SETTINGS.some((s) => takesSetting(m, s));

/** Throws a UsageError for the first flag the command line gave that its command does not use. */
export function checkFlagsApply(o: CliOptions): void {
  const given = <K extends keyof CliOptions>(keys: readonly K[]): K[] => keys.filter((k) => o.explicit.includes(k));
  if (o.command === 'self-check') {
    const extra = o.explicit[0];
    if (extra !== undefined) throw new UsageError(`${flagOf(extra)} does not apply to --self-check, which compares every kernel on the GPU with its CPU twin and takes no other flags`);
    return;
  }
  if (o.command === 'help') return;
  if (o.explicit.includes('gemm') && o.device === 'cpu') {
    throw new UsageError('--gemm chooses how the GPU runs its matrix products; --cpu runs the CPU reference path, which has no variants');
  }
  // --resume takes its settings from the checkpoint: checkResumeFlags judges those flags against it.
  if (o.resume !== undefined) {
    if (o.explicit.includes('gemm')) {
      throw new UsageError(`--gemm does not apply to --resume ${o.resume}: a resumed run keeps the GEMM variants it recorded, so it ends exactly as an uninterrupted run`);
    }
    if (o.overwrite) throw new UsageError(`--overwrite replaces the run in --out; --resume ${o.resume} continues one: give one of them`);
    if (o.plan !== undefined) throw new UsageError(`--plan writes a new experiment's grid for a cluster; --resume ${o.resume} continues one on this machine: give one of them`);
    return;
  }
  const experiment = o.command === 'experiment';
  const models: readonly ModelName[] = experiment ? o.models : [o.model];
  const what = experiment ? '--experiment small-data' : `--model ${o.model}`;
  if (!experiment && o.neighborKinds.length > 1) {
    throw new UsageError(`--neighbors ${o.neighborKinds.join(',')}: a training run uses one kind of neighbours; --experiment small-data runs vae-mlp-neighbors with each`);
  }
  if (experiment && o.plan !== undefined && o.overwrite) {
    throw new UsageError('--overwrite does not apply to --plan: a plan file is never replaced, and each entry of the plan writes only into its own directory');
  }
  if (experiment) {
    for (const key of given(Object.keys(SINGLE_RUN_SETTINGS) as (keyof CliOptions)[])) {
      throw new UsageError(`${flagOf(key)} does not apply to --experiment small-data: ${SINGLE_RUN_SETTINGS[key]}`);
    }
  } else {
    for (const key of given(EXPERIMENT_SETTINGS)) {
      throw new UsageError(`${flagOf(key)} belongs to --experiment small-data; a single training run does not use it (it takes --model, --train-size and --seed)`);
    }
  }
  for (const key of given(VAE_SETTINGS)) {
    if (models.some(taking(key))) continue;
    // A chosen model with a VAE that does not take this setting is vae-m2, whose sigma is always a log-variance.
    if (models.some(hasVae)) throw new UsageError(`${flagOf(key)} applies to the VAE of the ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} models; vae-m2's encoder always has a log-variance head`);
    throw new UsageError(`${flagOf(key)} applies to the VAE of the ${inWords(MODEL_NAMES.filter(hasVae), 'and')} models; ${what} has no VAE`);
  }
  if (models.every(isSemiSupervisedVae) && o.m2Init === 'random' && o.explicit.includes('epochs')) {
    throw new UsageError(`--epochs does not apply to ${what} --m2-init random: with no pretrained VAE, vae-m2 trains --vae-epochs epochs, each a pass over the unlabeled genes`);
  }
  for (const key of given(['alpha', 'm2Init'] as const)) {
    if (!models.some(taking(key))) throw new UsageError(`${flagOf(key)} applies to ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} only; ${what} does not train it`);
  }
  if (o.explicit.includes('clip') && models.every(isLinear)) {
    throw new UsageError(
      `--clip limits the gradient of each Adam step; ${what} is fit by full-batch L-BFGS to convergence, as ${inWords(MODEL_NAMES.filter(isLinear), 'and')} are, and takes no clip`,
    );
  }
  const cannot = models.filter((m) => !predictsExpression(m));
  if (o.target === 'expression' && cannot.length > 0) {
    throw new UsageError(`--target expression does not apply to ${inWords(cannot, 'and')}: its label is a latent class of two values; ${inWords(MODEL_NAMES.filter(predictsExpression), 'and')} predict expression`);
  }
  if (!models.some(taking('jointWeight')) && o.explicit.includes('jointWeight')) {
    throw new UsageError(`${flagOf('jointWeight')} weighs the ELBO in the loss of ${inWords(MODEL_NAMES.filter(taking('jointWeight')), 'and')}; ${what} does not train a VAE with its classifier`);
  }
  for (const key of given(NEIGHBOR_SETTINGS)) {
    if (!models.some(taking(key))) throw new UsageError(`${flagOf(key)} applies to the ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} models only; ${what} uses no neighbours`);
  }
}
