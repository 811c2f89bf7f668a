import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CliOptions, UsageError, parseArgs } from '../flags/args.ts';
import type { Target } from '../../train/target.ts';
import { type ExperimentRow, csvHeaderFor, parseCsvLine } from './experimentReport.ts';
import { EXPERIMENT_FILE } from '../session/runDirectory.ts';
import { ADDED_LATER, storedValue } from '../../train/runFlags.ts';
import { FLAG_OF } from '../flags/storedSettings.ts';
import { type VaeCurveRow, parseVaeCurves } from './vaeCurves.ts';

// An interrupted experiment continues where it stopped: `--resume DIR` on a
// directory with experiment.json takes the settings stored there, keeps every
// run small-data.csv already holds and runs only the others. Its settings are
// read back through parseArgs, so they pass the checks a typed command does.

const { csv: CSV_FILE, settings: SETTINGS_FILE, vaeCurves: VAE_CURVES_FILE } = EXPERIMENT_FILE;

export function isExperimentDirectory(dir: string): boolean {
  return existsSync(join(dir, SETTINGS_FILE));
}

/** Flags a resumed experiment may take from the command line; all else comes from experiment.json. */
const FREE = new Set<keyof CliOptions>(['resume', 'quiet']);

/** The stored experiment's options, to continue it in `dir`; `given` is the command line (--resume DIR [--quiet]). */
export function resumedExperimentOptions(given: CliOptions, dir: string): CliOptions {
  const file = join(dir, SETTINGS_FILE);
  const extra = given.explicit.find((k) => !FREE.has(k));
  if (extra !== undefined) {
    throw new UsageError(`--resume ${dir}: an experiment continues with the settings in ${file}; ${FLAG_OF[extra] ?? `--${extra}`} cannot change them`);
  }
  let s: Record<string, unknown>;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: not readable as JSON (${(e as Error).message})`);
  }
  // An experiment committed with its results and continued from another clone finds its data where it lies
  // relative to the experiment's directory (the fingerprints stored beside it check that it is the same data).
  if (typeof s.data === 'string' && !dataExists(s.data) && typeof s.dataRelative === 'string' && dataExists(resolve(dir, s.dataRelative))) {
    s = { ...s, data: resolve(dir, s.dataRelative) };
  }
  if (typeof s.data === 'string' && !dataExists(s.data)) {
    throw new UsageError(`--resume ${dir}: the data this experiment ran on is no longer at ${s.data}${typeof s.dataRelative === 'string' ? ` nor at ${resolve(dir, s.dataRelative)}` : ''}`);
  }
  const o = experimentOptionsFrom(s, file);
  return { ...o, out: dir, resume: dir, quiet: given.quiet, explicit: [] };
}

/** A cell's data at `path`: a folder or file, or the stem of a split's files. */
function dataExists(path: string): boolean {
  return existsSync(path) || existsSync(`${path}.train.csv.gz`) || existsSync(`${path}.train.csv`);
}

/** The options of an experiment from its stored settings (experiment.json, or a plan's copy); `file` names them in errors. */
export function experimentOptionsFrom(s: Readonly<Record<string, unknown>>, file: string): CliOptions {
  const argv = ['--experiment', String(s.experiment)];
  const list = (key: string): string => {
    const v = s[key];
    if (!Array.isArray(v) || v.length === 0) throw new Error(`${file}: "${key}" is not a list (${JSON.stringify(v)})`);
    return v.join(',');
  };
  argv.push(`--models=${list('models')}`, `--sizes=${list('sizes')}`, `--seeds=${String(s.seeds)}`);
  if (typeof s.minSteps === 'number' && s.minSteps > 0) argv.push(`--min-steps=${s.minSteps}`, `--max-epochs=${String(s.maxEpochs)}`);
  for (const [key, flag] of Object.entries(FLAG_OF)) {
    if (['model', 'trainSize', 'seed', 'device', 'data', 'out'].includes(key)) continue;
    const v = storedValue(s, key);
    if (v === undefined && ADDED_LATER.has(key)) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${file}: stored settings have no valid "${key}" (${JSON.stringify(v)})`);
    argv.push(`${flag}=${String(v)}`);
  }
  if (s.device !== 'gpu' && s.device !== 'cpu') throw new Error(`${file}: stored settings have device ${JSON.stringify(s.device)}`);
  argv.push(`--${s.device}`);
  if (typeof s.gemm === 'string') argv.push(`--gemm=${s.gemm}`);
  if (typeof s.data === 'string') argv.push(`--data=${s.data}`);
  try {
    return { ...parseArgs(argv), explicit: [] };
  } catch (e) {
    if (e instanceof UsageError) throw new Error(`${file}: stored settings are invalid: ${e.message}`);
    throw e;
  }
}

/** The data fingerprint of each cell the experiment has loaded, as experiment.json keeps them. */
export function storedFingerprints(dir: string): Record<string, string> {
  const s = JSON.parse(readFileSync(join(dir, SETTINGS_FILE), 'utf8')) as { fingerprints?: unknown };
  const f = s.fingerprints;
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return {};
  return Object.fromEntries(Object.entries(f).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The VAE curves a stopped experiment kept (none before its first VAE finished). */
export function storedVaeCurves(dir: string): VaeCurveRow[] {
  const file = join(dir, VAE_CURVES_FILE);
  return existsSync(file) ? parseVaeCurves(readFileSync(file, 'utf8'), file) : [];
}

/** The runs a stopped experiment finished, from its CSV; a last line cut short by the stop is dropped. */
export function finishedRuns(dir: string, target: Target = 'class'): ExperimentRow[] {
  const file = join(dir, CSV_FILE);
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const header = csvHeaderFor(target);
  if (lines[0] !== header) throw new Error(`${file}: its header is not ${header}; it was not written by this version`);
  // Only lines that end in a newline were finished.
  return lines.slice(1, -1).filter((l) => l !== '').map((line, i) => parseCsvLine(line, `${file}: line ${i + 2}`));
}
