import { type CliOptions, parseArgs, UsageError } from './args.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { ADDED_LATER, RUN_FLAGS, RUN_KEYS, storedValue } from '../../train/runFlags.ts';

// Reading a checkpoint's stored command line back into options. The page reads
// a checkpoint's run settings with the training core's restoreRunSettings
// (src/train/runFlags.ts), through the same parsers.

export type StoredSettings = Omit<RunSettings, 'trainSize'> & {
  /** null for all training genes (JSON has no undefined). */
  readonly trainSize: number | null;
  readonly normalize: CliOptions['normalize'];
  readonly device: CliOptions['device'];
  /** Absolute path of the data the run read. */
  readonly data: string;
};

/** The flag each resumable setting comes from: the run settings' own (src/train/runFlags.ts), and the command line's. */
export const FLAG_OF: Readonly<Partial<Record<keyof CliOptions, string>>> = {
  ...Object.fromEntries(RUN_KEYS.map((k) => [k, RUN_FLAGS[k].flag])),
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
    const v = storedValue(raw, key);
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
