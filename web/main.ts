import { type ClassifierCheckpoint, type RunInfo, type VaeCheckpoint, classifierCheckpointFrom, vaeCheckpointFrom } from '../src/checkpoint/checkpointFormat.ts';
import { decodeSafetensorsWith } from '../src/checkpoint/safetensorsCodec.ts';
import { datasetFingerprintWith } from '../src/checkpoint/datasetDigest.ts';
import { MemoryCheckpoints } from '../src/checkpoint/memoryCheckpoints.ts';
import { classScores } from '../src/train/target.ts';
import { predictionsCsv } from '../src/train/predictionsCsv.ts';
import { type TrainedModel, predictWith } from '../src/train/predictWith.ts';
import { inputBins } from '../src/models/modelSpec.ts';
import { restoreRunSettings } from '../src/train/runFlags.ts';
import { type Progress, type RunOutcome, runModel } from '../src/train/runModel.ts';
import { RUN_DEFAULTS, type RunSettings, settingsThatApply } from '../src/train/runSettings.ts';
import { deepchromeDefinition } from '../src/models/definitions/deepchrome.ts';
import { mlpDefinition } from '../src/models/definitions/mlp.ts';
import { vaeMlpDefinition } from '../src/models/definitions/vae-mlp.ts';
import { type ModelName, usesVae } from '../src/models/registry.ts';
import { blobLines } from '../src/data/blobLines.ts';
import { type Dataset, type Split, SPLITS } from '../src/data/dataset.ts';
import { readAttentiveChromeSplits } from '../src/data/attentiveChromeRows.ts';
import { readDeepChromeSplits } from '../src/data/deepchromeRows.ts';
import { DEFAULT_NORMALIZATION, applyNormalization, fitNormalization, type NormalizationStats } from '../src/data/normalize.ts';
import { acquireBrowserGpu } from '../src/gpu/browserGpu.ts';
import type { Gpu } from '../src/gpu/openDevice.ts';
import { auroc } from '../src/metrics/auroc.ts';
import { type LossPoint, lossChart, prChart, rocChart } from '../src/plots/charts.ts';
import { renderSvg } from '../src/plots/render.ts';
import type { EpochRecord } from '../src/train/trainClassifier.ts';
import { jsSha256 } from '../src/util/sha256.ts';

// The page: the command line's readers, normalisation, plans and training
// loop, on navigator.gpu, with the files the user drops or picks (or the
// bundled E003 sample). Everything here is wiring and drawing.

/** Models the page trains (vae-mlp-neighbors needs annotation files a page does not have). */
const PAGE_MODELS: readonly ModelName[] = [mlpDefinition.name, deepchromeDefinition.name, vaeMlpDefinition.name];
const SPLIT_NAME = /^(.*?)[._-]?(train|valid|test)\.csv(\.gz)?$/i;
const EXPR_NAME = /^(.*?)[._-]?expr\.csv(\.gz)?$/i;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`page: no element #${id}`);
  return el as T;
};

interface PickedCell {
  readonly cell: string;
  readonly blobs: Map<string, Blob>;
  readonly files: { readonly split: Split; readonly path: string }[];
  /** The AttentiveChrome layout's expression file; absent for the DeepChrome layout. */
  readonly expr?: string;
}

/** The chosen cell read by the command line's reader for its layout. */
function readPicked(p: PickedCell): Promise<Dataset> {
  const lines = blobLines(p.blobs);
  if (p.expr !== undefined) return readAttentiveChromeSplits({ cell: p.cell, files: p.files, expr: p.expr }, {}, lines);
  return readDeepChromeSplits(p.files, p.cell, lines);
}

let gpu: Promise<Gpu> | undefined;
let picked: PickedCell | undefined;

function showError(message: string): void {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}

function clearError(): void {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** The split files among the given ones, in the command line's train, valid, test order, and an
 * AttentiveChrome expression file if one is among them. */
function cellFromFiles(files: readonly File[]): PickedCell {
  const bySplit = new Map<Split, File>();
  let cell = '';
  let expr: File | undefined;
  for (const f of files) {
    if (EXPR_NAME.test(f.name)) {
      if (expr !== undefined) throw new Error(`two expression files: ${expr.name} and ${f.name}; give one cell at a time`);
      expr = f;
      continue;
    }
    const m = SPLIT_NAME.exec(f.name);
    if (m === null) {
      throw new Error(`${f.name}: cannot tell the split from the name; expected <cell>.{train,valid,test}.csv[.gz] (with <cell>.expr.csv[.gz] for the AttentiveChrome layout) or {train,valid,test}.csv[.gz]`);
    }
    const split = (m[2] as string).toLowerCase() as Split;
    if (bySplit.has(split)) throw new Error(`two ${split} files: ${bySplit.get(split)?.name} and ${f.name}; give one cell at a time`);
    bySplit.set(split, f);
    cell ||= (m[1] as string).split(/[._]/)[0] || 'cell';
  }
  const missing = SPLITS.filter((s) => !bySplit.has(s));
  if (missing.length > 0) throw new Error(`missing the ${missing.join(' and ')} file${missing.length > 1 ? 's' : ''}: a cell is its train, valid and test files`);
  const blobs = new Map<string, Blob>();
  const ordered = SPLITS.map((split) => {
    const f = bySplit.get(split) as File;
    blobs.set(f.name, f);
    return { split, path: f.name };
  });
  if (expr === undefined) return { cell, blobs, files: ordered };
  blobs.set(expr.name, expr);
  return { cell, blobs, files: ordered, expr: expr.name };
}

async function bundledSample(): Promise<PickedCell> {
  const index = (await (await fetch('sample/index.json')).json()) as { cell: string; files: string[] };
  if (index.files.length === 0) throw new Error('this build of the page has no bundled sample (../shared/datasets was missing when it was built): drop your own files');
  const files = await Promise.all(index.files.map(async (name) => new File([await (await fetch(`sample/${name}`)).blob()], name)));
  return { ...cellFromFiles(files), cell: index.cell };
}

function choose(cell: PickedCell): void {
  picked = cell;
  const layout = cell.expr === undefined ? 'DeepChrome layout' : `AttentiveChrome layout, labels from ${cell.expr}`;
  $('data-status').textContent = `${cell.cell} (${layout}): ${cell.files.map((f) => f.path).join(', ')}`;
  $<HTMLButtonElement>('train').disabled = false;
}

function numberField(id: string): number {
  const v = Number($<HTMLInputElement>(id).value);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${id}: needs a positive number, got "${$<HTMLInputElement>(id).value}"`);
  return v;
}

function settingsFromForm(): RunSettings {
  const model = $<HTMLSelectElement>('model').value as ModelName;
  if (!PAGE_MODELS.includes(model)) throw new Error(`model ${model} is not offered on the page`);
  return {
    model,
    // The page trains classifiers only.
    target: 'class',
    trainSize: undefined,
    epochs: Math.round(numberField('epochs')),
    vaeEpochs: Math.round(numberField('vae-epochs')),
    batch: Math.round(numberField('batch')),
    // The page has one batch field; it sizes the VAE's minibatch too, as --batch did before --vae-batch.
    vaeBatch: Math.round(numberField('batch')),
    lr: numberField('lr'),
    latent: RUN_DEFAULTS.latent,
    beta: RUN_DEFAULTS.beta,
    sigma: RUN_DEFAULTS.sigma,
    jointWeight: RUN_DEFAULTS.jointWeight,
    alpha: RUN_DEFAULTS.alpha,
    m2Init: RUN_DEFAULTS.m2Init,
    neighbors: RUN_DEFAULTS.neighbors,
    k: RUN_DEFAULTS.k,
    seed: Math.round(numberField('seed')),
    annotation: '',
    expressionTable: '',
  };
}

async function drawCurves(model: string, history: readonly EpochRecord[], bestEpoch?: number): Promise<void> {
  const loss: LossPoint[] = [];
  const auroc: LossPoint[] = [];
  for (const h of history) {
    loss.push({ epoch: h.epoch, series: 'train', loss: h.trainLoss }, { epoch: h.epoch, series: 'validation', loss: h.valid.loss });
    auroc.push({ epoch: h.epoch, series: 'validation AUROC', loss: classScores(h.valid, 'the page').auroc });
  }
  $('loss-chart').innerHTML = await renderSvg(lossChart(`${model}: loss per epoch`, loss, 'binary cross-entropy', bestEpoch));
  $('auroc-chart').innerHTML = await renderSvg(lossChart(`${model}: validation AUROC per epoch`, auroc, 'AUROC', bestEpoch));
}

function download(name: string, data: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

interface Finished {
  readonly ds: Dataset;
  readonly settings: RunSettings;
  readonly run: RunOutcome;
  readonly normalization: NormalizationStats;
  readonly adapter: string;
  readonly checkpoints: MemoryCheckpoints;
}
let finished: Finished | undefined;

function metricsJson(f: Finished): string {
  const r = f.run.result;
  return `${JSON.stringify(
    {
      model: f.settings.model,
      cell: f.ds.cell,
      data: { source: f.ds.source, genes: f.ds.genes, bins: f.ds.bins, marks: f.ds.marks },
      labeledTrainingGenes: f.run.labeledGenes,
      validGenes: f.run.split.valid.length,
      testGenes: f.run.split.test.length,
      config: { ...settingsThatApply(f.settings), normalize: DEFAULT_NORMALIZATION },
      device: { kind: 'gpu', adapter: f.adapter, where: 'browser (navigator.gpu)', gemm: 'heuristic' },
      parameters: f.run.parameters,
      normalization: f.normalization,
      history: r.history,
      bestEpoch: r.bestEpoch,
      valid: r.valid,
      test: r.test,
    },
    null,
    1,
  )}\n`;
}

/** What every checkpoint file carries, as the command line writes it, so `tsx run.ts predict` reads the page's files. */
function runInfo(raw: Dataset, settings: RunSettings, normalization: NormalizationStats, adapter: string): RunInfo {
  return {
    runId: crypto.randomUUID(),
    modelName: settings.model,
    settings: { ...settings, trainSize: null, normalize: DEFAULT_NORMALIZATION, device: 'gpu', data: raw.source.join(','), adapter },
    normalization,
    data: { cell: raw.cell, path: raw.source.join(','), layout: picked?.expr === undefined ? 'deepchrome' : 'attentivechrome', genes: raw.genes, bins: raw.bins, marks: [...raw.marks], fingerprint: datasetFingerprintWith(jsSha256, raw) },
  };
}

async function train(): Promise<void> {
  clearError();
  if (picked === undefined) throw new Error('choose data first: drop files or use the bundled sample');
  const settings = settingsFromForm();
  const button = $<HTMLButtonElement>('train');
  button.disabled = true;
  $('results').hidden = true;
  const bar = $<HTMLProgressElement>('progress');
  const status = $('train-status');
  try {
    status.textContent = 'reading the files…';
    const raw = await readPicked(picked);
    // As on the command line: statistics from the training genes only.
    const normalization = fitNormalization(raw, DEFAULT_NORMALIZATION);
    const ds = applyNormalization(raw, normalization);
    const device = await (gpu ??= acquireBrowserGpu());
    const total = settings.epochs + (usesVae(settings.model) ? settings.vaeEpochs : 0);
    let done = 0;
    bar.max = total;
    bar.value = 0;
    const history: EpochRecord[] = [];
    const progress: Progress = {
      vaeEpoch: (r, epochs) => {
        bar.value = ++done;
        status.textContent = `VAE epoch ${r.epoch}/${epochs}: loss ${r.loss.toFixed(4)}`;
      },
      epoch: (model, r, epochs) => {
        bar.value = ++done;
        history.push(r);
        status.textContent = `${model} epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}, validation AUROC ${classScores(r.valid, 'the page').auroc.toFixed(4)}`;
        void drawCurves(model, history);
      },
    };
    status.textContent = `training ${settings.model} on ${ds.cell} (${ds.genes} genes) with ${device.adapterName}…`;
    const checkpoints = new MemoryCheckpoints(runInfo(raw, settings, normalization, device.adapterName), jsSha256);
    const run = await runModel(ds, settings, { kind: 'gpu', gpu: device }, progress, undefined, { checkpoints });
    finished = { ds, settings, run, normalization, adapter: device.adapterName, checkpoints };
    $('download-vae').hidden = checkpoints.file('vae') === undefined;
    const r = run.result;
    await drawCurves(settings.model, r.history, r.bestEpoch);
    const testLabels = Array.from(run.split.test, (g) => ds.labels[g] as number);
    const n = testLabels.length;
    $('roc-chart').innerHTML = await renderSvg(rocChart(`${settings.model}: ROC, ${n} test genes`, testLabels, r.testPredictions, classScores(r.test, 'the page').auroc));
    $('pr-chart').innerHTML = await renderSvg(prChart(`${settings.model}: precision-recall, ${n} test genes`, testLabels, r.testPredictions, classScores(r.test, 'the page').aupr));
    const results = $('results');
    // Exact values for anyone comparing with the command line (String() round-trips a double).
    results.dataset.validAuroc = String(classScores(r.valid, 'the page').auroc);
    results.dataset.testAuroc = String(classScores(r.test, 'the page').auroc);
    $('summary').textContent =
      `best epoch ${r.bestEpoch}: validation AUROC ${classScores(r.valid, 'the page').auroc.toFixed(4)}, test AUROC ${classScores(r.test, 'the page').auroc.toFixed(4)}, ` +
      `test AUPR ${classScores(r.test, 'the page').aupr.toFixed(4)}, accuracy ${classScores(r.test, 'the page').accuracy.toFixed(4)}`;
    results.hidden = false;
    status.textContent = `done: ${settings.model} on ${ds.cell}, ${r.history.length} epochs`;
    document.body.dataset.state = 'trained';
  } finally {
    button.disabled = false;
  }
}

/** One checkpoint file the user gave, decoded and verified as `predict` does. */
async function decoded(files: readonly File[], name: string): Promise<{ file: File; bytes: Uint8Array } | undefined> {
  const file = files.find((f) => f.name === name);
  return file === undefined ? undefined : { file, bytes: new Uint8Array(await file.arrayBuffer()) };
}

/** The model in the checkpoint files the user loaded: best.safetensors, and vae.safetensors for vae-mlp. */
async function loadedModel(files: readonly File[]): Promise<TrainedModel<ClassifierCheckpoint, VaeCheckpoint>> {
  const best = await decoded(files, 'best.safetensors');
  if (best === undefined) throw new Error(`load best.safetensors (a run directory's, or the page's download); got ${files.map((f) => f.name).join(', ') || 'nothing'}`);
  const classifier = classifierCheckpointFrom(decodeSafetensorsWith(jsSha256, best.bytes, best.file.name), best.file.name, 'best');
  const modelName = classifier.info.modelName;
  if (!PAGE_MODELS.includes(modelName as ModelName)) throw new Error(`${best.file.name}: a ${modelName} model needs files the page does not have; use \`npx tsx run.ts predict\``);
  let vae: VaeCheckpoint | undefined;
  // Of the page's models only vae-mlp reads a VAE, which its run keeps in vae.safetensors.
  if (usesVae(modelName)) {
    const v = await decoded(files, 'vae.safetensors');
    if (v === undefined) throw new Error(`${best.file.name}: a vae-mlp model needs vae.safetensors from the same run; load both files`);
    vae = vaeCheckpointFrom(decodeSafetensorsWith(jsSha256, v.bytes, v.file.name), v.file.name);
    if (vae.info.runId !== classifier.info.runId) throw new Error('best.safetensors and vae.safetensors come from different runs');
  }
  const settings = restoreRunSettings(classifier.info.settings, best.file.name, { annotation: '', expressionTable: '' });
  return { classifier, ...(vae ? { vae } : {}), modelName, settings, normalization: classifier.info.normalization };
}

let predicted: { readonly ds: Dataset; readonly probabilities: Float32Array } | undefined;

async function predict(): Promise<void> {
  clearError();
  if (picked === undefined) throw new Error('choose data first: drop files or use the bundled sample');
  const model = await loadedModel(Array.from($<HTMLInputElement>('model-files').files ?? []));
  const raw = await readPicked(picked);
  const c = model.classifier;
  // A classifier on derived features (tss-linear, ...) takes the bins of the data it was trained on.
  const want = model.vae ? model.vae.spec.bins : c ? (inputBins(c.spec) ?? c.info.data.bins) : undefined;
  if (raw.bins !== want || raw.marks.length !== model.normalization.marks.length) {
    throw new Error(`${raw.cell} has ${raw.bins} bins × ${raw.marks.length} marks per gene, the model takes ${want} × ${model.normalization.marks.length}`);
  }
  // With the training cell's statistics, as `predict` does.
  const ds = applyNormalization(raw, model.normalization);
  const device = await (gpu ??= acquireBrowserGpu());
  const probabilities = await predictWith(model, ds, { kind: 'gpu', gpu: device });
  predicted = { ds, probabilities };
  $('predict-status').textContent =
    `${model.modelName} trained on ${c?.info.data.cell} predicted ${ds.genes} genes of ${ds.cell}; AUROC against their labels ${auroc(ds.labels, probabilities).toFixed(4)}`;
  $('download-predicted').hidden = false;
  document.body.dataset.state = 'predicted';
}

function guarded(what: () => Promise<void>): () => void {
  return () => {
    what().catch((e: unknown) => {
      showError(e instanceof Error ? e.message : String(e));
      document.body.dataset.state = 'error';
    });
  };
}

function wire(): void {
  if ((navigator as Navigator & { gpu?: GPU }).gpu === undefined) {
    const warn = $('no-webgpu');
    warn.hidden = false;
    $<HTMLButtonElement>('train').disabled = true;
  }
  $('use-sample').addEventListener('click', guarded(async () => {
    clearError();
    choose(await bundledSample());
  }));
  const input = $<HTMLInputElement>('files');
  input.addEventListener('change', guarded(async () => {
    clearError();
    choose(cellFromFiles(Array.from(input.files ?? [])));
  }));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    guarded(async () => {
      clearError();
      choose(cellFromFiles(Array.from(e.dataTransfer?.files ?? [])));
    })();
  });
  $('train').addEventListener('click', guarded(train));
  $('predict').addEventListener('click', guarded(predict));
  $('download-predicted').addEventListener('click', () => {
    if (predicted) download('predictions.csv', predictionsCsv(predicted.ds, Uint32Array.from({ length: predicted.ds.genes }, (_, g) => g), predicted.probabilities), 'text/csv');
  });
  $('download-metrics').addEventListener('click', () => finished && download('metrics.json', metricsJson(finished), 'application/json'));
  $('download-predictions').addEventListener('click', () => {
    if (finished) download('predictions.csv', predictionsCsv(finished.ds, finished.run.split.test, finished.run.result.testPredictions), 'text/csv');
  });
  for (const [id, role] of [['download-model', 'best'], ['download-vae', 'vae']] as const) {
    $(id).addEventListener('click', () => {
      const f = finished?.checkpoints.file(role);
      if (f) download(f.name, f.bytes as Uint8Array<ArrayBuffer>, 'application/octet-stream');
    });
  }
  document.body.dataset.state = 'ready';
}

wire();
