import { SPLITS, type Split } from '../../data/dataset.ts';
import { ATTRIBUTION_METHODS, type AttributionMethod } from '../../train/explain.ts';
import { didYouMean } from '../../util/didYouMean.ts';
import { FlagCursor, UsageError } from '../flags/args.ts';
import { COMMAND } from '../flags/commandName.ts';

// `explain`'s flags: predict's (--model, --data, --gpu|--cpu, --quiet; --out
// names a folder here) and which genes, which method, how many steps.

export const EXPLAIN_USAGE =
  `${COMMAND} explain --model DIR --data PATH [--genes ID,ID,… | --split train|valid|test] ` +
  `[--method ${ATTRIBUTION_METHODS.join('|')}] [--steps N] [--out DIR] [--gpu|--cpu] [--quiet]`;

export const DEFAULT_METHOD: AttributionMethod = 'integrated-gradients';
export const DEFAULT_STEPS = 50;

export interface ExplainCommandOptions {
  readonly command: 'explain';
  readonly modelDir: string;
  readonly data: string;
  /** Gene ids as the data names them; undefined: the split's genes, or every gene. */
  readonly genes: readonly string[] | undefined;
  readonly split: Split | undefined;
  readonly method: AttributionMethod;
  readonly steps: number;
  /** A folder; undefined: explain/ in the model's directory. */
  readonly out: string | undefined;
  readonly device: 'gpu' | 'cpu';
  readonly quiet: boolean;
}

const FLAGS = ['--model', '--data', '--genes', '--split', '--method', '--steps', '--out', '--gpu', '--cpu', '--quiet'] as const;

export function parseExplainArgs(argv: readonly string[]): ExplainCommandOptions {
  const c = new FlagCursor(argv.slice(1), 'explain ');
  const seen = new Set<string>();
  const given: Partial<Record<(typeof FLAGS)[number], string>> = {};
  let device: 'gpu' | 'cpu' | undefined;
  let quiet = false;
  while (c.next()) {
    const flag = c.flag;
    if (!(FLAGS as readonly string[]).includes(flag)) {
      throw new UsageError(`explain: unknown argument "${c.arg}"${didYouMean(flag, FLAGS, `usage: ${EXPLAIN_USAGE}`)}`);
    }
    if (flag === '--gpu' || flag === '--cpu') {
      if (device !== undefined) throw new UsageError('explain: --gpu and --cpu contradict each other: give one');
      device = flag === '--gpu' ? 'gpu' : 'cpu';
      continue;
    }
    if (seen.has(flag)) throw new UsageError(`explain ${flag} is given twice`);
    seen.add(flag);
    if (flag === '--quiet') quiet = true;
    else given[flag as (typeof FLAGS)[number]] = c.value();
  }
  const modelDir = given['--model'];
  if (modelDir === undefined) throw new UsageError('explain needs --model DIR (a directory a training run wrote, with best.safetensors)');
  const data = given['--data'];
  if (data === undefined) throw new UsageError('explain needs --data PATH (the cell whose genes to explain)');
  if (given['--genes'] !== undefined && given['--split'] !== undefined) throw new UsageError('explain: --genes and --split both choose the genes: give one');
  const genes = given['--genes']?.split(',').map((g) => g.trim());
  if (genes !== undefined && (genes.length === 0 || genes.some((g) => g === ''))) throw new UsageError(`explain --genes "${given['--genes']}": give gene ids separated by commas`);
  const splitName = given['--split'];
  if (splitName !== undefined && !(SPLITS as readonly string[]).includes(splitName)) {
    throw new UsageError(`explain --split ${splitName}: expected one of ${SPLITS.join(', ')}`);
  }
  const methodName = given['--method'] ?? DEFAULT_METHOD;
  if (!(ATTRIBUTION_METHODS as readonly string[]).includes(methodName)) {
    throw new UsageError(`explain --method ${methodName}: expected one of ${ATTRIBUTION_METHODS.join(', ')}${didYouMean(methodName, ATTRIBUTION_METHODS, '')}`);
  }
  const method = methodName as AttributionMethod;
  const stepsText = given['--steps'];
  if (stepsText !== undefined && method !== 'integrated-gradients') throw new UsageError(`explain --steps applies to --method integrated-gradients, not ${method}`);
  const steps = stepsText === undefined ? DEFAULT_STEPS : Number(stepsText);
  if (!/^\d+$/.test(stepsText ?? '1') || !Number.isSafeInteger(steps) || steps < 1 || steps > 10_000) {
    throw new UsageError(`explain --steps needs a whole number from 1 to 10000, got "${stepsText}"`);
  }
  return {
    command: 'explain',
    modelDir,
    data,
    genes,
    split: splitName as Split | undefined,
    method,
    steps,
    out: given['--out'],
    device: device ?? 'gpu',
    quiet,
  };
}
