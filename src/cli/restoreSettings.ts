import { type CliOptions, parseArgs, UsageError } from './args.ts';
import type { RunSettings } from './runModel.ts';

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
export const ADDED_LATER: ReadonlySet<string> = new Set<keyof CliOptions>(['target', 'jointWeight']);

/** Settings split off an older one: a file without one was written when the older setting decided both, so it
 * reads back as that setting's stored value (--vae-batch: before it, --batch sized the VAE's minibatch too). */
export const SPLIT_FROM: Readonly<Partial<Record<keyof CliOptions, keyof CliOptions>>> = { vaeBatch: 'batch' };

/** The stored value of `key`, or for a setting split off an older one, the older one's (SPLIT_FROM). */
export function storedValue(s: Readonly<Record<string, unknown>>, key: keyof CliOptions): unknown {
  const older = SPLIT_FROM[key];
  return s[key] === undefined && older !== undefined ? s[older] : s[key];
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
