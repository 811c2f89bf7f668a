import { type GemmVariant, isGemmVariant } from '../../kernels/gpuTarget.ts';
import { type VariantMode, VariantPolicy, variantModeFrom } from '../../plan/autotune.ts';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FILES, type RunInfo, RunCheckpoints } from '../../checkpoint/runCheckpoint.ts';
import { acquireGpu } from '../../gpu/device.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { writeRunPlots } from '../../plots/runPlots.ts';
import { TrainingDivergedError } from '../../train/trainClassifier.ts';
import { WriteFailedError } from '../../util/writeFailure.ts';
import { type CliOptions, UsageError } from '../flags/args.ts';
import { onInterrupt } from '../session/interrupt.ts';
import { writeRunFiles } from '../session/outputs.ts';
import { expressionPredictionsCsv, predictionsCsv } from '../../train/predictionsCsv.ts';
import { labeledCount, observedValues } from '../../train/prepare.ts';
import { SettingError } from '../../train/runFlags.ts';
import { type ResumeSet, loadResumeSet } from './resume.ts';
import { OutDirectory, PROGRESS_FILE } from '../session/runDirectory.ts';
import { ProgressLog } from './progressLog.ts';
import { runWarnings } from '../../train/runWarnings.ts';
import { type Device, type Progress, type RunOutcome, runModel } from '../../train/runModel.ts';
import { type LoadedData, dataInfoOf, err, loadData, settingsOf } from '../session/session.ts';
import { progressPrinter } from '../session/progressPrinter.ts';
import { checkResumeFlags, restoreSettings, storeSettings } from '../flags/storedSettings.ts';
import { isLinear } from '../../models/registry.ts';
import { settingsThatApply } from '../../train/runSettings.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';

// One training run into one directory, from scratch or resumed: load and
// normalise the data, train with a checkpoint after every finished epoch,
// then write metrics.json, predictions.csv and the plots. A run that stops
// early (a diverging loss, a lost GPU, a full disk, Ctrl-C) says which
// checkpoint it kept; one that kept none removes what it had begun. What
// --out may hold and when a run may replace it: runDirectory.ts.

export interface DeviceChoice {
  readonly device: Device;
  readonly name: string;
  readonly release: () => void;
}

/** `gemm` is the --gemm flag (else $SIMPLECHROME_GEMM, else tune); `pinned`, a resumed run's recorded variants. */
export async function deviceFor(
  kind: 'gpu' | 'cpu',
  gemm?: { readonly mode?: VariantMode; readonly pinned?: Readonly<Record<string, string>> },
): Promise<DeviceChoice> {
  if (kind === 'cpu') return { device: { kind: 'cpu' }, name: 'CPU reference path', release: () => {} };
  const gpu = await acquireGpu();
  const pinned = Object.fromEntries(Object.entries(gemm?.pinned ?? {}).filter((e): e is [string, GemmVariant] => isGemmVariant(e[1])));
  const variants = new VariantPolicy(gpu, { mode: variantModeFrom(gemm?.mode), pinned, log: err });
  return { device: { kind: 'gpu', gpu, variants }, name: gpu.adapterName, release: () => gpu.destroy() };
}

/** What metrics.json says of the device: its kind and adapter, and on the GPU how the GEMM variants were chosen and which ran. */
function deviceRecord(kind: 'gpu' | 'cpu', choice: DeviceChoice): Record<string, unknown> {
  const d = choice.device;
  if (d.kind === 'cpu' || !d.variants) return { kind, adapter: choice.name };
  return { kind, adapter: choice.name, gemm: { mode: d.variants.mode, variants: d.variants.used } };
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

/** A setting the training core refuses is the user's flag: a usage error, as parseArgs makes it. */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SettingError) throw new UsageError(e.message);
    throw e;
  }
}

type Kept = NonNullable<RunCheckpoints['latest']>;
const keptAt = (k: Kept): string => `the last good checkpoint is ${k.file} (${k.phase} epoch ${k.epoch})`;

/** Why a run stopped, and what it kept (or that it removed what it had begun). */
function stopped(e: unknown, out: OutDirectory, checkpoints: RunCheckpoints): TrainingStoppedError {
  const message = e instanceof Error ? e.message : String(e);
  const removed = out.abandon();
  const kept = out.hasKept ? checkpoints.latest : undefined;
  let tail: string;
  if (!kept) {
    tail =
      e instanceof WriteFailedError
        ? 'no checkpoint was kept: the first one could not be written'
        : 'no checkpoint was written: the run stopped before its first epoch finished';
    if (removed !== undefined) tail += `; ${removed}`;
  } else {
    tail = keptAt(kept);
    if (e instanceof TrainingDivergedError) tail += '; resuming would diverge again at the same step: start a new run with a lower --lr';
    else tail += `; ${e instanceof WriteFailedError ? 'once the disk has room, ' : ''}continue with: ${COMMAND_TO_TYPE} --resume ${out.target}`;
  }
  return new TrainingStoppedError(`${message}\n${tail}`, { cause: e });
}

/** What an interrupted run says: where to continue from, or that nothing was kept. */
function interrupted(out: OutDirectory | undefined, checkpoints: RunCheckpoints | undefined): string | undefined {
  if (out === undefined) return undefined;
  const removed = out.abandon();
  const kept = out.hasKept ? checkpoints?.latest : undefined;
  if (kept) return `${keptAt(kept)}; continue with: ${COMMAND_TO_TYPE} --resume ${out.target}`;
  return `no checkpoint was written yet${removed !== undefined ? `; ${removed}` : ''}`;
}

function openOut(out: string, o: CliOptions): OutDirectory {
  const dir = OutDirectory.open(out, { overwrite: o.overwrite, resume: o.resume !== undefined });
  for (const note of dir.notes) err(note);
  return dir;
}

/** Trains (or resumes) one run into its directory and writes everything it leaves behind. */
export async function trainToDirectory(given: CliOptions, overrides: TrainingOverrides = {}): Promise<TrainingOutcome> {
  const t0 = performance.now();
  // Locked before anything is read from it (a resumed run's checkpoints) or written; the default --out waits for the cell's name.
  const early = given.resume ?? given.out;
  let outDir = early !== undefined ? openOut(early, given) : undefined;
  let checkpoints: RunCheckpoints | undefined;
  const unregister = onInterrupt(() => interrupted(outDir, checkpoints));
  let choice: DeviceChoice | undefined;
  try {
    const { options: o, resume } = given.resume !== undefined ? await resumedOptions(given, given.resume) : { options: given, resume: undefined };
    const data = await loadData(o, resume ? { stats: resume.info.normalization, by: `--resume ${resume.dir}` } : undefined);
    if (resume && data.fingerprint !== resume.info.data.fingerprint) {
      throw new Error(
        `--resume ${resume.dir}: the data at ${data.source.path} is not the data this run trained on ` +
          `(${resume.info.data.cell}, ${resume.info.data.genes} genes from ${resume.info.data.path}; fingerprints differ)`,
      );
    }
    const ds = data.dataset;
    const settings = settingsOf(o);
    const { labeled, training } = asUsage(() => labeledCount(settings.trainSize, ds, '--train-size'));
    if (o.batch > labeled) err(`note: --batch ${o.batch} is more than the ${labeled} labeled training genes; each step uses all ${labeled}`);
    outDir ??= openOut(join('runs', `${ds.cell}-${o.model}-n${o.trainSize ?? 'all'}-seed${o.seed}`), o);
    const out = outDir.target;
    choice = overrides.device ?? (await deviceFor(o.device, { mode: o.gemm, pinned: resume?.info.gemmVariants?.() }));
    const policy = choice.device.kind === 'gpu' ? choice.device.variants : undefined;
    err(`simplechrome: ${o.model} on ${ds.cell} (${ds.genes} genes × ${ds.bins} bins × ${ds.marks.length} marks), ${o.device.toUpperCase()}: ${choice.name}`);
    if (!resume) err(`checkpoints go to ${out} after every epoch; a stopped run continues with: ${COMMAND_TO_TYPE} --resume ${out}`);
    const info: RunInfo = {
      runId: resume?.info.runId ?? randomUUID(),
      modelName: o.model,
      settings: { ...storeSettings(o, data.source.path), adapter: choice.name },
      ...(policy ? { gemmVariants: () => policy.used } : {}),
      normalization: data.normalization,
      data: dataInfoOf(data),
    };
    const cps = new RunCheckpoints(outDir.dir, info);
    checkpoints = cps;
    const dir = outDir;
    cps.onSaved = () => {
      dir.saved();
      cps.relocate(dir.dir);
    };
    if (resume) {
      const c = resume.classifier;
      const v = resume.vae;
      cps.latest = c
        ? { file: cps.path('last'), phase: 'classifier', epoch: c.state.epoch }
        : { file: cps.path('vae'), phase: 'VAE', epoch: v?.state.epoch ?? 0 };
      err(
        `resuming ${out}: ` +
          (v ? `VAE ${v.state.epoch}/${o.vaeEpochs} epochs done; ` : '') +
          (c ? `classifier ${c.state.epoch}/${o.epochs} epochs done (step ${c.state.step}, best epoch ${c.state.bestEpoch})` : 'classifier not started'),
      );
    }
    const log = resume
      ? await ProgressLog.resumed(() => dir.dir, { vaeEpoch: resume.vae?.state.epoch ?? 0, classifierEpoch: resume.classifier?.state.epoch ?? 0, model: o.model })
      : ProgressLog.fresh(() => dir.dir);
    const tLoaded = performance.now();
    let run: RunOutcome;
    try {
      run = await runModel(ds, settings, choice.device, log.around(overrides.progress ?? progressPrinter(o.quiet)), undefined, {
        checkpoints: cps,
        ...DISK_SOURCES,
        ...(resume ? { resume: { ...(resume.vae ? { vae: resume.vae } : {}), ...(resume.classifier ? { classifier: resume.classifier } : {}) } } : {}),
      });
    } catch (e) {
      throw stopped(e, dir, cps);
    }
    const warnings = runWarnings(run.result, { model: o.model, labeledGenes: run.labeledGenes, trainingGenes: training, lr: o.lr, epochs: o.epochs, normalize: o.normalize });
    try {
      const files = await writeOutputs(dir.dir, { o, data, info, run, resume, warnings, device: deviceRecord(o.device, choice), loadSeconds: (tLoaded - t0) / 1000, t0 });
      dir.finish();
      for (const w of warnings) err(`warning: ${w}`);
      return { out, options: o, data, run, files };
    } catch (e) {
      throw new TrainingStoppedError(
        `${e instanceof Error ? e.message : String(e)}\nthe trained model is kept in ${out}; write its outputs again with: ${COMMAND_TO_TYPE} --resume ${out}`,
        { cause: e },
      );
    }
  } catch (e) {
    outDir?.abandon();
    throw e;
  } finally {
    unregister();
    if (!overrides.device) choice?.release();
  }
}

interface OutputContext {
  readonly o: CliOptions;
  readonly data: LoadedData;
  readonly info: RunInfo;
  readonly run: RunOutcome;
  readonly resume: ResumeSet | undefined;
  /** runWarnings.ts: why this run may have learnt nothing, and what to try. */
  readonly warnings: readonly string[];
  readonly device: Record<string, unknown>;
  readonly loadSeconds: number;
  readonly t0: number;
}

/** metrics.json, predictions.csv and the plots; returns the names of every file the run leaves. */
async function writeOutputs(out: string, { o, data, info, run, resume, warnings, device, loadSeconds, t0 }: OutputContext): Promise<string[]> {
  const ds = data.dataset;
  const settings = settingsOf(o);
  const r = run.result;
  const metrics = {
    model: o.model,
    target: o.target,
    cell: ds.cell,
    data: { ...data.source, genes: ds.genes, bins: ds.bins, marks: ds.marks, fingerprint: data.fingerprint },
    labeledTrainingGenes: run.labeledGenes,
    validGenes: run.split.valid.length,
    testGenes: run.split.test.length,
    // Only the settings the model reads (settingsThatApply); the checkpoint keeps them all, for resume.
    config: { ...settingsThatApply(settings), normalize: o.normalize },
    ...(isLinear(o.model) ? {} : { batchUsed: Math.min(o.batch, run.labeledGenes) }),
    device,
    parameters: run.parameters,
    normalization: data.normalization,
    ...(run.neighbors ? { neighbors: run.neighbors } : {}),
    // tss-linear, expression-prior, logreg-neighbors: the width of the derived features and their counts (missingGenes: not in the RPKM table).
    ...(run.derived ? { derivedFeatures: run.derived } : {}),
    ...(run.penalty ? { l2Penalty: run.penalty } : {}),
    // vae-m2's α (multiples of N) or vae-joint's λ: every value trained, its validation score, and the kept one.
    ...(run.weightSearch ? { weightSearch: run.weightSearch } : {}),
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
      loadSeconds,
      vaeSeconds: run.seconds.vae,
      classifierSeconds: run.seconds.classifier,
      totalSeconds: (performance.now() - t0) / 1000,
    },
    synthetic: data.source.synthetic,
    warnings,
  };
  const observed = observedValues(ds, o.target);
  const testLabels = Array.from(run.split.test, (g) => observed[g] as number);
  const plots = await writeRunPlots(out, {
    model: o.model,
    cell: ds.cell,
    history: r.history,
    bestEpoch: r.bestEpoch,
    test: r.test,
    testLabels,
    testPredictions: r.testPredictions,
    ...(run.vaeHistory ? { vaeHistory: run.vaeHistory } : {}),
    ...(run.latents ? { latents: { values: run.latents, width: settings.latent, labels: ds.labels } } : {}),
  });
  const predictions =
    o.target === 'class'
      ? predictionsCsv(ds, run.split.test, r.testPredictions)
      : expressionPredictionsCsv(ds, run.split.test, r.testPredictions, observed);
  await writeRunFiles(out, { ...metrics, plots }, predictions);
  // progress.jsonl holds a line per epoch trained: a run from before it was written may have none.
  const progress = existsSync(join(out, PROGRESS_FILE)) ? [PROGRESS_FILE] : [];
  return ['metrics.json', 'predictions.csv', FILES.best, FILES.last, ...(run.vaeHistory ? [FILES.vae] : []), ...plots, ...progress];
}
