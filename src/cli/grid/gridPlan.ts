import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readRegularTextSync } from '../../util/regularFile.ts';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { pathUnder } from '../../util/pathUnder.ts';
import { cellsInFolder } from '../../data/cellFolder.ts';
import { type CliOptions, UsageError } from '../flags/args.ts';
import { armsOf, experimentSettings, sizesOn } from '../experiment/experiment.ts';
import { trainsVaeFirst } from '../../train/runModel.ts';
import { experimentOptionsFrom } from '../experiment/experimentResume.ts';
import { err, loadData } from '../session/session.ts';
import { listed } from '../session/runDirectory.ts';
import { notCollectedHere } from './gridRoot.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';

// The experiment grid as data, for a cluster scheduler: every run of
// `--experiment small-data` (cell × seed × size × arm) as one entry with a
// stable index, and before them one VAE entry per (cell, seed) that the runs
// of the VAE-based models share. Each entry writes only into its own
// directory under the plan's root; `job` runs one entry, `slurm` writes the
// job arrays, `collect` merges the entries into the experiment's files.

export const PLAN_FORMAT = 'simplechrome-grid-plan-1';

export interface PlanCell {
  readonly cell: string;
  /** Absolute path the cell is loaded from. */
  readonly path: string;
  readonly genes: number;
  readonly bins: number;
  readonly trainGenes: number;
  readonly sizes: readonly (number | 'all')[];
}

export interface VaeEntry {
  readonly index: number;
  readonly kind: 'vae';
  readonly cell: string;
  readonly seed: number;
  /** Relative to the plan's root. */
  readonly dir: string;
}

export interface RunEntry {
  readonly index: number;
  readonly kind: 'run';
  readonly cell: string;
  readonly seed: number;
  readonly size: number | 'all';
  /** The arm's label: the model, or model:kind for vae-mlp-neighbors with several kinds. */
  readonly model: string;
  readonly dir: string;
  /** The VAE entry whose latents this run trains on (vae-* models): it must finish first. */
  readonly after?: number;
}

export type PlanEntry = VaeEntry | RunEntry;

export interface GridPlan {
  readonly format: typeof PLAN_FORMAT;
  /** Hash of everything below: an entry directory written under another plan is never taken for this one's. */
  readonly planId: string;
  /** Absolute directory that holds entries/, logs/, slurm/ and, once collected, the experiment's files. */
  readonly root: string;
  /** experiment.json of the same experiment run on one machine (settings and data fingerprints). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly report: { readonly dataLabel: string; readonly folder: boolean; readonly synthetic: boolean };
  readonly cells: readonly PlanCell[];
  readonly entries: readonly PlanEntry[];
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-');
const pad = (i: number): string => String(i).padStart(5, '0');

/** Every entry of the grid: the VAE entries first, then the runs in the order the single-machine experiment runs them. */
export function gridEntries(o: CliOptions, cells: readonly PlanCell[]): PlanEntry[] {
  const arms = armsOf(o);
  const usesVae = (model: CliOptions['model']): boolean => trainsVaeFirst({ model, m2Init: o.m2Init });
  const needVae = arms.some((a) => usesVae(a.model));
  const vaes: VaeEntry[] = [];
  const vaeOf = new Map<string, number>();
  if (needVae) {
    for (const c of cells) {
      for (let seed = 1; seed <= o.seeds; seed++) {
        const index = vaes.length;
        vaeOf.set(`${c.cell}|${seed}`, index);
        vaes.push({ index, kind: 'vae', cell: c.cell, seed, dir: join('entries', `${pad(index)}-vae-${slug(c.cell)}-seed${seed}`) });
      }
    }
  }
  const runs: RunEntry[] = [];
  for (const c of cells) {
    for (let seed = 1; seed <= o.seeds; seed++) {
      for (const size of c.sizes) {
        for (const arm of arms) {
          const index = vaes.length + runs.length;
          const after = usesVae(arm.model) ? vaeOf.get(`${c.cell}|${seed}`) : undefined;
          const dir = join('entries', `${pad(index)}-${slug(c.cell)}-${slug(arm.label)}-n${size}-seed${seed}`);
          runs.push({ index, kind: 'run', cell: c.cell, seed, size, model: arm.label, dir, ...(after !== undefined ? { after } : {}) });
        }
      }
    }
  }
  return [...vaes, ...runs];
}

/** The plan's identity: a hash of everything it says, in the order it is written (and read back). */
export function planIdOf(p: Pick<GridPlan, 'root' | 'settings' | 'report' | 'cells' | 'entries'>): string {
  const body = { root: p.root, settings: p.settings, report: p.report, cells: p.cells, entries: p.entries };
  return createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
}

/** `--experiment small-data ... --plan FILE`: loads every cell (for its name, size and fingerprint) and writes the plan. */
export async function writeGridPlan(o: CliOptions, file: string): Promise<number> {
  const folder = o.data !== undefined ? cellsInFolder(o.data) : undefined;
  const paths: (string | undefined)[] = folder ? folder.map((c) => c.path) : [o.data];
  const cells: PlanCell[] = [];
  const fingerprints: Record<string, string> = {};
  let dataLabel = '';
  let synthetic = false;
  for (const path of paths) {
    const data = await loadData({ ...o, data: path });
    const ds = data.dataset;
    const { trainGenes, sizes } = sizesOn(o, ds);
    cells.push({ cell: ds.cell, path: resolve(data.source.path), genes: ds.genes, bins: ds.bins, trainGenes, sizes });
    fingerprints[ds.cell] = data.fingerprint;
    if (cells.length === 1) {
      dataLabel = folder ? String(o.data) : data.source.path;
      synthetic = data.source.synthetic;
    }
  }
  const first = cells[0] as PlanCell;
  const root = resolve(o.out ?? join('runs', `small-data-${folder && o.data ? basename(resolve(o.data)) : first.cell}`));
  const body = {
    root,
    settings: { ...experimentSettings(o, folder, root), fingerprints },
    report: { dataLabel, folder: folder !== undefined, synthetic },
    cells,
    entries: gridEntries(o, cells),
  };
  const plan: GridPlan = { format: PLAN_FORMAT, planId: planIdOf(body), ...body };
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  const same = existsSync(file);
  if (same && readRegularTextSync(file) !== text) {
    throw new UsageError(`--plan ${file} already holds another plan; it is not replaced (choose another file name, or delete it if its runs are not wanted)`);
  }
  // The root by the rules of a single experiment's --out: what collect will later write there must not replace a user's file.
  const what = `--out ${o.out ?? root}`;
  if (existsSync(root) && !statSync(root).isDirectory()) throw new UsageError(`${what} is a file, not a directory; choose a directory for the plan's files`);
  const held = notCollectedHere(root, plan.planId, file, `${what} is not empty and`, 'choose a new or empty directory');
  if (held.length > 0) throw new UsageError(`${what} already holds a run (${listed(held)}); nothing was changed: choose a new or empty directory for the plan`);
  if (same) err(`plan: ${file} already holds this plan; left as it is`);
  else await writeFileAtomically(file, text);
  const vaes = plan.entries.filter((e) => e.kind === 'vae').length;
  const runs = plan.entries.length - vaes;
  process.stdout.write(
    `wrote ${file}: ${plan.entries.length} entries (${vaes} VAE${vaes === 1 ? '' : 's'}, indices 0-${vaes - 1}; ${runs} runs, indices ${vaes}-${plan.entries.length - 1}) ` +
      `over ${cells.length} cell${cells.length === 1 ? '' : 's'}; they write under ${root}\n` +
      `next: ${COMMAND_TO_TYPE} slurm --plan ${file} [--submit]   (or one entry: ${COMMAND_TO_TYPE} job --plan ${file} --index N)\n`,
  );
  return 0;
}

/** Reads and checks a plan file; every problem names the file. */
export function readGridPlan(file: string): GridPlan {
  if (!existsSync(file)) throw new UsageError(`--plan ${file}: no such file (write one with --experiment small-data ... --plan ${file})`);
  let plan: GridPlan;
  try {
    plan = JSON.parse(readRegularTextSync(file)) as GridPlan;
  } catch (e) {
    throw new Error(`${file}: not readable as JSON (${(e as Error).message})`);
  }
  if (plan === null || typeof plan !== 'object' || plan.format !== PLAN_FORMAT) {
    throw new Error(`${file}: not a plan written by this version (format ${JSON.stringify((plan as { format?: unknown } | null)?.format)}, expected ${PLAN_FORMAT})`);
  }
  if (!Array.isArray(plan.entries) || !Array.isArray(plan.cells) || typeof plan.root !== 'string' || typeof plan.planId !== 'string') {
    throw new Error(`${file}: the plan is incomplete (entries, cells, root or planId missing)`);
  }
  if (!isAbsolute(plan.root)) throw new Error(`${file}: the plan's root ${JSON.stringify(plan.root)} is not an absolute path; the plan was edited`);
  plan.entries.forEach((e, i) => {
    if (e.index !== i) throw new Error(`${file}: entry ${i} carries index ${e.index}; the plan was edited`);
    // Checked before the identity, which anyone can recompute: an entry writes only inside the plan's root.
    if (typeof e.dir !== 'string' || pathUnder(plan.root, e.dir) === undefined) {
      throw new Error(`${file}: entry ${i} names the folder ${JSON.stringify(e.dir)}, which is outside the plan's root ${plan.root}; the plan was edited`);
    }
  });
  // Also before the identity: a run that reads a VAE and names none would train its own, unseen by slurm's afterok.
  const o = planOptions(plan, file);
  for (const e of plan.entries) {
    try {
      if (e.kind === 'run') vaeEntryOf(plan, o, e);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}; the plan was edited: write a new plan`);
    }
  }
  if (planIdOf(plan) !== plan.planId) throw new Error(`${file}: the plan's contents do not match its identity (planId ${plan.planId}); it was edited: write a new plan`);
  return plan;
}

/**
 * The VAE entry whose latents a run trains on, or undefined for a model that reads none: the one rule `job` and
 * `collect` hold a run to. A run of a VAE-reading model must name (`after`) the VAE entry of its own cell and seed;
 * one that names none, or an entry that is not that VAE, is refused (readGridPlan names the plan file), never run
 * with a VAE of its own.
 */
export function vaeEntryOf(plan: GridPlan, o: CliOptions, e: RunEntry): VaeEntry | undefined {
  const refuse = (what: string): never => {
    throw new Error(`entry ${e.index} (${describeEntry(e)}) ${what}`);
  };
  const arm = armsOf(o).find((a) => a.label === e.model);
  if (!arm) return refuse(`names the model ${JSON.stringify(e.model)}, which the plan's settings do not list`);
  const reads = trainsVaeFirst({ model: arm.model, m2Init: o.m2Init });
  const theVae = `the VAE of ${e.cell}, seed ${e.seed}`;
  if (!reads) return e.after === undefined ? undefined : refuse(`does not read a VAE, yet names entry ${String(e.after)} to wait for`);
  if (e.after === undefined) return refuse(`reads ${theVae} but names no VAE entry to wait for ("after" is missing)`);
  const v = plan.entries[e.after];
  if (v === undefined || v.kind !== 'vae' || v.cell !== e.cell || v.seed !== e.seed) {
    return refuse(`reads ${theVae} but names entry ${JSON.stringify(e.after)} as its VAE, which ${v === undefined ? 'the plan does not hold' : `is ${describeEntry(v)}`}`);
  }
  return v;
}

/** The experiment's options as the plan stores them. */
export function planOptions(plan: GridPlan, file: string): CliOptions {
  return experimentOptionsFrom(plan.settings, file);
}

/** An entry's folder, which never lies outside the plan's root (readGridPlan refuses such a plan with its file's name). */
export function entryPath(plan: GridPlan, e: PlanEntry): string {
  const dir = pathUnder(plan.root, e.dir);
  if (dir === undefined) throw new Error(`entry ${e.index}: its folder ${JSON.stringify(e.dir)} is outside the plan's root ${plan.root}`);
  return dir;
}

export const describeEntry = (e: PlanEntry): string =>
  e.kind === 'vae' ? `VAE of ${e.cell}, seed ${e.seed}` : `${e.model} on ${e.cell}, ${e.size} labeled genes, seed ${e.seed}`;
