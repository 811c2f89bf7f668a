import { resolve } from 'node:path';
import { type CliOptions, parseArgs, UsageError } from './args.ts';
import type { RunSettings } from './runModel.ts';
import { settingsOf } from './session.ts';

// The command line of a training run as a checkpoint keeps it, and back. A
// stored run is read back through parseArgs, so a resumed run's settings pass
// exactly the checks a typed command line does.

export type StoredSettings = Omit<RunSettings, 'trainSize'> & {
  /** null for all training genes (JSON has no undefined). */
  readonly trainSize: number | null;
  readonly normalize: CliOptions['normalize'];
  readonly device: CliOptions['device'];
  /** Absolute path of the data the run read. */
  readonly data: string;
};

export function storeSettings(o: CliOptions, dataPath: string): StoredSettings {
  return { ...settingsOf(o), trainSize: o.trainSize ?? null, normalize: o.normalize, device: o.device, data: resolve(dataPath) };
}

/** The flag each resumable setting comes from. */
export const FLAG_OF: Readonly<Partial<Record<keyof CliOptions, string>>> = {
  model: '--model',
  trainSize: '--train-size',
  epochs: '--epochs',
  vaeEpochs: '--vae-epochs',
  batch: '--batch',
  lr: '--lr',
  latent: '--latent',
  beta: '--beta',
  sigma: '--sigma',
  neighbors: '--neighbors',
  k: '--k',
  seed: '--seed',
  normalize: '--normalize',
  device: '--gpu/--cpu',
  data: '--data',
  out: '--out',
};

/** Parses stored settings back into options; `file` names the checkpoint in errors. */
export function restoreSettings(raw: Readonly<Record<string, unknown>>, file: string): CliOptions {
  const s = raw as Partial<Record<keyof StoredSettings, unknown>>;
  const argv: string[] = [];
  // Every stored setting that is a plain `--flag=value`; trainSize and device are spelled differently below.
  const flags = Object.entries(FLAG_OF).filter(([key]) => !['trainSize', 'device', 'out'].includes(key)) as [keyof StoredSettings, string][];
  for (const [key, flag] of flags) {
    const v = s[key];
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

/** Settings a resumed run may take from its command line instead of the checkpoint. */
const FREE = new Set<keyof CliOptions>(['resume', 'quiet', 'device', 'data', 'out', 'epochs']);

/** Refuses flags that contradict the checkpoint (and flags that make no sense with --resume). */
export function checkResumeFlags(given: CliOptions, stored: CliOptions, dir: string): void {
  for (const key of given.explicit) {
    if (FREE.has(key)) continue;
    const flag = FLAG_OF[key];
    if (flag === undefined) throw new UsageError(`--resume ${dir}: cannot be combined with --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (JSON.stringify(given[key]) !== JSON.stringify(stored[key])) {
      const show = (v: unknown): string => (v === undefined ? 'all' : String(v));
      throw new UsageError(
        `${flag} ${show(given[key])} conflicts with the checkpoint in ${dir} (${flag} ${show(stored[key])}); ` +
          'a resumed run takes its settings from its checkpoint',
      );
    }
  }
  if (given.explicit.includes('out') && given.out !== undefined && resolve(given.out) !== resolve(dir)) {
    throw new UsageError(`--out ${given.out} conflicts with --resume ${dir}: a resumed run writes where it started`);
  }
}

