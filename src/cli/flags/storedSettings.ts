import { resolve } from 'node:path';
import { type CliOptions, UsageError } from './args.ts';
import { FLAG_OF, type StoredSettings } from './restoreSettings.ts';
import { settingsOf } from '../session/session.ts';
import { RUN_FLAGS } from '../../train/runFlags.ts';

export { FLAG_OF, restoreSettings, type StoredSettings } from './restoreSettings.ts';

// The command line of a training run as a checkpoint keeps it, and back. A
// stored run is read back through parseArgs, so a resumed run's settings pass
// exactly the checks a typed command line does.

export function storeSettings(o: CliOptions, dataPath: string): StoredSettings {
  return { ...settingsOf(o), trainSize: o.trainSize ?? null, normalize: o.normalize, device: o.device, data: resolve(dataPath) };
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
      const unset = (RUN_FLAGS as Readonly<Record<string, { readonly unset?: string }>>)[key]?.unset;
      const show = (v: unknown): string => (v === undefined ? (unset ?? 'none') : String(v));
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

