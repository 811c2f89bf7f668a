import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FILES, type RunInfo, RunCheckpoints, readClassifierCheckpoint, readVaeCheckpoint } from '../../checkpoint/runCheckpoint.ts';
import { fileSha256 } from '../../util/fileSha256.ts';
import { decodeSafetensors } from '../../checkpoint/safetensors.ts';
import { isTemporaryOf, writeFileAtomically } from '../../util/atomicFile.ts';
import { testPause } from '../../util/testPause.ts';
import { WriteFailedError } from '../../util/writeFailure.ts';
import { SHARED_VAE_MODEL } from '../../models/registry.ts';
import { LATENTS_FILE, readLatentsFile, writeLatentsFile } from '../experiment/latentsFile.ts';
import { splitIndices } from '../../train/prepare.ts';
import { type CliOptions, UsageError } from '../flags/args.ts';
import { armSettings, armsOf, experimentRow, validGenesOf } from '../experiment/experiment.ts';
import { type ExperimentRow, csvLine, parseCsvLine } from '../experiment/experimentReport.ts';
import type { JobOptions } from './gridArgs.ts';
import { type GridPlan, type PlanEntry, type RunEntry, type VaeEntry, describeEntry, entryPath, planOptions, readGridPlan, vaeEntryOf } from './gridPlan.ts';
import { onInterrupt } from '../session/interrupt.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { RunLock, takeoverNote } from '../session/runLock.ts';
import { isRunFile, listed, refuseForeign } from '../session/runDirectory.ts';
import { type VaeLatents, runModel, trainVaeLatents, vaeTrainingGenes } from '../../train/runModel.ts';
import { type LoadedData, dataInfoOf, err, loadData, settingsOf } from '../session/session.ts';
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
  /** The file in the entry's folder the result stands on (a run's best.safetensors, a VAE's latents) and its SHA-256. */
  readonly checkpoint: { readonly file: string; readonly sha256: string };
  /** A run of a VAE-reading model: the VAE entry and the SHA-256 of the latents file it trained on. */
  readonly vae?: { readonly index: number; readonly sha256: string };
}

/** What an entry's result.json says: a result that stands on the files behind it, a `refused` one (why, naming the
 * file), or undefined when there is none yet. */
export type EntryStatus = { readonly result: EntryResult; readonly row?: ExperimentRow } | { readonly refused: string } | undefined;

const contentHash = (r: EntryResult): string => createHash('sha256').update(JSON.stringify(r)).digest('hex');

/** result.json's text: the result and the SHA-256 of its JSON, which a reader recomputes. */
const resultText = (r: EntryResult): string => `${JSON.stringify({ ...r, sha256: contentHash(r) }, null, 2)}\n`;

/** The file a finished entry's result stands on. */
const checkpointOf = (e: PlanEntry): string => (e.kind === 'vae' ? LATENTS_FILE : FILES.best);

/**
 * An entry's result, taken only when it is intact and stands on what is in its folder now: written for this plan
 * and entry, its content hash right, its checkpoint there with the hash it recorded, and a run of a VAE-reading
 * model trained on the latents its VAE entry holds now. Anything else is `refused` with why, never trusted.
 */
export function entryStatus(plan: GridPlan, o: CliOptions, e: PlanEntry): EntryStatus {
  const dir = entryPath(plan, e);
  const file = join(dir, RESULT_FILE);
  if (!existsSync(file)) return undefined;
  const refused = (why: string): EntryStatus => ({ refused: `${file}: ${why}` });
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return refused(`not readable as JSON (${(err as Error).message}): it was cut short or edited`);
  }
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return refused('not a result (not a JSON object)');
  const { sha256, ...r } = stored as EntryResult & { sha256?: unknown };
  if (r.planId !== plan.planId || r.index !== e.index) return refused(`written by another plan (plan ${r.planId}, entry ${r.index}); this plan is ${plan.planId}`);
  if (typeof sha256 !== 'string') return refused('carries no content hash (written by hand, or by an earlier version)');
  if (sha256 !== contentHash(r)) return refused('its content does not match its hash: it was edited or damaged');
  const own = checkpointOf(e);
  const behind = standsOn(plan, e, join(dir, own));
  if ('missing' in behind) return refused(`no checkpoint behind it: ${own} is missing from ${dir}`);
  if ('wrong' in behind) return refused(behind.wrong);
  if (r.checkpoint?.file !== own || r.checkpoint.sha256 !== behind.sha256) return refused(`${own} is not the file this result was computed from (its SHA-256 differs)`);
  if (e.kind === 'vae') return { result: r };
  const v = vaeEntryOf(plan, o, e);
  if (v !== undefined) {
    const latents = join(entryPath(plan, v), LATENTS_FILE);
    if (r.vae?.index !== v.index || r.vae.sha256 !== fileSha256(latents)) {
      return refused(`was not trained on the VAE that entry ${v.index} holds now (${latents}): run entry ${e.index} again`);
    }
  }
  try {
    return { result: r, row: parseCsvLine(r.line ?? '', file) };
  } catch (err) {
    return refused((err as Error).message);
  }
}

/** The file an entry's result stands on: its SHA-256 when it is intact (its own checksum) and this entry's (a run's
 * checkpoint names the entry's run, a VAE's latents its cell); else what is wrong with it. A checkpoint copied in from
 * another entry or plan is not this entry's, whatever its hash. */
function standsOn(plan: GridPlan, e: PlanEntry, path: string): { readonly sha256: string } | { readonly missing: true } | { readonly wrong: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return { missing: true };
  }
  let metadata: Readonly<Record<string, string>>;
  try {
    metadata = decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path).metadata;
  } catch (err) {
    return { wrong: (err as Error).message };
  }
  const runId = entryRunId(plan, e);
  if (e.kind === 'run' && metadata.run_id !== runId) return { wrong: `${path} was written by run ${metadata.run_id}, not by this entry's (${runId}): it was copied here` };
  if (e.kind === 'vae' && metadata.cell !== e.cell) return { wrong: `${path} holds the latents of ${metadata.cell}, not of ${e.cell}: it was copied here` };
  return { sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The run id every checkpoint of an entry records. */
const entryRunId = (plan: GridPlan, e: PlanEntry): string => `${plan.planId}-${e.index}`;

/** The finished result of an entry; a result.json that is not taken stops the caller, with why. */
function finished(plan: GridPlan, o: CliOptions, e: PlanEntry, lead: string): EntryResult | undefined {
  const status = entryStatus(plan, o, e);
  if (status !== undefined && 'refused' in status) {
    throw new Error(`${lead}: ${status.refused}; nothing was changed: move ${RESULT_FILE} out of ${entryPath(plan, e)} to run the entry again`);
  }
  return status?.result;
}

/** Why an entry failed, when its last attempt failed. */
export function entryFailure(plan: GridPlan, e: PlanEntry): string | undefined {
  const file = join(entryPath(plan, e), FAILED_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return String((JSON.parse(readFileSync(file, 'utf8')) as { message: unknown }).message);
  } catch (err) {
    return `${file} is not readable (${(err as Error).message})`;
  }
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
  const o = { ...planOptions(plan, j.plan), quiet: j.quiet };
  if (finished(plan, o, entry, `job: ${what}`)) {
    err(`job: ${what} has finished: nothing to do`);
    return 0;
  }
  mkdirSync(dir, { recursive: true });
  const lock = RunLock.acquire(dir, `job: ${what} in ${dir}`, 'nothing was changed: wait for it to finish (collect takes its result), or stop it');
  if (lock.tookOverFrom !== undefined) err(takeoverNote(dir, lock.tookOverFrom));
  testPause('job-locked');
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
    const ran = entry.kind === 'vae' ? (await runVae(ctx, { ...settingsOf(o), seed: entry.seed }), {}) : await runClassifier(ctx, entry, o, cell.trainGenes);
    const seconds = (performance.now() - t0) / 1000;
    const own = checkpointOf(entry);
    const sha256 = fileSha256(join(dir, own));
    if (sha256 === undefined) throw new Error(`job: ${what} finished without writing ${own} into ${dir}`);
    const result: EntryResult = {
      planId: plan.planId,
      index: entry.index,
      kind: entry.kind,
      ...ran,
      device: o.device === 'gpu' ? choice.name : 'CPU',
      seconds,
      checkpoint: { file: own, sha256 },
    };
    rmSync(join(dir, FAILED_FILE), { force: true });
    testPause('job-before-result');
    await writeFileAtomically(join(dir, RESULT_FILE), resultText(result));
    err(`job: ${what} finished in ${seconds.toFixed(1)} s`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (owned) await writeFileAtomically(join(dir, FAILED_FILE), `${JSON.stringify({ message, at: new Date().toISOString() }, null, 2)}\n`).catch(() => {});
    if (e instanceof WriteFailedError) {
      // A full disk: what was written before is whole (every write is atomic), and the entry goes on from it.
      const kept = [FILES.last, FILES.vae].map((f) => join(dir, f)).find((f) => existsSync(f));
      const from = kept !== undefined ? `it continues from ${kept}` : 'it starts again (no checkpoint was kept)';
      throw new Error(`${message}\njob: ${what} stopped; run it again once there is room: ${from}`, { cause: e });
    }
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
    runId: entryRunId(plan, e),
    modelName: e.kind === 'vae' ? SHARED_VAE_MODEL : (e.model.split(':')[0] as RunInfo['modelName']),
    settings: { ...plan.settings, entry: e },
    normalization: data.normalization,
    data: dataInfoOf(data),
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
export async function readLatents(plan: GridPlan, o: CliOptions, e: VaeEntry): Promise<VaeLatents> {
  const dir = entryPath(plan, e);
  if (!finished(plan, o, e, `entry ${e.index} (${describeEntry(e)})`)) {
    throw new Error(`entry ${e.index} (${describeEntry(e)}) has not finished; the runs that use its VAE wait for it (slurm submits them with afterok), or run it first: job --index ${e.index}`);
  }
  return readLatentsFile(join(dir, LATENTS_FILE));
}

/** One run of the grid; returns its line of small-data.csv and, for a VAE-reading model, the latents it read. */
async function runClassifier(ctx: EntryContext, e: RunEntry, o: CliOptions, trainGenes: number): Promise<Pick<EntryResult, 'line' | 'vae'>> {
  const arm = armsOf(o).find((a) => a.label === e.model);
  if (!arm) throw new Error(`entry ${e.index}: the plan's settings have no model ${e.model}`);
  // Never undefined for a model that reads a VAE: such a run is never run with a VAE of its own.
  const vaeEntry = vaeEntryOf(ctx.plan, o, e);
  let vae: EntryResult['vae'];
  const latents = vaeEntry
    ? async (): Promise<VaeLatents> => {
        // Hashed before it is read: a VAE entry run again meanwhile makes the result refused, never wrong unseen.
        const sha256 = fileSha256(join(entryPath(ctx.plan, vaeEntry), LATENTS_FILE));
        const read = await readLatents(ctx.plan, o, vaeEntry);
        if (sha256 !== undefined) vae = { index: vaeEntry.index, sha256 };
        return read;
      }
    : undefined;
  const checkpoints = new RunCheckpoints(ctx.dir, ctx.info);
  const last = checkpoints.path('last');
  const from = sameRun(existsSync(last) ? await readClassifierCheckpoint(last, 'last') : undefined, ctx.info);
  const t0 = performance.now();
  const run = await runModel(
    ctx.data.dataset,
    armSettings(o, arm, e.seed, e.size, { train: trainGenes, valid: validGenesOf(ctx.data.dataset) }),
    ctx.device.device,
    ctx.progress,
    latents,
    { checkpoints, ...DISK_SOURCES, ...(from ? { resume: { classifier: from } } : {}) },
  );
  if (vaeEntry && vae === undefined) throw new Error(`entry ${e.index}: ${describeEntry(e)} finished without reading the latents of entry ${vaeEntry.index}`);
  return { line: csvLine(experimentRow({ cell: e.cell, model: e.model, size: e.size, seed: e.seed }, run, (performance.now() - t0) / 1000)), ...(vae ? { vae } : {}) };
}
