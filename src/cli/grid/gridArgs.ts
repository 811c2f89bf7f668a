import { FlagCursor, UsageError } from '../flags/args.ts';
import { didYouMean } from '../../util/didYouMean.ts';
import { COMMAND } from '../flags/commandName.ts';

// Flags of the commands that run the experiment grid from a plan file:
// `job` (one entry), `slurm` (job arrays) and `collect` (the tables). Each
// takes only its own flags; anything else is an error naming the usage.

export const GRID_COMMANDS = ['job', 'slurm', 'collect'] as const;
export type GridCommand = (typeof GRID_COMMANDS)[number];

export const GRID_USAGE: Readonly<Record<GridCommand, string>> = {
  job: `${COMMAND} job --plan FILE [--index N | --offset K with $SLURM_ARRAY_TASK_ID] [--quiet]`,
  slurm:
    `${COMMAND} slurm --plan FILE [--submit] [--partition P] [--account A] [--time T] [--gres G] [--cpus-per-task N] [--mem M] [--max-running N] [--max-array-size N]`,
  collect: `${COMMAND} collect --plan FILE`,
};

export interface JobOptions {
  readonly command: 'job';
  readonly plan: string;
  /** --index N; undefined: $SLURM_ARRAY_TASK_ID + offset. */
  readonly index: number | undefined;
  readonly offset: number;
  readonly quiet: boolean;
}

export interface SlurmOptions {
  readonly command: 'slurm';
  readonly plan: string;
  readonly submit: boolean;
  readonly partition: string | undefined;
  readonly account: string | undefined;
  readonly time: string | undefined;
  readonly gres: string | undefined;
  readonly cpusPerTask: number | undefined;
  readonly mem: string | undefined;
  /** Tasks of one array running at once (sbatch's %N). */
  readonly maxRunning: number;
  /** The cluster's MaxArraySize: task ids stay below it, larger grids are cut into several arrays. */
  readonly maxArraySize: number;
}

export interface CollectOptions {
  readonly command: 'collect';
  readonly plan: string;
}

export type GridOptions = JobOptions | SlurmOptions | CollectOptions;

function count(flag: string, v: string, least: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < least) throw new UsageError(`${flag} needs an integer >= ${least}, got "${v}"`);
  return n;
}

/** A value that goes into an #SBATCH line as it is: one word, no shell or comment characters. */
function sbatchWord(flag: string, v: string): string {
  if (!/^[A-Za-z0-9_.:,=+\-/]+$/.test(v)) throw new UsageError(`${flag} "${v}": only letters, digits and _ . : , = + - / are allowed`);
  return v;
}

export function parseGridArgs(argv: readonly string[]): GridOptions {
  const command = argv[0] as GridCommand;
  const usage = `usage: ${GRID_USAGE[command]}`;
  const c = new FlagCursor(argv.slice(1), `${command} `);
  const seen = new Set<string>();
  const v: Record<string, string | true> = {};
  const allowed: Readonly<Record<GridCommand, readonly string[]>> = {
    job: ['--plan', '--index', '--offset', '--quiet'],
    slurm: ['--plan', '--submit', '--partition', '--account', '--time', '--gres', '--cpus-per-task', '--mem', '--max-running', '--max-array-size'],
    collect: ['--plan'],
  };
  const switches = new Set(['--quiet', '--submit']);
  while (c.next()) {
    if (!allowed[command].includes(c.flag)) {
      const what = c.arg.startsWith('--') ? `${c.flag} does not apply` : `unexpected argument "${c.arg}"`;
      throw new UsageError(`${command}: ${what}${didYouMean(c.flag, allowed[command], usage)}`);
    }
    if (seen.has(c.flag)) throw new UsageError(`${command} ${c.flag} is given twice`);
    seen.add(c.flag);
    v[c.flag.slice(2)] = switches.has(c.flag) ? true : c.value();
  }
  const text = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const plan = text('plan');
  if (plan === undefined) throw new UsageError(`${command} needs --plan FILE (written by --experiment small-data ... --plan FILE) (${usage})`);
  if (command === 'job') {
    const index = text('index');
    const offset = text('offset');
    if (index !== undefined && offset !== undefined) throw new UsageError('job: --index N names the entry; --offset applies to $SLURM_ARRAY_TASK_ID only: give one');
    return { command, plan, index: index === undefined ? undefined : count('--index', index, 0), offset: offset === undefined ? 0 : count('--offset', offset, 0), quiet: v.quiet === true };
  }
  if (command === 'collect') return { command, plan };
  const word = (k: string): string | undefined => {
    const w = text(k);
    return w === undefined ? undefined : sbatchWord(`--${k}`, w);
  };
  const cpus = text('cpus-per-task');
  return {
    command,
    plan,
    submit: v.submit === true,
    partition: word('partition'),
    account: word('account'),
    time: word('time'),
    gres: word('gres'),
    cpusPerTask: cpus === undefined ? undefined : count('--cpus-per-task', cpus, 1),
    mem: word('mem'),
    maxRunning: text('max-running') === undefined ? 100 : count('--max-running', text('max-running') as string, 1),
    maxArraySize: text('max-array-size') === undefined ? 1001 : count('--max-array-size', text('max-array-size') as string, 2),
  };
}
