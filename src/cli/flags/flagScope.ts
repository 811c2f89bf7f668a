import { type CliOptions, type ModelName, UsageError } from './args.ts';
import { RUN_KEYS } from '../../train/runFlags.ts';
import { settingOutOfScope } from '../../train/settingScope.ts';
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
  const outOfScope = settingOutOfScope({
    models,
    given: RUN_KEYS.filter((k) => o.explicit.includes(k)),
    m2Init: o.m2Init,
    target: o.target,
    what,
    nameOf: flagOf,
  });
  if (outOfScope !== undefined) throw new UsageError(outOfScope);
}
