import { type ClassifierCheckpoint, type RunInfo, type VaeCheckpoint, classifierCheckpointFrom, fineTunedVae, modelWindow, vaeCheckpointFrom } from '../src/checkpoint/checkpointFormat.ts';
import { type SafetensorsFile, decodeSafetensorsAsync } from '../src/checkpoint/safetensorsCodec.ts';
import { datasetFingerprintAsync } from '../src/checkpoint/datasetDigest.ts';
import { MemoryCheckpoints } from '../src/checkpoint/memoryCheckpoints.ts';
import { type Scores, classScores, isClassScores, selectionName } from '../src/train/target.ts';
import { predictionsCsv } from '../src/train/predictionsCsv.ts';
import { type TrainedModel, nonFiniteOutputs, predictWith } from '../src/train/predictWith.ts';
import { NEIGHBOR_KINDS, RUN_FLAGS, RUN_KEYS, type RunKey, SettingError, oneOf, restoreRunSettings, storedValue, withModelDefaults } from '../src/train/runFlags.ts';
import { type Progress, type RunOutcome, runModel } from '../src/train/runModel.ts';
import { RUN_DEFAULTS, type RunSettings, settingsThatApply } from '../src/train/runSettings.ts';
import { type SourceHooks, runSources } from '../src/train/runSources.ts';
import type { SourceFile } from '../src/models/definition.ts';
import { MODEL_NAMES, MODEL_REGISTRY, type ModelName, isLinear, predictsExpression, pretrainsVae, sourcesRead, trainsJointly, usesNeighbors, usesVae } from '../src/models/registry.ts';
import { blobLines, inMiB, oversized } from '../src/data/blobLines.ts';
import { readExpressionTableWith } from '../src/data/expressionTableRows.ts';
import { readGeneAnnotationWith } from '../src/data/geneAnnotationRows.ts';
import { rpkmTargets } from '../src/data/rpkmTargets.ts';
import { type Dataset, type Split, SPLITS } from '../src/data/dataset.ts';
import { readAttentiveChromeSplits } from '../src/data/attentiveChromeRows.ts';
import { readDeepChromeSplits } from '../src/data/deepchromeRows.ts';
import { DEFAULT_NORMALIZATION, NORMALIZATION_SCHEMES, type NormalizationScheme, applyNormalization, fitNormalization, type NormalizationStats } from '../src/data/normalize.ts';
import type { Layout } from '../src/data/loadCell.ts';
import { acquireBrowserGpu } from '../src/gpu/browserGpu.ts';
import type { Gpu } from '../src/gpu/openDevice.ts';
import { auroc } from '../src/metrics/auroc.ts';
import { type LossPoint, lossChart, prChart, rocChart } from '../src/plots/charts.ts';
import { observedPredictedChart } from '../src/plots/scatterChart.ts';
import { renderSvg } from '../src/plots/render.ts';
import { geneMapChart, meanAttentionChart, meanMapsChart } from '../src/plots/attributionCharts.ts';
import { type Cell, type Model, explain, modelOfCheckpoints } from '../src/api/core.ts';
import { ATTRIBUTION_METHODS, type AttributionMethod, methodInWords } from '../src/train/explain.ts';
import type { EpochRecord } from '../src/train/trainClassifier.ts';
import { jsSha256, subtleSha256Hex } from '../src/util/sha256.ts';
import { blobLimit, pageLimits } from './limits.ts';

// The page: the command line's readers, normalisation, plans and training
// loop, on navigator.gpu, with the files the user drops or picks (or the
// bundled E003 sample). Everything here is wiring and drawing.

/** The most the page reads of a file (web/limits.ts; lower in tests, through the query string). */
const LIMITS = pageLimits(location.search);
const DATA_LIMIT = blobLimit(LIMITS.dataFileBytes);
const CHECKPOINT_LIMIT = blobLimit(LIMITS.checkpointBytes);

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
  /** As the command line's loadCell names it: the layouts read their expression targets differently. */
  readonly layout: Layout;
}

/** The chosen cell read by the command line's reader for its layout. */
function readPicked(p: PickedCell): Promise<Dataset> {
  const lines = blobLines(p.blobs, DATA_LIMIT);
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

/** A data file bigger than the page reads is refused from its size, before a byte of it is read. */
function refuseOversized(f: File): void {
  const tooBig = oversized(f.name, f.size, DATA_LIMIT);
  if (tooBig !== undefined) throw tooBig;
}

/** The split files among the given ones, in the command line's train, valid, test order, and an
 * AttentiveChrome expression file if one is among them. */
function cellFromFiles(files: readonly File[]): PickedCell {
  const bySplit = new Map<Split, File>();
  let cell = '';
  let expr: File | undefined;
  for (const f of files) {
    refuseOversized(f);
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
  if (expr === undefined) return { cell, blobs, files: ordered, layout: 'deepchrome' };
  blobs.set(expr.name, expr);
  return { cell, blobs, files: ordered, expr: expr.name, layout: 'attentivechrome' };
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

// ---- The files some models read besides the data ----

/** The gene annotation and the RPKM table the user picked, by what they are. */
const sources = new Map<SourceFile, File>();
const SOURCE_INPUT: Readonly<Record<SourceFile, string>> = { annotation: 'annotation-file', expressionTable: 'expression-table-file' };
const SOURCE_WORDS: Readonly<Record<SourceFile, string>> = {
  annotation: 'the gene annotation (GeneFile_tss_windows.txt.gz)',
  expressionTable: 'the 56-cell RPKM table (rpkm_19802genes_x_56cells.csv.gz)',
};

/** The picked sources as the run hooks read them: the settings name a file, as on the command line. */
function pickedSources(): SourceHooks {
  const lines = (): ReturnType<typeof blobLines> => blobLines(new Map([...sources.values()].map((f) => [f.name, f])), DATA_LIMIT);
  return runSources({ annotation: (name) => readGeneAnnotationWith(lines(), name), expressionTable: (name) => readExpressionTableWith(lines(), name) });
}

const sourceName = (f: SourceFile): string => sources.get(f)?.name ?? '';

/** Why `model` cannot be trained with the files picked so far: it needs a file for every choice of --neighbors. */
function unavailable(model: ModelName): string | undefined {
  const kinds = usesNeighbors(model) ? NEIGHBOR_KINDS : [RUN_DEFAULTS.neighbors];
  const missing = kinds.map((k) => sourcesRead(model, k).filter((f) => !sources.has(f)));
  if (missing.some((m) => m.length === 0)) return undefined;
  return `needs ${missing.map((m) => m.map((f) => SOURCE_WORDS[f]).join(' and ')).join(' (--neighbors spatial), or ')}${usesNeighbors(model) ? ' (--neighbors functional)' : ''}: pick it under "Files some models read"`;
}

// ---- The settings: one field per run setting, parsed by the command line's own parser ----

/** Every run setting but the model, which has its own list, in RUN_FLAGS' order; and --normalize, which is the
 * command line's and not a run's (the statistics are fitted before the run). */
const FIELD_KEYS = RUN_KEYS.filter((k) => k !== 'model');
const NORMALIZE = { flag: '--normalize', choices: NORMALIZATION_SCHEMES } as const;
const fieldId = (flag: string): string => flag.replace(/^--/, '');

/** A setting's default for `model` as the command line spells it (the model's own training defaults, as `train`
 * takes them); --vae-batch left empty is --batch's, as on the command line. */
function defaultText(key: RunKey, model: ModelName): string {
  const defaults = withModelDefaults({ ...RUN_DEFAULTS, model }, () => false);
  const { unset } = RUN_FLAGS[key];
  if (defaults[key] === undefined && unset !== undefined) return unset;
  if (key === 'vaeBatch') return '';
  return String(storedValue(defaults, key));
}

/** The chosen model's defaults in every field the user has not typed in. */
function showModelDefaults(): void {
  const model = RUN_FLAGS.model.parse($<HTMLSelectElement>('model').value, RUN_FLAGS.model.flag);
  for (const key of FIELD_KEYS) {
    const input = $<HTMLInputElement>(fieldId(RUN_FLAGS[key].flag));
    if (input.dataset.typed === undefined) input.value = defaultText(key, model);
  }
}

function buildFields(): void {
  const select = $<HTMLSelectElement>('model');
  for (const name of MODEL_NAMES) {
    const o = document.createElement('option');
    o.value = name;
    o.textContent = name;
    o.title = MODEL_REGISTRY[name].summary;
    select.append(o);
  }
  select.value = RUN_DEFAULTS.model;
  const box = $('settings');
  const fields = [
    { flag: NORMALIZE.flag, choices: NORMALIZE.choices as readonly string[], value: DEFAULT_NORMALIZATION as string, key: 'normalize' },
    ...FIELD_KEYS.map((key) => ({ flag: RUN_FLAGS[key].flag, choices: RUN_FLAGS[key].choices, value: defaultText(key, RUN_DEFAULTS.model), key })),
  ];
  for (const f of fields) {
    const id = fieldId(f.flag);
    const label = document.createElement('label');
    label.className = 'field';
    label.id = `${id}-field`;
    label.title = f.flag;
    label.append(`${id.replace(/-/g, ' ')} `);
    let input: HTMLInputElement | HTMLSelectElement;
    if (f.choices) {
      input = document.createElement('select');
      for (const c of f.choices) input.append(new Option(c, c));
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.size = 7;
      if (f.key === 'vaeBatch') input.placeholder = 'as batch';
    }
    input.id = id;
    input.value = f.value;
    input.addEventListener('input', () => {
      // Typed in: the user's value from now on, whichever model is chosen.
      input.dataset.typed = '';
      refreshSettings();
    });
    const error = document.createElement('span');
    error.className = 'field-error';
    error.id = `${id}-error`;
    label.append(input, error);
    box.append(label);
  }
  select.addEventListener('change', () => {
    showModelDefaults();
    refreshSettings();
  });
}

const fieldValue = (flag: string): string => $<HTMLInputElement>(fieldId(flag)).value;

interface FormSettings {
  readonly settings: RunSettings;
  readonly normalize: NormalizationScheme;
}

/** The settings as the command line would parse them, or undefined with each bad field's message beside it. Shows
 * only the fields the chosen model reads (settingsThatApply, from its definition); the others keep their defaults,
 * as a command line that refuses a flag its model does not take would. */
function readSettings(): FormSettings | undefined {
  const errors = new Map<string, string>();
  const parse = <T>(flag: string, read: () => T, fallback: T): T => {
    try {
      return read();
    } catch (e) {
      if (!(e instanceof SettingError)) throw e;
      errors.set(fieldId(flag), e.message);
      return fallback;
    }
  };
  const model = parse(RUN_FLAGS.model.flag, () => RUN_FLAGS.model.parse($<HTMLSelectElement>('model').value, RUN_FLAGS.model.flag), RUN_DEFAULTS.model);
  const m2Init = parse(RUN_FLAGS.m2Init.flag, () => RUN_FLAGS.m2Init.parse(fieldValue(RUN_FLAGS.m2Init.flag), RUN_FLAGS.m2Init.flag), RUN_DEFAULTS.m2Init);
  const applies = new Set(Object.keys(settingsThatApply({ ...RUN_DEFAULTS, model, m2Init, annotation: '', expressionTable: '' })));
  const settings: Record<string, unknown> = { ...RUN_DEFAULTS, model, annotation: sourceName('annotation'), expressionTable: sourceName('expressionTable') };
  for (const key of FIELD_KEYS) {
    const { flag } = RUN_FLAGS[key];
    $(`${fieldId(flag)}-field`).hidden = !applies.has(key);
    if (!applies.has(key)) continue;
    const text = fieldValue(flag);
    settings[key] = key === 'vaeBatch' && text.trim() === '' ? settings.batch : parse(flag, () => RUN_FLAGS[key].parse(text, flag), RUN_DEFAULTS[key]);
  }
  const normalize = parse(NORMALIZE.flag, () => oneOf(NORMALIZE.flag, fieldValue(NORMALIZE.flag), NORMALIZATION_SCHEMES), DEFAULT_NORMALIZATION);
  const why = unavailable(model);
  if (why !== undefined) errors.set('model', `${model} ${why}`);
  const target = fieldId(RUN_FLAGS.target.flag);
  if (settings.target === 'expression' && !errors.has(target)) {
    if (!predictsExpression(model)) {
      errors.set(target, `--target expression does not apply to ${model}: its label is a latent class of two values; ${MODEL_NAMES.filter(predictsExpression).join(', ')} predict expression`);
    } else if (!sources.has('expressionTable')) {
      errors.set(target, `--target expression needs ${SOURCE_WORDS.expressionTable}: the data's files carry classes, and the expression values come from the table's column for the cell; pick it under "Files some models read"`);
    }
  }
  const neighbors = fieldId(RUN_FLAGS.neighbors.flag);
  if (why === undefined && !errors.has(neighbors)) {
    const missing = sourcesRead(model, settings.neighbors as RunSettings['neighbors']).filter((f) => !sources.has(f));
    if (missing.length > 0) errors.set(neighbors, `--neighbors ${String(settings.neighbors)} needs ${missing.map((f) => SOURCE_WORDS[f]).join(' and ')}`);
  }
  for (const el of Array.from(document.querySelectorAll<HTMLElement>('.field-error'))) el.textContent = errors.get(el.id.replace(/-error$/, '')) ?? '';
  return errors.size === 0 ? { settings: settings as unknown as RunSettings, normalize } : undefined;
}

/** Marks the models the picked files cannot serve, and re-reads the settings. */
function refreshSettings(): void {
  const notes: string[] = [];
  for (const o of Array.from($<HTMLSelectElement>('model').options)) {
    const why = unavailable(o.value as ModelName);
    o.disabled = why !== undefined;
    o.textContent = why === undefined ? o.value : `${o.value} (needs more files)`;
    if (why !== undefined) notes.push(`${o.value} ${why}.`);
  }
  $('model-note').textContent = notes.join(' ');
  readSettings();
}

/** A split's headline score: AUROC for a classifier, Pearson for the expression target. */
const headline = (s: Scores): number => (isClassScores(s) ? s.auroc : s.pearson);

async function drawCurves(model: string, target: RunSettings['target'], history: readonly EpochRecord[], bestEpoch?: number): Promise<void> {
  const loss: LossPoint[] = [];
  const score: LossPoint[] = [];
  const name = selectionName(target);
  for (const h of history) {
    loss.push({ epoch: h.epoch, series: 'train', loss: h.trainLoss }, { epoch: h.epoch, series: 'validation', loss: h.valid.loss });
    score.push({ epoch: h.epoch, series: `validation ${name}`, loss: headline(h.valid) });
  }
  $('loss-chart').innerHTML = await renderSvg(lossChart(`${model}: loss per epoch`, loss, target === 'class' ? 'binary cross-entropy' : 'mean squared error', bestEpoch));
  $('auroc-chart').innerHTML = await renderSvg(lossChart(`${model}: validation ${name} per epoch`, score, name, bestEpoch));
}

function download(name: string, data: BlobPart, type: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([data], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

interface Finished {
  /** The cell as read (explain normalises it as the model's training data was). */
  readonly cell: Cell;
  readonly ds: Dataset;
  readonly settings: RunSettings;
  readonly normalize: NormalizationScheme;
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
      config: { ...settingsThatApply(f.settings), normalize: f.normalize },
      device: { kind: 'gpu', adapter: f.adapter, where: 'browser (navigator.gpu)', gemm: 'heuristic' },
      parameters: f.run.parameters,
      normalization: f.normalization,
      ...(f.run.neighbors ? { neighbors: f.run.neighbors } : {}),
      ...(f.run.derived ? { derived: f.run.derived } : {}),
      ...(f.run.penalty ? { penalty: f.run.penalty } : {}),
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
async function runInfo(raw: Dataset, p: PickedCell, form: FormSettings, normalization: NormalizationStats, adapter: string): Promise<RunInfo> {
  const { settings, normalize } = form;
  return {
    runId: crypto.randomUUID(),
    modelName: settings.model,
    settings: { ...settings, trainSize: settings.trainSize ?? null, normalize, device: 'gpu', data: raw.source.join(','), adapter },
    normalization,
    data: { cell: raw.cell, path: raw.source.join(','), layout: p.layout, genes: raw.genes, bins: raw.bins, marks: [...raw.marks], fingerprint: await datasetFingerprintAsync(subtleSha256Hex, raw) },
  };
}

/** The test genes' charts and the summary line, for either target. */
async function showResults(ds: Dataset, settings: RunSettings, run: RunOutcome): Promise<void> {
  const r = run.result;
  const model = settings.model;
  const results = $('results');
  const n = run.split.test.length;
  for (const key of Object.keys(results.dataset)) delete results.dataset[key];
  if (isClassScores(r.valid) && isClassScores(r.test)) {
    const testLabels = Array.from(run.split.test, (g) => ds.labels[g] as number);
    $('roc-chart').innerHTML = await renderSvg(rocChart(`${model}: ROC, ${n} test genes`, testLabels, r.testPredictions, r.test.auroc));
    $('pr-chart').innerHTML = await renderSvg(prChart(`${model}: precision-recall, ${n} test genes`, testLabels, r.testPredictions, r.test.aupr));
    // Exact values for anyone comparing with the command line (String() round-trips a double).
    results.dataset.validAuroc = String(r.valid.auroc);
    results.dataset.testAuroc = String(r.test.auroc);
    $('summary').textContent = `${chosen(r.bestEpoch)}validation AUROC ${r.valid.auroc.toFixed(4)}, test AUROC ${r.test.auroc.toFixed(4)}, test AUPR ${r.test.aupr.toFixed(4)}, accuracy ${r.test.accuracy.toFixed(4)}`;
  } else if (!isClassScores(r.valid) && !isClassScores(r.test)) {
    const expression = ds.expression as Float32Array;
    const observed = Array.from(run.split.test, (g) => expression[g] as number);
    $('roc-chart').innerHTML = await renderSvg(observedPredictedChart(`${model}: log10(RPKM + 1), ${n} test genes`, observed, r.testPredictions, r.test));
    $('pr-chart').innerHTML = '';
    results.dataset.validPearson = String(r.valid.pearson);
    results.dataset.testPearson = String(r.test.pearson);
    $('summary').textContent = `${chosen(r.bestEpoch)}validation Pearson ${r.valid.pearson.toFixed(4)}, test Pearson ${r.test.pearson.toFixed(4)}, test Spearman ${r.test.spearman.toFixed(4)}, test MSE ${r.test.mse.toFixed(4)} (of log10(RPKM + 1))`;
  }
  showTestGenes(ds, run);
  results.hidden = false;

  function chosen(epoch: number): string {
    return isLinear(model) ? 'fit by L-BFGS, penalty chosen on the validation genes: ' : `best epoch ${epoch}: `;
  }
}

// ---- Which marks and bins the model rests on: explain's maps of the test genes ----

/** One row per test gene: its id, label and the model's output; a click (or Enter) draws its map. */
function showTestGenes(ds: Dataset, run: RunOutcome): void {
  const expression = ds.expression;
  const head = ['gene', 'label', ...(expression ? ['observed log10(RPKM + 1)', 'predicted'] : ['P(high expression)'])];
  const headRow = $('test-genes').querySelector('thead tr') as HTMLTableRowElement;
  headRow.replaceChildren(...head.map((h) => Object.assign(document.createElement('th'), { textContent: h })));
  const body = $('test-genes').querySelector('tbody') as HTMLTableSectionElement;
  body.replaceChildren(
    ...Array.from(run.split.test, (g, i) => {
      const tr = document.createElement('tr');
      const id = ds.geneIds[g] as string;
      tr.dataset.gene = id;
      tr.tabIndex = 0;
      tr.title = `draw ${id}'s attribution map`;
      const cells = [id, ds.labels[g] === 1 ? 'expressed' : 'silent', ...(expression ? [(expression[g] as number).toFixed(3)] : []), (run.result.testPredictions[i] as number).toFixed(3)];
      tr.append(...cells.map((c) => Object.assign(document.createElement('td'), { textContent: c })));
      return tr;
    }),
  );
}

/** The gene whose map is asked for while another is being computed: drawn next (the last one asked for wins). */
let nextGene: string | undefined;
let explaining = false;
/** What is being computed, for the status line. */
let doingNow = '';

function showDoing(): void {
  $('explain-status').textContent = `${doingNow}${nextGene !== undefined ? ` (${nextGene} next)` : ''}`;
}

function clearExplained(): void {
  nextGene = undefined;
  for (const id of ['gene-map', 'mean-maps', 'explain-status']) $(id).replaceChildren();
}

function chosenMethod(): AttributionMethod {
  return oneOf('method', $<HTMLSelectElement>('explain-method').value, ATTRIBUTION_METHODS);
}

/** The trained model as the API's explain takes it, read out of its checkpoints once. */
const explainable = new WeakMap<Finished, Model>();
function modelOf(f: Finished): Model {
  const known = explainable.get(f);
  if (known) return known;
  const m = modelOfCheckpoints(f.checkpoints, f.settings, f.normalization);
  explainable.set(f, m);
  return m;
}

/** The API's default steps of integrated gradients, as `explain` takes them without --steps. */
const STEPS = 50;

/** Runs one explain on the trained model (on the page's GPU), showing what it does meanwhile; one at a time. */
async function computeMap(what: string, work: (f: Finished, method: AttributionMethod, device: Gpu) => Promise<void>): Promise<void> {
  const f = finished;
  if (f === undefined) throw new Error('train a model first: the maps are of the model trained here');
  clearError();
  explaining = true;
  document.body.dataset.state = 'explaining';
  const train = $<HTMLButtonElement>('train');
  train.disabled = true;
  $<HTMLButtonElement>('explain-means').disabled = true;
  const status = $('explain-status');
  try {
    const method = chosenMethod();
    const doing = `computing ${methodInWords(method, STEPS)} for ${what}`;
    doingNow = `${doing}…`;
    showDoing();
    const device = await (gpu ??= acquireBrowserGpu());
    doingNow = `${doing} with ${device.adapterName}…`;
    showDoing();
    await work(f, method, device);
    document.body.dataset.state = 'explained';
  } catch (e) {
    status.textContent = `could not compute the map of ${what}`;
    throw e;
  } finally {
    explaining = false;
    train.disabled = false;
    $<HTMLButtonElement>('explain-means').disabled = false;
    const next = nextGene;
    nextGene = undefined;
    if (next !== undefined) void explainGene(next).catch(showFailure);
  }
}

/** Draws `gene`'s attribution map (and an attention model's attention beside it); a gene asked for meanwhile next. */
async function explainGene(gene: string): Promise<void> {
  if (explaining) {
    nextGene = gene;
    showDoing();
    return;
  }
  for (const tr of Array.from(document.querySelectorAll<HTMLElement>('#test-genes tbody tr'))) tr.classList.toggle('chosen', tr.dataset.gene === gene);
  await computeMap(`gene ${gene}`, async (f, method, device) => {
    const model = modelOf(f);
    const a = await explain(model, f.cell, { method, steps: STEPS, genes: [gene], device: { kind: 'gpu', gpu: device }, sources: pickedSources() });
    const raw = f.cell.dataset;
    const g = raw.geneIds.indexOf(gene);
    const chart = geneMapChart(
      {
        cell: raw.cell,
        geneId: gene,
        expressed: raw.labels[g] === 1,
        method,
        output: a.outputs[0] as number,
        about: `${f.settings.model} trained on ${raw.cell} here; ${methodInWords(method, STEPS)}`,
        attribution: a.attributions,
        ...(a.attention ? { attention: { bins: a.attention.bins, marks: a.attention.marks } } : {}),
      },
      raw.bins,
      raw.marks,
    );
    $('gene-map').innerHTML = await renderSvg(chart);
    $('gene-map').dataset.gene = gene;
    $('explain-status').textContent = `${gene}: ${a.readsWindow ? 'its map below' : `${f.settings.model} does not read the window: every attribution is 0`}${a.attention ? `, with ${f.settings.model}'s attention beside it` : ''}`;
  });
}

/** The expressed and silent test genes' mean maps (and an attention model's mean attention beside them). */
async function explainMeans(): Promise<void> {
  await computeMap('the test genes', async (f, method, device) => {
    const model = modelOf(f);
    const raw = f.cell.dataset;
    const genes = Array.from(f.run.split.test, (g) => raw.geneIds[g] as string);
    const a = await explain(model, f.cell, { method, steps: STEPS, genes, device: { kind: 'gpu', gpu: device }, sources: pickedSources() });
    const subtitle = `${f.settings.model} trained on ${raw.cell} here, ${genes.length} test genes of ${raw.cell}; ${methodInWords(method, STEPS)}`;
    const title = `${raw.cell}: mean |${method}| attribution`;
    const chart = a.attention
      ? meanAttentionChart(`${title} beside ${f.settings.model}'s attention`, subtitle, a, a.attention, raw.bins, raw.marks)
      : meanMapsChart(title, subtitle, a, 'meanAbs', raw.bins, raw.marks);
    $('mean-maps').innerHTML = await renderSvg(chart);
    $('explain-status').textContent = `mean maps of ${a.expressed.genes} expressed and ${a.silent.genes} silent test genes`;
  });
}

function showFailure(e: unknown): void {
  showError(e instanceof Error ? e.message : String(e));
  document.body.dataset.state = 'error';
}

async function train(): Promise<void> {
  clearError();
  // Set before the first await, so whoever watches the state never reads the last run's as this one's.
  document.body.dataset.state = 'training';
  const p = picked;
  if (p === undefined) throw new Error('choose data first: drop files or use the bundled sample');
  const form = readSettings();
  if (form === undefined) throw new Error('some settings are not valid: see the messages beside them');
  const { settings } = form;
  const button = $<HTMLButtonElement>('train');
  button.disabled = true;
  $('results').hidden = true;
  clearExplained();
  const bar = $<HTMLProgressElement>('progress');
  const status = $('train-status');
  try {
    status.textContent = 'reading the files…';
    const raw = await readPicked(p);
    // As on the command line: statistics from the training genes only.
    const normalization = fitNormalization(raw, form.normalize);
    const hooks = pickedSources();
    const normalized = applyNormalization(raw, normalization);
    // As the command line's loadData: the targets from the table's column for the cell, matched to the raw genes.
    const ds = settings.target === 'expression' ? { ...normalized, expression: rpkmTargets(raw, p.layout, await hooks.expressionTable(settings)) } : normalized;
    const device = await (gpu ??= acquireBrowserGpu());
    const total = isLinear(settings.model) ? 1 : settings.epochs + (pretrainsVae(settings.model) ? settings.vaeEpochs : 0);
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
        status.textContent = `${model} epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}, validation ${selectionName(settings.target)} ${headline(r.valid).toFixed(4)}`;
        void drawCurves(model, settings.target, history);
      },
    };
    status.textContent = isLinear(settings.model)
      ? `fitting ${settings.model} on ${ds.cell} (${ds.genes} genes) with ${device.adapterName}: L-BFGS for each penalty of the search…`
      : `training ${settings.model} on ${ds.cell} (${ds.genes} genes) with ${device.adapterName}…`;
    const checkpoints = new MemoryCheckpoints(await runInfo(raw, p, form, normalization, device.adapterName), jsSha256);
    const run = await runModel(ds, settings, { kind: 'gpu', gpu: device }, progress, undefined, { checkpoints, ...hooks });
    finished = { cell: { dataset: raw, layout: p.layout }, ds, settings, normalize: form.normalize, run, normalization, adapter: device.adapterName, checkpoints };
    $('download-vae').hidden = checkpoints.file('vae') === undefined;
    const r = run.result;
    if (r.history.length > 0) await drawCurves(settings.model, settings.target, r.history, r.bestEpoch);
    else for (const id of ['loss-chart', 'auroc-chart']) $(id).innerHTML = '';
    bar.value = bar.max;
    await showResults(ds, settings, run);
    status.textContent = `done: ${settings.model} on ${ds.cell}${r.history.length > 0 ? `, ${r.history.length} epochs` : ''}`;
    document.body.dataset.state = 'trained';
  } finally {
    button.disabled = false;
  }
}

/** One checkpoint file the user gave, within the page's limit (refused from its size before it is read), decoded
 * and verified as `predict` does; the hash by crypto.subtle, off the main thread. */
async function decoded(files: readonly File[], name: string): Promise<{ file: File; tensors: SafetensorsFile } | undefined> {
  const file = files.find((f) => f.name === name);
  if (file === undefined) return undefined;
  const tooBig = oversized(file.name, file.size, CHECKPOINT_LIMIT, 'checkpoints');
  if (tooBig !== undefined) throw tooBig;
  return { file, tensors: await decodeSafetensorsAsync(subtleSha256Hex, new Uint8Array(await file.arrayBuffer()), file.name) };
}

/** The model in the checkpoint files the user loaded: best.safetensors, and vae.safetensors for the models that read a VAE. */
async function loadedModel(files: readonly File[]): Promise<TrainedModel<ClassifierCheckpoint, VaeCheckpoint>> {
  const best = await decoded(files, 'best.safetensors');
  if (best === undefined) throw new Error(`load best.safetensors (a run directory's, or the page's download); got ${files.map((f) => f.name).join(', ') || 'nothing'}`);
  const classifier = classifierCheckpointFrom(best.tensors, best.file.name, 'best');
  const modelName = RUN_FLAGS.model.parse(classifier.info.modelName, `${best.file.name}: its model`);
  const why = unavailable(modelName);
  if (why !== undefined) throw new Error(`${best.file.name}: a ${modelName} model ${why}`);
  let vae: VaeCheckpoint | undefined;
  // A model that reads SimpleChrome's VAE keeps it in vae.safetensors.
  if (usesVae(modelName)) {
    const v = await decoded(files, 'vae.safetensors');
    if (v === undefined) throw new Error(`${best.file.name}: a ${modelName} model needs vae.safetensors from the same run; load both files`);
    vae = vaeCheckpointFrom(v.tensors, v.file.name);
    if (vae.info.runId !== classifier.info.runId) throw new Error('best.safetensors and vae.safetensors come from different runs');
    // As the command line's predict: a jointly trained model's VAE is the fine-tuned one in best.safetensors.
    if (trainsJointly(modelName)) vae = fineTunedVae(vae, classifier);
  }
  // The sources it reads are the ones picked here, whatever the run that wrote it named.
  const settings = restoreRunSettings(classifier.info.settings, best.file.name, { annotation: sourceName('annotation'), expressionTable: sourceName('expressionTable') });
  return { classifier, ...(vae ? { vae } : {}), modelName, settings, normalization: classifier.info.normalization };
}

let predicted: { readonly ds: Dataset; readonly probabilities: Float32Array } | undefined;

async function predict(): Promise<void> {
  clearError();
  if (picked === undefined) throw new Error('choose data first: drop files or use the bundled sample');
  const model = await loadedModel(Array.from($<HTMLInputElement>('model-files').files ?? []));
  const raw = await readPicked(picked);
  const c = model.classifier;
  const want = modelWindow(model);
  if (raw.bins !== want.bins || raw.marks.length !== want.marks) {
    throw new Error(`${raw.cell} has ${raw.bins} bins × ${raw.marks.length} marks per gene, the model takes ${want.bins} × ${want.marks}`);
  }
  // With the training cell's statistics, as `predict` does.
  const ds = applyNormalization(raw, model.normalization);
  const device = await (gpu ??= acquireBrowserGpu());
  const probabilities = await predictWith(model, ds, { kind: 'gpu', gpu: device }, pickedSources());
  // Said before anything is scored or offered for download, naming the checkpoint, as the command line's predict does.
  const overflow = nonFiniteOutputs(probabilities, ds);
  if (overflow !== undefined) throw new Error(`the ${model.modelName} model in ${c?.file ?? 'best.safetensors'} (run ${c?.info.runId}) ${overflow}`);
  predicted = { ds, probabilities };
  $('predict-status').textContent =
    `${model.modelName} trained on ${c?.info.data.cell} predicted ${ds.genes} genes of ${ds.cell}` +
    (model.settings.target === 'class' ? `; AUROC against their labels ${auroc(ds.labels, probabilities).toFixed(4)}` : ': log10(RPKM + 1) per gene');
  $('download-predicted').hidden = false;
  document.body.dataset.state = 'predicted';
}

function guarded(what: () => Promise<void>): () => void {
  return () => {
    what().catch(showFailure);
  };
}

function wire(): void {
  buildFields();
  $('limits').textContent = `The page reads data files of up to ${inMiB(LIMITS.dataFileBytes)} each (on disk, and as text after decompression) and checkpoints of up to ${inMiB(LIMITS.checkpointBytes)}; the command line has no such limits.`;
  for (const [source, id] of Object.entries(SOURCE_INPUT) as [SourceFile, string][]) {
    const input = $<HTMLInputElement>(id);
    input.addEventListener('change', guarded(async () => {
      clearError();
      const file = input.files?.[0];
      sources.delete(source);
      try {
        if (file !== undefined) refuseOversized(file);
        if (file !== undefined) sources.set(source, file);
      } finally {
        refreshSettings();
      }
    }));
  }
  refreshSettings();
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
    const files = Array.from(input.files ?? []);
    // Emptied, so that picking the same files again (after the bundled sample, say) is a change that chooses them.
    input.value = '';
    choose(cellFromFiles(files));
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
  const methods = $<HTMLSelectElement>('explain-method');
  for (const m of ATTRIBUTION_METHODS) methods.append(new Option(m, m));
  methods.value = 'integrated-gradients';
  $('explain-means').addEventListener('click', guarded(explainMeans));
  const rows = $('test-genes');
  const rowOf = (e: Event): string | undefined => (e.target instanceof Element ? (e.target.closest('tbody tr') as HTMLElement | null)?.dataset.gene : undefined);
  rows.addEventListener('click', (e) => {
    const gene = rowOf(e);
    if (gene !== undefined) guarded(() => explainGene(gene))();
  });
  rows.addEventListener('keydown', (e) => {
    const gene = rowOf(e);
    if (gene !== undefined && e.key === 'Enter') guarded(() => explainGene(gene))();
  });
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
