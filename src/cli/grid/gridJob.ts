import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RunInfo, RunCheckpoints, readClassifierCheckpoint, readVaeCheckpoint } from '../../checkpoint/runCheckpoint.ts';
import { isTemporaryOf, writeFileAtomically } from '../../util/atomicFile.ts';
import { SHARED_VAE_MODEL } from '../../models/registry.ts';
import { LATENTS_FILE, readLatentsFile, writeLatentsFile } from '../experiment/latentsFile.ts';
import { splitIndices } from '../../train/prepare.ts';
import { UsageError } from '../flags/args.ts';
import { armSettings, armsOf, experimentRow, validGenesOf } from '../experiment/experiment.ts';
import { csvLine } from '../experiment/experimentReport.ts';
import type { JobOptions } from './gridArgs.ts';
import { type GridPlan, type PlanEntry, type RunEntry, type VaeEntry, describeEntry, entryPath, planOptions, readGridPlan } from './gridPlan.ts';
import { onInterrupt } from '../session/interrupt.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { RunLock } from '../session/runLock.ts';
import { isRunFile, listed, refuseForeign } from '../session/runDirectory.ts';
import { type VaeLatents, runModel, trainVaeLatents, vaeTrainingGenes } from '../../train/runModel.ts';
import { type LoadedData, err, loadData, settingsOf } from '../session/session.ts';
import { progressPrinter } from '../session/progressPrinter.ts';
import { type DeviceChoice, deviceFor } from '../run/trainRun.ts';

// One entry of a plan, run into its own directory: a (cell, seed)'s VAE,
// whose latents the VAE-based runs read, or one classifier run. A finished
// entry (result.json) is skipped; an interrupted one continues from the
// checkpoint it wrote after its last finished epoch, so it ends exactly as an
// uninterrupted run would. An entry never writes outside its directory.

export const ENTRY_FILE = 'entry.json';
export const RESULT_FILE = 'result.json';
export const FAILED_FILE = 'failed.json';

/** What an entry's folder may hold: a run's files, the entry's own, and the VAE's latents. */
const isEntryFile = (name: string): boolean => isRunFile(name) || [ENTRY_FILE, RESULT_FILE, FAILED_FILE, LATENTS_FILE].some((f) => name === f || isTemporaryOf(name, f));

export interface EntryResult {
  readonly planId: string;
  readonly index: number;
  readonly kind: PlanEntry['kind'];
  /** A run's line of small-data.csv. */
  readonly line?: string;
  readonly device: string;
  readonly seconds: number;
}

/** A result.json that cannot be read as one (half written, damaged): collect lists its entry as failed and goes on with the others. */
export class UnreadableResultError extends Error {
  override name = 'UnreadableResultError';
}

/** The finished result of an entry, or undefined. */
export function entryResult(plan: GridPlan, e: PlanEntry): EntryResult | undefined {
  const file = join(entryPath(plan, e), RESULT_FILE);
  if (!existsSync(file)) return undefined;
  let r: EntryResult;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as EntryResult;
  } catch (x) {
    throw new UnreadableResultError(`${file} is not a whole result (${(x as Error).message}): its job was killed while writing it, or the file was damaged; run the entry again`);
  }
  if (r.planId !== plan.planId || r.index !== e.index) throw new Error(`${file}: written by another plan (plan ${r.planId}, entry ${r.index}); this plan is ${plan.planId}`);
  return r;
}

/** Why an entry failed, when its last attempt failed. */
export function entryFailure(plan: GridPlan, e: PlanEntry): string | undefined {
  const file = join(entryPath(plan, e), FAILED_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { message: string }).message : undefined;
}

function entryIndex(j: JobOptions, plan: GridPlan): number {
  let index = j.index;
  if (index === undefined) {
    const task = process.env.SLURM_ARRAY_TASK_ID;
    if (task === undefined || !/^\d+$/.test(task)) throw new UsageError('job needs --index N, or $SLURM_ARRAY_TASK_ID (set by a Slurm job array)');
    index = j.offset + Number(task);
  }
  if (index >= plan.entries.length) throw new UsageError(`job: index ${index} is not in the plan (entries 0-${plan.entries.length - 1})`);
  return index;
}

export async function runJob(j: JobOptions): Promise<number> {
  const plan = readGridPlan(j.plan);
  const entry = plan.entries[entryIndex(j, plan)] as PlanEntry;
  const dir = entryPath(plan, entry);
  const what = `entry ${entry.index} (${describeEntry(entry)})`;
  if (entryResult(plan, entry)) {
    err(`job: ${what} has finished: nothing to do`);
    return 0;
  }
  mkdirSync(dir, { recursive: true });
  const lock = RunLock.acquire(dir, `job: ${what} in ${dir}`);
  const unregister = onInterrupt(() => {
    lock.release();
    return `job: ${what} stopped; run it again to continue from its last checkpoint in ${dir}`;
  });
  let choice: DeviceChoice | undefined;
  // Until its entry.json is known to be this plan's, the directory may be another plan's: nothing is written there.
  let owned = false;
  try {
    const entryFile = join(dir, ENTRY_FILE);
    const mine = `${JSON.stringify({ planId: plan.planId, ...entry }, null, 2)}\n`;
    if (existsSync(entryFile)) {
      if (readFileSync(entryFile, 'utf8') !== mine) {
        throw new Error(`${dir} holds an entry of another plan (see ${entryFile}); this plan is ${plan.planId}: give the plan another --out`);
      }
    } else {
      // Not yet this entry's: the folder must be new or empty, by the rules of a run's --out; nothing is added otherwise.
      const advice = 'give the plan another --out';
      const held = refuseForeign(dir, `job: ${what}: ${dir}`, advice, isEntryFile);
      if (held.length > 0) throw new UsageError(`job: ${what}: ${dir} already holds a run that is not an entry of this plan (${listed(held)}); nothing was changed: ${advice}`);
    }
    await writeFileAtomically(entryFile, mine);
    owned = true;
    const o = { ...planOptions(plan, j.plan), quiet: j.quiet };
    const cell = plan.cells.find((c) => c.cell === entry.cell);
    if (!cell) throw new Error(`${j.plan}: entry ${entry.index} names cell ${entry.cell}, which the plan does not list`);
    const data = await loadData({ ...o, data: cell.path });
    const fingerprints = plan.settings.fingerprints as Record<string, string> | undefined;
    if (fingerprints?.[entry.cell] !== data.fingerprint) {
      throw new Error(`the data of ${entry.cell} at ${cell.path} is not the data this plan was made on (fingerprints differ); write a new plan`);
    }
    choice = await deviceFor(o.device, { mode: o.gemm });
    err(`job: ${what}, ${o.device.toUpperCase()}: ${choice.name}; writing into ${dir}`);
    const t0 = performance.now();
    const ctx = { plan, dir, data, device: choice, progress: progressPrinter(o.quiet), info: runInfo(plan, entry, data) };
    const line = entry.kind === 'vae' ? (await runVae(ctx, { ...settingsOf(o), seed: entry.seed }), undefined) : await runClassifier(ctx, entry, o, cell.trainGenes);
    const seconds = (performance.now() - t0) / 1000;
    const result: EntryResult = { planId: plan.planId, index: entry.index, kind: entry.kind, ...(line !== undefined ? { line } : {}), device: o.device === 'gpu' ? choice.name : 'CPU', seconds };
    rmSync(join(dir, FAILED_FILE), { force: true });
    await writeFileAtomically(join(dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
    err(`job: ${what} finished in ${seconds.toFixed(1)} s`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (owned) await writeFileAtomically(join(dir, FAILED_FILE), `${JSON.stringify({ message, at: new Date().toISOString() }, null, 2)}\n`).catch(() => {});
    throw e;
  } finally {
    unregister();
    lock.release();
    choice?.release();
  }
}

interface EntryContext {
  readonly plan: GridPlan;
  readonly dir: string;
  readonly data: LoadedData;
  readonly device: DeviceChoice;
  readonly progress: ReturnType<typeof progressPrinter>;
  readonly info: RunInfo;
}

/** What each checkpoint file of the entry records: the plan's settings and the data it read. */
function runInfo(plan: GridPlan, e: PlanEntry, data: LoadedData): RunInfo {
  const ds = data.dataset;
  return {
    runId: `${plan.planId}-${e.index}`,
    modelName: e.kind === 'vae' ? SHARED_VAE_MODEL : (e.model.split(':')[0] as RunInfo['modelName']),
    settings: { ...plan.settings, entry: e },
    normalization: data.normalization,
    data: { cell: ds.cell, path: data.source.path, layout: data.source.layout, genes: ds.genes, bins: ds.bins, marks: [...ds.marks], fingerprint: data.fingerprint },
  };
}

/** A checkpoint left by an earlier attempt at this entry, or undefined; one of another run is refused. */
function sameRun<T extends { readonly info: RunInfo; readonly file: string }>(c: T | undefined, info: RunInfo): T | undefined {
  if (c && c.info.runId !== info.runId) throw new Error(`${c.file}: a checkpoint of another run (${c.info.runId}); this entry is ${info.runId}`);
  if (c) err(`job: continuing from ${c.file}`);
  return c;
}

/** Trains the VAE of a (cell, seed), a checkpoint after every epoch, and writes every gene's latent means for the runs. */
async function runVae(ctx: EntryContext, s: ReturnType<typeof settingsOf>): Promise<void> {
  const ds = ctx.data.dataset;
  const checkpoints = new RunCheckpoints(ctx.dir, ctx.info);
  const from = sameRun(existsSync(checkpoints.path('vae')) ? await readVaeCheckpoint(checkpoints.path('vae')) : undefined, ctx.info);
  const vae = await trainVaeLatents(ds, vaeTrainingGenes(splitIndices(ds)), s, ctx.device.device, ctx.progress, { checkpoints, ...(from ? { resume: { vae: from } } : {}) });
  await writeLatentsFile(join(ctx.dir, LATENTS_FILE), ds.cell, s.latent, vae);
}

/** The latents a finished VAE entry wrote, bit for bit what its training encoded. */
export async function readLatents(plan: GridPlan, e: VaeEntry): Promise<VaeLatents> {
  const dir = entryPath(plan, e);
  if (!entryResult(plan, e)) {
    throw new Error(`entry ${e.index} (${describeEntry(e)}) has not finished; the runs that use its VAE wait for it (slurm submits them with afterok), or run it first: job --index ${e.index}`);
  }
  return readLatentsFile(join(dir, LATENTS_FILE));
}

/** One run of the grid; returns its line of small-data.csv. */
async function runClassifier(ctx: EntryContext, e: RunEntry, o: ReturnType<typeof planOptions>, trainGenes: number): Promise<string> {
  const arm = armsOf(o).find((a) => a.label === e.model);
  if (!arm) throw new Error(`entry ${e.index}: the plan's settings have no model ${e.model}`);
  const vaeEntry = e.after !== undefined ? ctx.plan.entries[e.after] : undefined;
  if (vaeEntry !== undefined && vaeEntry.kind !== 'vae') throw new Error(`entry ${e.index}: its VAE entry ${e.after} is not a VAE`);
  const checkpoints = new RunCheckpoints(ctx.dir, ctx.info);
  const last = checkpoints.path('last');
  const from = sameRun(existsSync(last) ? await readClassifierCheckpoint(last, 'last') : undefined, ctx.info);
  const t0 = performance.now();
  const run = await runModel(
    ctx.data.dataset,
    armSettings(o, arm, e.seed, e.size, { train: trainGenes, valid: validGenesOf(ctx.data.dataset) }),
    ctx.device.device,
    ctx.progress,
    vaeEntry ? () => readLatents(ctx.plan, vaeEntry) : undefined,
    { checkpoints, ...DISK_SOURCES, ...(from ? { resume: { classifier: from } } : {}) },
  );
  return csvLine(experimentRow({ cell: e.cell, model: e.model, size: e.size, seed: e.seed }, run, (performance.now() - t0) / 1000));
}
