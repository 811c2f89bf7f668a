import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FILES, type RunInfo, RunCheckpoints } from '../checkpoint/runCheckpoint.ts';
import { isTemporaryOf } from '../checkpoint/safetensors.ts';
import { acquireGpu } from '../gpu/device.ts';
import { writeRunPlots } from '../plots/runPlots.ts';
import { TrainingDivergedError } from '../train/trainClassifier.ts';
import { type CliOptions, UsageError } from './args.ts';
import { writeRunFiles } from './outputs.ts';
import { type ResumeSet, loadResumeSet } from './resume.ts';
import { type Device, type Progress, type RunOutcome, runModel } from './runModel.ts';
import { type LoadedData, err, loadData, progressPrinter, settingsOf } from './session.ts';
import { checkResumeFlags, restoreSettings, storeSettings } from './storedSettings.ts';

// One training run into one directory, from scratch or resumed: load and
// normalise the data, train with a checkpoint after every finished epoch,
// then write metrics.json, predictions.csv and the plots. A run that stops
// early (a diverging loss, a lost GPU, a crash) says which checkpoint it kept.

export interface DeviceChoice {
  readonly device: Device;
  readonly name: string;
  readonly release: () => void;
}

export async function deviceFor(kind: 'gpu' | 'cpu'): Promise<DeviceChoice> {
  if (kind === 'cpu') return { device: { kind: 'cpu' }, name: 'CPU reference path', release: () => {} };
  const gpu = await acquireGpu();
  return { device: { kind: 'gpu', gpu }, name: gpu.adapterName, release: () => gpu.destroy() };
}

/** Tests replace the progress printer (to interrupt a run) or the device (to share one GPU). */
export interface TrainingOverrides {
  readonly progress?: Progress;
  readonly device?: DeviceChoice;
}

export interface TrainingOutcome {
  readonly out: string;
  readonly options: CliOptions;
  readonly data: LoadedData;
  readonly run: RunOutcome;
  readonly files: readonly string[];
}

/** A run that stopped before its end; the message says what happened and which checkpoint is kept. */
export class TrainingStoppedError extends Error {
  override name = 'TrainingStoppedError';
}

/** Options for a resumed run: the checkpoint's settings, plus what the command line may change. */
async function resumedOptions(o: CliOptions, dir: string): Promise<{ options: CliOptions; resume: ResumeSet }> {
  const resume = await loadResumeSet(dir);
  const stored = restoreSettings(resume.info.settings, resume.from);
  checkResumeFlags(o, stored, dir);
  const given = (key: keyof CliOptions): boolean => o.explicit.includes(key);
  const options: CliOptions = {
    ...stored,
    resume: dir,
    quiet: o.quiet,
    out: dir,
    device: given('device') ? o.device : stored.device,
    data: given('data') ? o.data : stored.data,
    epochs: given('epochs') ? o.epochs : stored.epochs,
    explicit: o.explicit,
  };
  const data = options.data as string;
  if (!given('data') && !existsSync(data) && !existsSync(`${data}.train.csv.gz`) && !existsSync(`${data}.train.csv`)) {
    throw new UsageError(`--resume ${dir}: the data this run trained on is no longer at ${data}; give its new location with --data`);
  }
  const done = resume.classifier?.state.epoch ?? 0;
  if (options.epochs < done) {
    throw new UsageError(`--epochs ${options.epochs}: the run in ${dir} has already finished ${done} epochs`);
  }
  if (options.device !== stored.device) {
    err(`note: resuming on the ${options.device.toUpperCase()} a run that trained on the ${stored.device.toUpperCase()}: it continues correctly, but not bit for bit as an uninterrupted run would`);
  }
  return { options, resume };
}

function removeStaleCheckpoints(out: string, fresh: boolean): void {
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch {
    return;
  }
  const names = Object.values(FILES) as string[];
  const stale = entries.filter((f) => names.some((n) => isTemporaryOf(f, n) || (fresh && f === n)));
  if (fresh && stale.some((f) => names.includes(f))) err(`note: ${out} holds checkpoints of an earlier run; this run replaces them`);
  for (const f of stale) rmSync(join(out, f), { force: true });
}

/** Why a run stopped, and what it kept. */
function stopped(e: unknown, out: string, checkpoints: RunCheckpoints): TrainingStoppedError {
  const message = e instanceof Error ? e.message : String(e);
  const kept = checkpoints.latest;
  let tail: string;
  if (!kept) tail = 'no checkpoint was written: the run stopped before its first epoch finished';
  else {
    tail = `the last good checkpoint is ${kept.file} (${kept.phase} epoch ${kept.epoch})`;
    tail +=
      e instanceof TrainingDivergedError
        ? '; resuming would diverge again at the same step: start a new run with a lower --lr'
        : `; continue with: npx tsx run.ts --resume ${out}`;
  }
  return new TrainingStoppedError(`${message}\n${tail}`, { cause: e });
}

/** Trains (or resumes) one run into its directory and writes everything it leaves behind. */
export async function trainToDirectory(given: CliOptions, overrides: TrainingOverrides = {}): Promise<TrainingOutcome> {
  const t0 = performance.now();
  const { options: o, resume } = given.resume !== undefined ? await resumedOptions(given, given.resume) : { options: given, resume: undefined };
  const data = await loadData(o, resume?.info.normalization);
  if (resume && data.fingerprint !== resume.info.data.fingerprint) {
    throw new Error(
      `--resume ${resume.dir}: the data at ${data.source.path} is not the data this run trained on ` +
        `(${resume.info.data.cell}, ${resume.info.data.genes} genes from ${resume.info.data.path}; fingerprints differ)`,
    );
  }
  const ds = data.dataset;
  const choice = overrides.device ?? (await deviceFor(o.device));
  const settings = settingsOf(o);
  const out = o.out ?? join('runs', `${ds.cell}-${o.model}-n${o.trainSize ?? 'all'}-seed${o.seed}`);
  try {
    err(`simplechrome: ${o.model} on ${ds.cell} (${ds.genes} genes × ${ds.bins} bins × ${ds.marks.length} marks), ${o.device.toUpperCase()}: ${choice.name}`);
    await mkdir(out, { recursive: true });
    removeStaleCheckpoints(out, resume === undefined);
    const info: RunInfo = {
      runId: resume?.info.runId ?? randomUUID(),
      modelName: o.model,
      settings: { ...storeSettings(o, data.source.path), adapter: choice.name },
      normalization: data.normalization,
      data: {
        cell: ds.cell,
        path: data.source.path,
        layout: data.source.layout,
        genes: ds.genes,
        bins: ds.bins,
        marks: [...ds.marks],
        fingerprint: data.fingerprint,
      },
    };
    const checkpoints = new RunCheckpoints(out, info);
    if (resume) {
      const c = resume.classifier;
      const v = resume.vae;
      checkpoints.latest = c
        ? { file: checkpoints.path('last'), phase: 'classifier', epoch: c.state.epoch }
        : { file: checkpoints.path('vae'), phase: 'VAE', epoch: v?.state.epoch ?? 0 };
      err(
        `resuming ${out}: ` +
          (v ? `VAE ${v.state.epoch}/${o.vaeEpochs} epochs done; ` : '') +
          (c ? `classifier ${c.state.epoch}/${o.epochs} epochs done (step ${c.state.step}, best epoch ${c.state.bestEpoch})` : 'classifier not started'),
      );
    }
    const tLoaded = performance.now();
    let run: RunOutcome;
    try {
      run = await runModel(ds, settings, choice.device, overrides.progress ?? progressPrinter(o.quiet), undefined, {
        checkpoints,
        ...(resume ? { resume: { ...(resume.vae ? { vae: resume.vae } : {}), ...(resume.classifier ? { classifier: resume.classifier } : {}) } } : {}),
      });
    } catch (e) {
      throw stopped(e, out, checkpoints);
    }
    const r = run.result;
    const metrics = {
      model: o.model,
      cell: ds.cell,
      data: { ...data.source, genes: ds.genes, bins: ds.bins, marks: ds.marks, fingerprint: data.fingerprint },
      labeledTrainingGenes: run.labeledGenes,
      validGenes: run.split.valid.length,
      testGenes: run.split.test.length,
      config: { ...settings, normalize: o.normalize },
      device: { kind: o.device, adapter: choice.name },
      parameters: run.parameters,
      normalization: data.normalization,
      ...(run.neighbors ? { neighbors: run.neighbors } : {}),
      ...(run.vaeHistory ? { vaeHistory: run.vaeHistory } : {}),
      history: r.history,
      bestEpoch: r.bestEpoch,
      valid: r.valid,
      test: r.test,
      runId: info.runId,
      checkpoints: { best: FILES.best, last: FILES.last, ...(run.vaeHistory ? { vae: FILES.vae } : {}) },
      ...(resume
        ? { resumedFrom: { vaeEpoch: resume.vae?.state.epoch ?? null, classifierEpoch: resume.classifier?.state.epoch ?? 0 } }
        : {}),
      timings: {
        loadSeconds: (tLoaded - t0) / 1000,
        vaeSeconds: run.seconds.vae,
        classifierSeconds: run.seconds.classifier,
        totalSeconds: (performance.now() - t0) / 1000,
      },
      synthetic: data.source.synthetic,
    };
    const testLabels = Array.from(run.split.test, (g) => ds.labels[g] as number);
    const plots = await writeRunPlots(out, {
      model: o.model,
      cell: ds.cell,
      history: r.history,
      bestEpoch: r.bestEpoch,
      test: r.test,
      testLabels,
      testProbabilities: r.testProbabilities,
      ...(run.vaeHistory ? { vaeHistory: run.vaeHistory } : {}),
      ...(run.latents ? { latents: { values: run.latents, width: settings.latent, labels: ds.labels } } : {}),
    });
    await writeRunFiles(out, { ...metrics, plots }, ds, run.split.test, r.testProbabilities);
    const files = ['metrics.json', 'predictions.csv', FILES.best, FILES.last, ...(run.vaeHistory ? [FILES.vae] : []), ...plots];
    return { out, options: o, data, run, files };
  } finally {
    if (!overrides.device) choice.release();
  }
}
