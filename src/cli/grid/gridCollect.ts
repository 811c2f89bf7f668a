import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { WriteFailedError } from '../../util/writeFailure.ts';
import { testPause } from '../../util/testPause.ts';
import { armsOf } from '../experiment/experiment.ts';
import { csvText, writeExperimentReport } from '../experiment/experimentFiles.ts';
import type { ExperimentRow } from '../experiment/experimentReport.ts';
import type { CollectOptions } from './gridArgs.ts';
import { describeEntry, entryPath, planOptions, readGridPlan } from './gridPlan.ts';
import { RESULT_FILE, entryFailure, entryStatus, readLatents } from './gridJob.ts';
import { EXPERIMENT_FILE, listed } from '../session/runDirectory.ts';
import { RunLock, takeoverNote } from '../session/runLock.ts';
import { UsageError } from '../flags/args.ts';
import { notCollectedHere, writeCollected } from './gridRoot.ts';
import { err } from '../session/session.ts';
import { type VaeCurveRow, vaeCurveRows, vaeCurvesCsv } from '../experiment/vaeCurves.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';

// The finished entries of a plan, merged into the files the single-machine
// experiment writes (small-data.csv and .md, paired.csv, per-cell.csv, the
// figure, experiment.json) in the plan's root, and a list of the entries
// that are missing, unfinished or failed. Rows keep the plan's order, which
// is the order one machine runs them in, so the tables come out the same.

const { csv: CSV_FILE, vaeCurves: VAE_CURVES_FILE } = EXPERIMENT_FILE;

export async function collectGrid(c: CollectOptions): Promise<number> {
  const plan = readGridPlan(c.plan);
  const o = planOptions(plan, c.plan);
  const rows: ExperimentRow[] = [];
  // VAE entries come in plan order, one per (cell, seed), as one machine trains them.
  const vaeCurves: VaeCurveRow[] = [];
  const devices = new Set<string>();
  const problems: string[] = [];
  let refusals = 0;
  for (const e of plan.entries) {
    const status = entryStatus(plan, o, e);
    let refused = status !== undefined && 'refused' in status ? status.refused : undefined;
    if (status !== undefined && 'result' in status) {
      try {
        if (e.kind === 'vae') vaeCurves.push(...vaeCurveRows(e.cell, e.seed, (await readLatents(plan, o, e)).history));
        else if (status.row) rows.push(status.row);
        devices.add(status.result.device);
        continue;
      } catch (err) {
        refused = (err as Error).message;
      }
    }
    // A result that is not taken is listed with why, and the others are collected: one bad folder does not stop the rest.
    const failure = entryFailure(plan, e);
    if (refused !== undefined) refusals++;
    const why = refused !== undefined ? `refused: ${refused}` : failure !== undefined ? `failed: ${failure.split('\n')[0]}` : 'not finished';
    problems.push(`  ${e.index}  ${describeEntry(e)}: ${why} (${entryPath(plan, e)})`);
  }
  const runs = plan.entries.filter((e) => e.kind === 'run').length;
  const again =
    `run them again with: ${COMMAND_TO_TYPE} slurm --plan ${c.plan} --submit` +
    (refusals > 0 ? `; a refused ${RESULT_FILE} is never replaced: move it out of its folder to run the entry again` : '');
  if (rows.length === 0) {
    err(`collect: none of the ${runs} runs of ${c.plan} ${refusals > 0 ? 'could be collected' : 'has finished yet'}:\n${problems.join('\n')}`);
    return 1;
  }
  mkdirSync(plan.root, { recursive: true });
  const lock = RunLock.acquire(plan.root, `collect: ${plan.root}`, 'nothing was changed: wait for it to finish, or stop it');
  if (lock.tookOverFrom !== undefined) err(takeoverNote(plan.root, lock.tookOverFrom));
  try {
    testPause('collect-locked');
    const advice = `move them out of ${plan.root}, or give the plan another --out`;
    const held = notCollectedHere(plan.root, plan.planId, c.plan, `collect: ${plan.root}`, advice).map((f) => join(plan.root, f));
    if (held.length > 0) {
      const one = held.length === 1;
      throw new UsageError(`collect: ${listed(held)} ${one ? 'was' : 'were'} not written by collect of this plan; nothing was changed: ${one ? advice.replace('them', 'it') : advice}`);
    }
    // Every file is made in memory first and written by writeCollected, which records it before it replaces anything.
    const files = new Map<string, string>([[CSV_FILE, csvText(rows, o.target)]]);
    if (vaeCurves.length > 0) files.set(VAE_CURVES_FILE, vaeCurvesCsv(vaeCurves));
    const hold = async (path: string, text: string): Promise<void> => {
      files.set(basename(path), text);
    };
    const report = await writeExperimentReport(
      plan.root,
      {
        o,
        rows,
        cells: plan.cells,
        labels: armsOf(o).map((a) => a.label),
        dataLabel: plan.report.dataLabel,
        folder: plan.report.folder,
        synthetic: plan.report.synthetic,
        deviceName: [...devices].join(', '),
        settings: plan.settings,
        vaeCurves,
      },
      hold,
    );
    try {
      await writeCollected(plan.root, plan.planId, files);
    } catch (e) {
      if (!(e instanceof WriteFailedError)) throw e;
      throw new Error(`${e.message}\ncollect stopped there: each of its files in ${plan.root} is whole, as the last collect or this one wrote it; collect again once it can be written`, { cause: e });
    }
    process.stdout.write(`${report.stdout}wrote ${report.files.map((f) => join(plan.root, f)).join(', ')}\n`);
  } finally {
    lock.release();
  }
  if (problems.length > 0) {
    err(`collect: ${rows.length} of ${runs} runs finished; the tables leave out what these entries would add:\n${problems.join('\n')}\n${again}`);
    return 1;
  }
  err(`collect: all ${runs} runs of ${c.plan} finished`);
  return 0;
}
