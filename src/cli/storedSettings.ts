import { resolve } from 'node:path';
import { type CliOptions, parseArgs, UsageError } from './args.ts';
import { DEFAULT_ANNOTATION, DEFAULT_EXPRESSION_TABLE } from './dataSource.ts';

// The command line of a training run as a checkpoint keeps it, and back. A
// stored run is read back through parseArgs, so a resumed run's settings pass
// exactly the checks a typed command line does.

export interface StoredSettings {
  readonly model: CliOptions['model'];
  readonly trainSize: number | null;
  readonly epochs: number;
  readonly vaeEpochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly latent: number;
  readonly beta: number;
  readonly sigma: CliOptions['sigma'];
  readonly neighbors: CliOptions['neighbors'];
  readonly k: number;
  readonly seed: number;
  readonly normalize: CliOptions['normalize'];
  readonly device: CliOptions['device'];
  /** Absolute path of the data the run read. */
  readonly data: string;
  readonly annotation: string;
  readonly expressionTable: string;
}

export function storeSettings(o: CliOptions, dataPath: string): StoredSettings {
  return {
    model: o.model,
    trainSize: o.trainSize ?? null,
    epochs: o.epochs,
    vaeEpochs: o.vaeEpochs,
    batch: o.batch,
    lr: o.lr,
    latent: o.latent,
    beta: o.beta,
    sigma: o.sigma,
    neighbors: o.neighbors,
    k: o.k,
    seed: o.seed,
    normalize: o.normalize,
    device: o.device,
    data: resolve(dataPath),
    annotation: DEFAULT_ANNOTATION,
    expressionTable: DEFAULT_EXPRESSION_TABLE,
  };
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
  const flags: [keyof StoredSettings, string][] = [
    ['model', '--model'],
    ['epochs', '--epochs'],
    ['vaeEpochs', '--vae-epochs'],
    ['batch', '--batch'],
    ['lr', '--lr'],
    ['latent', '--latent'],
    ['beta', '--beta'],
    ['sigma', '--sigma'],
    ['neighbors', '--neighbors'],
    ['k', '--k'],
    ['seed', '--seed'],
    ['normalize', '--normalize'],
    ['data', '--data'],
  ];
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

