import { type CliOptions, parseArgs, UsageError } from './args.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { pickRunSettings } from './pickRunSettings.ts';

// Reading a checkpoint's stored command line back into options, free of Node
// built-ins so that a page reads a checkpoint as the command line does.

export type StoredSettings = Omit<RunSettings, 'trainSize'> & {
  /** null for all training genes (JSON has no undefined). */
  readonly trainSize: number | null;
  readonly normalize: CliOptions['normalize'];
  readonly device: CliOptions['device'];
  /** Absolute path of the data the run read. */
  readonly data: string;
};

/** The flag each resumable setting comes from. */
export const FLAG_OF: Readonly<Partial<Record<keyof CliOptions, string>>> = {
  model: '--model',
  target: '--target',
  trainSize: '--train-size',
  epochs: '--epochs',
  vaeEpochs: '--vae-epochs',
  batch: '--batch',
  vaeBatch: '--vae-batch',
  lr: '--lr',
  latent: '--latent',
  beta: '--beta',
  sigma: '--sigma',
  jointWeight: '--joint-weight',
  alpha: '--alpha',
  m2Init: '--m2-init',
  neighbors: '--neighbors',
  k: '--k',
  seed: '--seed',
  normalize: '--normalize',
  device: '--gpu/--cpu',
  data: '--data',
  out: '--out',
};

/** Settings newer than some stored runs: a file without one was written before it existed, and it reads back
 * as the default, which is what that run did (a classifier before --target; λ's default before vae-joint). */
export const ADDED_LATER: ReadonlySet<string> = new Set<keyof CliOptions>(['target', 'jointWeight', 'alpha']);

/** Settings whose default changed when they were added: a file without one reads back as what its run did then
 * (--m2-init: vae-m2 trained from random weights, for --vae-epochs epochs, before it started from the VAE). */
export const ABSENT_MEANS: Readonly<Partial<Record<keyof CliOptions, string>>> = { m2Init: 'random' };

/** Settings split off an older one: a file without one was written when the older setting decided both, so it
 * reads back as that setting's stored value (--vae-batch: before it, --batch sized the VAE's minibatch too). */
export const SPLIT_FROM: Readonly<Partial<Record<keyof CliOptions, keyof CliOptions>>> = { vaeBatch: 'batch' };

/** The stored value of `key`, or for a setting split off an older one, the older one's (SPLIT_FROM), or for one
 * whose default changed, what its absence means (ABSENT_MEANS). A list (--joint-weight 0,1,10) is given back as
 * the command line spells it. */
export function storedValue(s: Readonly<Record<string, unknown>>, key: keyof CliOptions): unknown {
  const older = SPLIT_FROM[key];
  const v = s[key] === undefined && older !== undefined ? s[older] : (s[key] ?? ABSENT_MEANS[key]);
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? v.join(',') : v;
}

/** Parses stored settings back into options; `file` names the checkpoint in errors. */
export function restoreSettings(raw: Readonly<Record<string, unknown>>, file: string): CliOptions {
  const s = raw as Partial<Record<keyof StoredSettings, unknown>>;
  const argv: string[] = [];
  // Every stored setting that is a plain `--flag=value`; trainSize and device are spelled differently below.
  const flags = Object.entries(FLAG_OF).filter(([key]) => !['trainSize', 'device', 'out'].includes(key)) as [keyof StoredSettings, string][];
  for (const [key, flag] of flags) {
    const v = storedValue(raw, key as keyof CliOptions);
    if (v === undefined && ADDED_LATER.has(key)) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${file}: stored settings have no valid "${key}" (${JSON.stringify(v)})`);
    argv.push(`${flag}=${String(v)}`);
  }
  argv.push(`--train-size=${s.trainSize === null || s.trainSize === undefined ? 'all' : String(s.trainSize)}`);
  if (s.device !== 'gpu' && s.device !== 'cpu') throw new Error(`${file}: stored settings have device ${JSON.stringify(s.device)}`);
  argv.push(`--${s.device}`);
  try {
    return { ...parseArgs(argv), explicit: [] };
  } catch (e) {
    if (e instanceof UsageError) throw new Error(`${file}: stored settings are invalid: ${e.message}`);
    throw e;
  }
}

/** The run settings stored in a checkpoint, checked as restoreSettings checks them, with the neighbour sources given
 * (the page's way in: it has no command line of its own to pick them from). */
export function restoreRunSettings(raw: Readonly<Record<string, unknown>>, file: string, sources: { readonly annotation: string; readonly expressionTable: string }): RunSettings {
  return pickRunSettings(restoreSettings(raw, file), sources);
}
