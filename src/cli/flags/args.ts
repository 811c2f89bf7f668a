import { DEFAULT_NORMALIZATION, NORMALIZATION_SCHEMES, type NormalizationScheme } from '../../data/normalize.ts';
import { DEFAULT_EXPERIMENT_MODELS, MODEL_NAMES, type ModelName, predictsExpression } from '../../models/registry.ts';
import { type VariantMode, parseVariantMode } from '../../plan/variantMode.ts';
import { RUN_DEFAULTS, type RunSettings } from '../../train/runSettings.ts';
import { oneOf, positiveInt, RUN_FLAGS, RUN_KEYS, type RunKey, SettingError, withModelDefaults } from '../../train/runFlags.ts';
import { didYouMean, listedFlag } from '../../util/didYouMean.ts';
import { COMMAND } from './commandName.ts';

// Command-line flags, parsed strictly: an unknown flag, a missing value or a
// value of the wrong kind is a UsageError with a message, never a default
// silently taken.

/** The registry's names (src/models/registry.ts): the only models --model and --models accept. */
export const MODELS = MODEL_NAMES;
export type { ModelName };

/** The subcommands parseArgs reads. The flag forms that came first (`--experiment small-data`, `--self-check`,
 * `--help`, and no subcommand for one run) stay as aliases, so no user's script breaks. */
export const RUN_COMMANDS = ['train', 'experiment', 'self-check', 'help'] as const;
export type RunCommand = (typeof RUN_COMMANDS)[number];

/** The run setting each flag sets (--neighbors aside: the command line takes a list of kinds). */
const RUN_KEY_OF_FLAG: ReadonlyMap<string, RunKey> = new Map(RUN_KEYS.filter((k) => k !== 'neighbors').map((k) => [RUN_FLAGS[k].flag, k]));

/** The flags parseArgs reads itself, beside the run settings' (RUN_KEY_OF_FLAG); its switch takes only these (listedFlag). */
const COMMAND_LINE_FLAGS = [
  '--help', '-h', '--self-check', '--gpu', '--cpu', '--quiet', '--data', '--models', '--sizes', '--neighbors', '--seeds',
  '--min-steps', '--max-epochs', '--normalize', '--out', '--resume', '--overwrite', '--plan', '--gemm', '--experiment',
] as const;
const TRAINING_FLAGS: readonly string[] = [...COMMAND_LINE_FLAGS, ...RUN_KEY_OF_FLAG.keys()];

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A training run's settings are the training core's (src/train/runSettings.ts); the rest are the command line's. */
export interface CliOptions extends Omit<RunSettings, 'annotation' | 'expressionTable'> {
  readonly command: RunCommand;
  /** The subcommand as typed (`train`, `experiment`, …); undefined for the flag forms (`--experiment small-data`, a bare `--data …`). */
  readonly subcommand: RunCommand | undefined;
  readonly device: 'gpu' | 'cpu';
  readonly data: string | undefined;
  /** Every kind --neighbors named (`spatial,functional`): the experiment runs vae-mlp-neighbors with each; a training run takes one. */
  readonly neighborKinds: readonly ('spatial' | 'functional')[];
  readonly seeds: number;
  /** Experiment: each classifier trains at least this many optimizer steps (more epochs than --epochs where a size needs them); 0: off. */
  readonly minSteps: number;
  /** Experiment: the most epochs --min-steps may ask for. */
  readonly maxEpochs: number;
  readonly normalize: NormalizationScheme;
  readonly out: string | undefined;
  readonly experiment: 'small-data' | undefined;
  readonly models: readonly ModelName[];
  readonly sizes: readonly (number | 'all')[];
  readonly quiet: boolean;
  /** --resume DIR: continue the run whose checkpoints are in DIR. */
  readonly resume: string | undefined;
  /** --overwrite: replace the run that --out holds (see runDirectory.ts). */
  readonly overwrite: boolean;
  /** --plan FILE: the experiment writes its grid there for a cluster (gridPlan.ts) instead of running it. */
  readonly plan: string | undefined;
  /** --gemm: how GEMM variants are chosen on the GPU (undefined: $SIMPLECHROME_GEMM, else tune). */
  readonly gemm: VariantMode | undefined;
  /** The options the command line set explicitly (a resumed run refuses those that contradict its checkpoint). */
  readonly explicit: readonly (keyof CliOptions)[];
}

/** A run's settings default to the training core's (src/train/runSettings.ts), which the page takes too. */
export const DEFAULTS: CliOptions = {
  command: 'train',
  subcommand: undefined,
  device: 'gpu',
  data: undefined,
  ...RUN_DEFAULTS,
  neighborKinds: ['spatial'],
  seeds: 3,
  minSteps: 0,
  maxEpochs: 100,
  normalize: DEFAULT_NORMALIZATION,
  out: undefined,
  experiment: undefined,
  models: DEFAULT_EXPERIMENT_MODELS,
  sizes: [100, 1000, 'all'],
  quiet: false,
  resume: undefined,
  overwrite: false,
  plan: undefined,
  gemm: undefined,
  explicit: [],
};

/** Parses a command line; a run setting's value is checked by its flag's parser in the training core (runFlags.ts). */
export function parseArgs(args: readonly string[]): CliOptions {
  try {
    return parseFlags(args);
  } catch (e) {
    if (e instanceof SettingError) throw new UsageError(e.message);
    throw e;
  }
}

function parseFlags(args: readonly string[]): CliOptions {
  const o: { -readonly [K in keyof CliOptions]: CliOptions[K] } = { ...DEFAULTS };
  const subcommand = (RUN_COMMANDS as readonly string[]).includes(args[0] ?? '') ? (args[0] as RunCommand) : undefined;
  const argv = subcommand === undefined ? args : args.slice(1);
  o.subcommand = subcommand;
  if (subcommand !== undefined) o.command = subcommand;
  // The experiment has one kind today; its subcommand is that kind.
  if (subcommand === 'experiment') o.experiment = 'small-data';
  /** A flag form of another command given under a subcommand: say which command it is, rather than pick one. */
  const otherCommand = (flag: string, command: RunCommand): void => {
    if (subcommand !== undefined && subcommand !== command && subcommand !== 'help') {
      throw new UsageError(`${flag} belongs to the ${command} command, not ${subcommand}: run \`simplechrome ${command} ...\` on its own`);
    }
  };
  const explicit = new Set<keyof CliOptions>();
  // A setting given twice (--epochs 3 --epochs 5, --cpu --gpu) is refused: the last one winning silently hides a mistake.
  const givenAs = new Map<keyof CliOptions, string>();
  let current = '';
  const given = (key: keyof CliOptions): void => {
    const before = givenAs.get(key);
    if (before !== undefined) {
      throw new UsageError(before === current ? `${current} is given twice` : `${before} and ${current} contradict each other: give one`);
    }
    givenAs.set(key, current);
    explicit.add(key);
  };
  const set = <K extends keyof CliOptions>(key: K, v: CliOptions[K]): void => {
    given(key);
    o[key] = v;
  };
  // The run settings' part of the options, so that a flag's parser (typed by RunSettings) sets its key.
  const run: { -readonly [K in RunKey]: RunSettings[K] } = o;
  const setRun = <K extends RunKey>(key: K, v: string): void => {
    given(key);
    run[key] = RUN_FLAGS[key].parse(v, current);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    current = flag;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (listedFlag(COMMAND_LINE_FLAGS, flag)) {
      case '--help': case '-h': o.command = 'help'; break;
      case '--self-check': otherCommand(flag, 'self-check'); o.command = 'self-check'; break;
      case '--gpu': set('device', 'gpu'); break;
      case '--cpu': set('device', 'cpu'); break;
      case '--quiet': set('quiet', true); break;
      case '--data': set('data', value()); break;
      case '--models': set('models', value().split(',').map((m) => oneOf(flag, m, MODELS))); break;
      case '--sizes': set('sizes', value().split(',').map((s) => (s === 'all' ? 'all' : positiveInt(flag, s)))); break;
      case '--neighbors': {
        const kinds = value().split(',').map((k) => RUN_FLAGS.neighbors.parse(k, flag));
        if (new Set(kinds).size !== kinds.length) throw new UsageError(`--neighbors names a kind twice: ${kinds.join(',')}`);
        set('neighbors', kinds[0] as 'spatial' | 'functional');
        o.neighborKinds = kinds;
        break;
      }
      case '--seeds': set('seeds', positiveInt(flag, value())); break;
      case '--min-steps': set('minSteps', positiveInt(flag, value())); break;
      case '--max-epochs': set('maxEpochs', positiveInt(flag, value())); break;
      case '--normalize': set('normalize', oneOf(flag, value(), NORMALIZATION_SCHEMES)); break;
      case '--out': set('out', value()); break;
      case '--resume': set('resume', value()); break;
      case '--overwrite': set('overwrite', true); break;
      case '--plan': set('plan', value()); break;
      case '--gemm': {
        const v = value();
        try {
          set('gemm', parseVariantMode(v, '--gemm'));
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        break;
      }
      case '--experiment':
        otherCommand(flag, 'experiment');
        set('experiment', oneOf(flag, value(), ['small-data'] as const));
        o.command = o.command === 'help' ? 'help' : 'experiment';
        break;
      default: {
        const key = RUN_KEY_OF_FLAG.get(flag);
        if (key === undefined) throw new UsageError(`unknown argument "${arg}"${didYouMean(flag, TRAINING_FLAGS, 'see --help')}`);
        setRun(key, value());
      }
    }
  }
  o.explicit = [...explicit];
  // A training run takes its model's own defaults (attentivechrome: its public code's lr, batch, epochs and clip)
  // where not typed. Not an experiment, whose protocol trains every model alike, nor a resumed run, which keeps its own.
  if (o.command === 'train' && o.resume === undefined) Object.assign(o, withModelDefaults(o, (k) => explicit.has(k)));
  // Without --vae-batch the VAE takes the run's batch (a model's own default included, hence after them), as it
  // did before the two were split: a command line written then still trains the same VAE.
  if (!explicit.has('vaeBatch')) o.vaeBatch = o.batch;
  // The default models (the costly ones are named to run), but those that cannot learn the target (vae-m2's label is a latent class).
  if (!explicit.has('models') && o.target === 'expression') o.models = DEFAULT_EXPERIMENT_MODELS.filter(predictsExpression);
  if (explicit.has('maxEpochs') && o.maxEpochs < o.epochs) throw new UsageError(`--max-epochs ${o.maxEpochs} is below --epochs ${o.epochs}: --epochs is the least each classifier trains`);
  if (o.resume !== undefined && o.command === 'experiment' && subcommand !== 'experiment') {
    throw new UsageError('--resume DIR continues a training run or an experiment with the settings stored in DIR; give it without --experiment (or as `experiment --resume DIR`)');
  }
  return o;
}

/** `predict` and `encode`: use a trained model directory on (another cell's) data. */
export interface UseOptions {
  readonly command: 'predict' | 'encode';
  readonly modelDir: string;
  readonly data: string;
  readonly out: string | undefined;
  readonly device: 'gpu' | 'cpu';
  readonly quiet: boolean;
  /** predict --attention: also write an attention model's maps beside --out (checkpoint/attentionFiles.ts). */
  readonly attention: boolean;
}

export const USE_COMMANDS = ['predict', 'encode'] as const;

/** The flags predict and encode read; their switch takes only these (listedFlag). */
const USE_FLAGS = ['--model', '--data', '--out', '--gpu', '--cpu', '--quiet', '--attention'] as const;

/** A flag that training knows (whatever its value), for a clearer message when predict or encode is given one. */
function isTrainingFlag(flag: string): boolean {
  try {
    parseArgs([flag, '1']);
    return true;
  } catch (e) {
    return !(e instanceof UsageError && e.message.startsWith('unknown argument'));
  }
}

export function parseUseArgs(argv: readonly string[]): UseOptions {
  const command = oneOf('command', argv[0] ?? '', USE_COMMANDS);
  let modelDir: string | undefined;
  let data: string | undefined;
  let out: string | undefined;
  let device: 'gpu' | 'cpu' | undefined;
  let quiet = false;
  let attention = false;
  const seen = new Set<string>();
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${command} ${flag} needs a value`);
      return v;
    };
    const once = (f: string): void => {
      if (seen.has(f)) throw new UsageError(`${command} ${f} is given twice`);
      seen.add(f);
    };
    if (flag === '--gpu' || flag === '--cpu') {
      if (device !== undefined) throw new UsageError(`${command}: --gpu and --cpu contradict each other: give one`);
    } else once(flag);
    switch (listedFlag(USE_FLAGS, flag)) {
      case '--model': modelDir = value(); break;
      case '--data': data = value(); break;
      case '--out': out = value(); break;
      case '--gpu': device = 'gpu'; break;
      case '--cpu': device = 'cpu'; break;
      case '--quiet': quiet = true; break;
      case '--attention': attention = true; break;
      default: {
        const usage = `usage: ${COMMAND} ${command} --model DIR --data PATH ${command === 'encode' ? '--out FILE.csv|FILE.safetensors' : '[--out FILE [--attention]]'} [--gpu|--cpu] [--quiet]`;
        if (isTrainingFlag(flag)) throw new UsageError(`${command}: ${flag} is a training flag and does not apply to ${command}, which uses the model as trained (${usage})`);
        throw new UsageError(`${command}: unknown argument "${arg}"${didYouMean(flag, USE_FLAGS, usage)}`);
      }
    }
  }
  if (modelDir === undefined) throw new UsageError(`${command} needs --model DIR (a directory a training run wrote, with best.safetensors)`);
  if (data === undefined) throw new UsageError(`${command} needs --data PATH (the cell to ${command === 'predict' ? 'predict' : 'encode'})`);
  if (command === 'encode') {
    if (out === undefined) throw new UsageError('encode needs --out FILE.csv or FILE.safetensors');
    if (!/\.(csv|safetensors)$/.test(out)) throw new UsageError(`encode --out ${out}: the name must end in .csv or .safetensors`);
  }
  if (attention) {
    if (command === 'encode') throw new UsageError('encode: --attention applies to predict, which writes an attention model\'s maps beside its predictions');
    if (out === undefined) throw new UsageError('predict --attention writes its files beside the predictions: give --out FILE (e.g. out/predictions.csv)');
  }
  return { command, modelDir, data, out, device: device ?? 'gpu', quiet, attention };
}

/** Walks argv as `--flag value` or `--flag=value`; `context` begins the "needs a value" message. */
export class FlagCursor {
  private i = -1;
  private inline: string | undefined;
  /** The current argument as given, and its flag without any `=value`. */
  arg = '';
  flag = '';

  constructor(
    private readonly argv: readonly string[],
    private readonly context: string,
  ) {}

  next(): boolean {
    if (++this.i >= this.argv.length) return false;
    this.arg = this.argv[this.i] as string;
    const eq = this.arg.startsWith('--') ? this.arg.indexOf('=') : -1;
    this.flag = eq < 0 ? this.arg : this.arg.slice(0, eq);
    this.inline = eq < 0 ? undefined : this.arg.slice(eq + 1);
    return true;
  }

  value(): string {
    if (this.inline !== undefined) return this.inline;
    const v = this.argv[++this.i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${this.context}${this.flag} needs a value`);
    return v;
  }
}
