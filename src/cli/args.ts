import { NORMALIZATION_SCHEMES, type NormalizationScheme } from '../data/normalize.ts';

// Command-line flags, parsed strictly: an unknown flag, a missing value or a
// value of the wrong kind is a UsageError with a message, never a default
// silently taken.

export const MODELS = ['mlp', 'deepchrome', 'vae-mlp', 'vae-mlp-neighbors'] as const;
export type ModelName = (typeof MODELS)[number];

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliOptions {
  readonly command: 'train' | 'self-check' | 'help' | 'experiment';
  readonly device: 'gpu' | 'cpu';
  readonly data: string | undefined;
  readonly model: ModelName;
  /** Labeled training genes; undefined = all. */
  readonly trainSize: number | undefined;
  readonly epochs: number;
  readonly vaeEpochs: number;
  readonly batch: number;
  readonly lr: number;
  readonly latent: number;
  readonly beta: number;
  readonly sigma: 'logvar' | 'softplus';
  readonly neighbors: 'spatial' | 'functional';
  readonly k: number;
  readonly seed: number;
  readonly seeds: number;
  readonly normalize: NormalizationScheme;
  readonly out: string | undefined;
  readonly experiment: 'small-data' | undefined;
  readonly models: readonly ModelName[];
  readonly sizes: readonly (number | 'all')[];
  readonly quiet: boolean;
}

export const DEFAULTS: CliOptions = {
  command: 'train',
  device: 'gpu',
  data: undefined,
  model: 'deepchrome',
  trainSize: undefined,
  epochs: 10,
  vaeEpochs: 30,
  batch: 64,
  lr: 1e-3,
  latent: 10,
  beta: 5e-5,
  sigma: 'logvar',
  neighbors: 'spatial',
  k: 2,
  seed: 1,
  seeds: 3,
  normalize: 'log1p-max',
  out: undefined,
  experiment: undefined,
  models: MODELS,
  sizes: [100, 1000, 'all'],
  quiet: false,
};

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} needs a positive integer, got "${v}"`);
  return n;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number, got "${v}"`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v as T;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: { -readonly [K in keyof CliOptions]: CliOptions[K] } = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help': case '-h': o.command = 'help'; break;
      case '--self-check': o.command = 'self-check'; break;
      case '--gpu': o.device = 'gpu'; break;
      case '--cpu': o.device = 'cpu'; break;
      case '--quiet': o.quiet = true; break;
      case '--data': o.data = value(); break;
      case '--model': o.model = oneOf(flag, value(), MODELS); break;
      case '--models': o.models = value().split(',').map((m) => oneOf(flag, m, MODELS)); break;
      case '--train-size': {
        const v = value();
        o.trainSize = v === 'all' ? undefined : positiveInt(flag, v);
        break;
      }
      case '--sizes': o.sizes = value().split(',').map((s) => (s === 'all' ? 'all' : positiveInt(flag, s))); break;
      case '--epochs': o.epochs = positiveInt(flag, value()); break;
      case '--vae-epochs': o.vaeEpochs = positiveInt(flag, value()); break;
      case '--batch': o.batch = positiveInt(flag, value()); break;
      case '--lr': o.lr = positiveNumber(flag, value()); break;
      case '--latent': o.latent = positiveInt(flag, value()); break;
      case '--beta': {
        const v = value();
        const n = Number(v);
        if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--beta needs a number >= 0, got "${v}"`);
        o.beta = n;
        break;
      }
      case '--sigma': o.sigma = oneOf(flag, value(), ['logvar', 'softplus'] as const); break;
      case '--neighbors': o.neighbors = oneOf(flag, value(), ['spatial', 'functional'] as const); break;
      case '--k': o.k = positiveInt(flag, value()); break;
      case '--seed': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new UsageError(`--seed needs an integer in [0, 4294967295], got "${v}"`);
        o.seed = Number(v);
        break;
      }
      case '--seeds': o.seeds = positiveInt(flag, value()); break;
      case '--normalize': o.normalize = oneOf(flag, value(), NORMALIZATION_SCHEMES); break;
      case '--out': o.out = value(); break;
      case '--experiment': o.experiment = oneOf(flag, value(), ['small-data'] as const); o.command = o.command === 'help' ? 'help' : 'experiment'; break;
      default:
        throw new UsageError(`unknown argument "${arg}" (see --help)`);
    }
  }
  return o;
}
