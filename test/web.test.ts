import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { logregDefinition } from '../src/models/definitions/logreg.ts';
import { expressionPriorDefinition } from '../src/models/definitions/expression-prior.ts';
import { logregNeighborsDefinition } from '../src/models/definitions/logreg-neighbors.ts';
import { mlpDefinition } from '../src/models/definitions/mlp.ts';
import { vaeMlpDefinition } from '../src/models/definitions/vae-mlp.ts';
import { MODEL_NAMES, attentionMapsOf, sourcesRead, trainingDefaults, trainsJointly } from '../src/models/registry.ts';
import { RUN_DEFAULTS } from '../src/train/runSettings.ts';
import { inMiB } from '../src/data/blobLines.ts';
import { RUN_FLAGS } from '../src/train/runFlags.ts';
import { SAMPLE_DIR, SAMPLE_FILES, buildWeb } from '../web/build.ts';
import { type Served, serveDir } from '../web/serve.ts';
import { BIGGER_FILES, LIMIT_PARAMS, PAGE_LIMITS } from '../web/limits.ts';

// The page in a real browser: Debian's Chromium, headless, WebGPU on
// SwiftShader, the same software adapter the command line falls back to. One
// page load trains every registered model; its numbers must be the command
// line's to the last bit where both train. The models beyond the first of
// each kind train on a tiny cell (20 genes a split), one epoch, so that every
// model costs little more than its shaders' compilation.

const CHROMIUM = process.env.SIMPLECHROME_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox'];
/** Set to write docs/web-screenshot.png (the README's picture) from the trained page. */
const SCREENSHOT_ENV = 'SIMPLECHROME_WEB_SCREENSHOT';
const ROOT = join(import.meta.dirname, '..');

const run = promisify(execFile);
let work: string;
/** The tiny cell's three files and its prefix for --data. */
let tiny: { files: string[]; prefix: string };
/** The models the page has trained in this file so far: the last test trains the rest. */
const trainedOnPage = new Set<string>();
let served: Served;
let browser: Browser;
let page: Page;

const ANNOTATION = join(SAMPLE_DIR, '..', 'labels_rpkm_shallowchrome', 'GeneFile_tss_windows.txt.gz');
const RPKM_TABLE = join(SAMPLE_DIR, '..', 'labels_rpkm_shallowchrome', 'rpkm_19802genes_x_56cells.csv.gz');

/** `tsx run.ts --gpu` with the page's settings (seed 1, the heuristic GEMM variants the page uses; mlp and `epochs`
 * epochs unless `flags` say otherwise); its metrics.json. */
async function cliTraining(data: string, epochs: number, outName: string, flags: readonly string[] = ['--model', mlpDefinition.name]): Promise<{ valid: { auroc: number }; test: { auroc: number } }> {
  const out = join(work, outName);
  const args = ['run.ts', '--gpu', ...flags, ...(epochs > 0 ? ['--epochs', String(epochs)] : []), '--seed', '1', '--gemm', 'heuristic', '--data', data, '--out', out, '--quiet'];
  await run(join(ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: ROOT, timeout: 300_000 });
  return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { valid: { auroc: number }; test: { auroc: number } };
}

/** Trains the chosen model on the page's chosen data with seed 1; the exact AUROCs the page shows. */
async function trainOnPage(epochs: number): Promise<Record<string, string | undefined>> {
  return trainWith({ epochs: String(epochs) });
}

/** Trains with the given fields (by id: the flag without its dashes) set, seed 1; the exact scores the page shows. */
async function trainWith(fields: Readonly<Record<string, string>>): Promise<Record<string, string | undefined>> {
  for (const [id, value] of Object.entries(fields)) {
    if (await page.evaluate((i) => document.getElementById(i) instanceof HTMLSelectElement, id)) await page.selectOption(`#${id}`, value);
    else await page.fill(`#${id}`, value);
  }
  await page.fill('#seed', '1');
  await page.click('#train');
  await page.waitForFunction(() => document.body.dataset.state === 'trained' || document.body.dataset.state === 'error', undefined, { timeout: 300_000 });
  expect(await page.textContent('#error')).toBe('');
  trainedOnPage.add(await page.inputValue('#model'));
  return page.evaluate(() => ({ ...(document.getElementById('results') as HTMLElement).dataset }));
}

/** The first `perClass` genes of each class from each split of the E003 sample, as a plain-CSV cell: real gene
 * ids (the annotation places them), both classes in every split, and a VAE epoch over 40 genes, not 400. */
function writeTinyCell(dir: string, perClass: number): { files: string[]; prefix: string } {
  mkdirSync(dir);
  const prefix = join(dir, 'E003tiny');
  const files = (['train', 'valid', 'test'] as const).map((split) => {
    const byGene = new Map<string, string[]>();
    for (const line of gunzipSync(readFileSync(join(SAMPLE_DIR, `E003_sample600.${split}.csv.gz`))).toString('utf8').trim().split('\n')) {
      const gene = line.slice(0, line.indexOf(','));
      byGene.set(gene, [...(byGene.get(gene) ?? []), line]);
    }
    const taken = new Map<string, number>();
    const kept = [...byGene.values()].filter((lines) => {
      const label = (lines[0] as string).slice((lines[0] as string).lastIndexOf(',') + 1);
      taken.set(label, (taken.get(label) ?? 0) + 1);
      return (taken.get(label) as number) <= perClass;
    });
    const path = `${prefix}.${split}.csv`;
    writeFileSync(path, `${kept.flat().join('\n')}\n`);
    return path;
  });
  return { files, prefix };
}

/** Picks the tiny cell's files on the page. */
async function pickTinyCell(on: Page = page): Promise<void> {
  await on.setInputFiles('#files', tiny.files);
  await on.waitForFunction(() => /E003tiny/.test(document.getElementById('data-status')?.textContent ?? ''));
}

beforeAll(async () => {
  for (const f of SAMPLE_FILES) {
    if (!existsSync(join(SAMPLE_DIR, f))) throw new Error(`${join(SAMPLE_DIR, f)} is missing: the page test needs the real E003 sample from ../shared/datasets`);
  }
  work = mkdtempSync(join(tmpdir(), 'simplechrome-web-'));
  tiny = writeTinyCell(join(work, 'tiny'), 10);
  // esbuild's browser platform refuses node:* imports: a build that succeeds is
  // the proof that nothing in the page's import graph needs Node.
  const built = await buildWeb(join(work, 'site'));
  expect(built.sampleBundled).toBe(true);
  served = await serveDir(built.dir);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (bash scripts/setup.sh does)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1100, height: 1400 } });
  await page.goto(served.url);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the web page in headless Chromium', () => {
  it('bundles no Node built-ins and finds WebGPU', async () => {
    const bundle = readFileSync(join(work, 'site', 'main.js'), 'utf8');
    expect(bundle).not.toMatch(/["']node:/);
    expect(await page.isHidden('#no-webgpu')).toBe(true);
  });

  it('trains mlp on the bundled E003 sample to the same AUROC as `tsx run.ts --gpu`', async () => {
    await page.click('#use-sample');
    await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
    await page.selectOption('#model', 'mlp');
    const shown = await trainOnPage(2);
    if (process.env[SCREENSHOT_ENV]) await page.screenshot({ path: join(ROOT, 'docs', 'web-screenshot.png'), fullPage: true });

    const metrics = await cliTraining(join(SAMPLE_DIR, 'E003_sample600'), 2, 'cli-run');
    expect(Number(shown.validAuroc)).toBe(metrics.valid.auroc);
    expect(Number(shown.testAuroc)).toBe(metrics.test.auroc);
  }, 600_000);

  it('hands out a checkpoint that `tsx run.ts predict` reads, giving the page\'s probabilities', async () => {
    const modelDir = join(work, 'page-model');
    mkdirSync(modelDir);
    const save = async (button: string, name: string): Promise<string> => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      expect(download.suggestedFilename()).toBe(name);
      const path = join(modelDir, name);
      await download.saveAs(path);
      return path;
    };
    const pageBest = await readClassifierCheckpoint(await save('#download-model', 'best.safetensors'), 'best');
    // The page hashes the data by crypto.subtle, the command line by Node: the same fingerprint of the same genes.
    expect(pageBest.info.data.fingerprint).toBe((await readClassifierCheckpoint(join(work, 'cli-run', 'best.safetensors'), 'best')).info.data.fingerprint);
    const pagePredictions = readFileSync(await save('#download-predictions', 'predictions.csv'), 'utf8');
    const metrics = JSON.parse(readFileSync(await save('#download-metrics', 'metrics.json'), 'utf8')) as { model: string; test: { auroc: number } };
    expect(metrics.model).toBe('mlp');

    const predicted = join(work, 'predicted.csv');
    await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['run.ts', 'predict', '--model', modelDir, '--data', join(SAMPLE_DIR, 'E003_sample600'), '--out', predicted, '--gpu', '--quiet'], {
      cwd: ROOT,
      timeout: 300_000,
      env: { ...process.env, SIMPLECHROME_GEMM: 'heuristic' },
    });
    const byGene = new Map(readFileSync(predicted, 'utf8').trim().split('\n').slice(1).map((l) => [l.split(',')[0], l] as const));
    const testRows = pagePredictions.trim().split('\n').slice(1);
    expect(testRows.length).toBe(200);
    for (const row of testRows) expect(byGene.get(row.split(',')[0])).toBe(row);

    // And the page itself predicts with the checkpoint it is given, as `predict` does.
    await page.setInputFiles('#model-files', join(modelDir, 'best.safetensors'));
    await page.click('#predict');
    await page.waitForFunction(() => document.body.dataset.state === 'predicted' || document.body.dataset.state === 'error', undefined, { timeout: 120_000 });
    expect(await page.textContent('#error')).toBe('');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-predicted')]);
    const pagePredicted = join(work, 'page-predicted.csv');
    await download.saveAs(pagePredicted);
    expect(readFileSync(pagePredicted, 'utf8')).toBe(readFileSync(predicted, 'utf8'));
  }, 600_000);

  it('reads the AttentiveChrome layout the user picks (gzip) and trains to the command line\'s AUROC', async () => {
    const dir = join(SAMPLE_DIR, '..', 'raw_deepdiff_attentivechrome_sample');
    await page.setInputFiles('#files', ['train', 'valid', 'test', 'expr'].map((s) => join(dir, `Cell2.${s}.csv.gz`)));
    await page.waitForFunction(() => /AttentiveChrome layout/.test(document.getElementById('data-status')?.textContent ?? ''));
    const shown = await trainOnPage(1);

    const metrics = await cliTraining(join(dir, 'Cell2'), 1, 'cli-cell2');
    expect(Number(shown.validAuroc)).toBe(metrics.valid.auroc);
    expect(Number(shown.testAuroc)).toBe(metrics.test.auroc);
  }, 600_000);

  it('shows a malformed file\'s error at the same file:line as the command line, and trains nothing', async () => {
    const dir = join(work, 'bad');
    mkdirSync(dir);
    const rows = (gene: string, label: number, bad = false): string =>
      Array.from({ length: 4 }, (_, b) => `${gene},${b + 1},1,2,${bad && b === 2 ? 'x' : 3},4,5,${label}`).join('\n');
    writeFileSync(join(dir, 'train.csv'), `${rows('1', 0)}\n${rows('2', 1)}\n`);
    writeFileSync(join(dir, 'valid.csv'), `${rows('3', 0)}\n${rows('4', 1, true)}\n`);
    writeFileSync(join(dir, 'test.csv'), `${rows('5', 0)}\n${rows('6', 1)}\n`);
    const cli = await readDeepChrome(dir).then(
      () => undefined,
      (e: unknown) => (e as Error).message,
    );
    expect(cli).toMatch(/valid\.csv:7: /);

    await page.setInputFiles('#files', ['train.csv', 'valid.csv', 'test.csv'].map((f) => join(dir, f)));
    await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 60_000 });
    expect(await page.textContent('#error')).toBe((cli as string).replace(`${dir}/`, ''));
    expect(await page.isHidden('#results')).toBe(true);
  });

  it('says so, and how to turn it on, in a browser without WebGPU', async () => {
    const context = await browser.newContext();
    try {
      // Hiding navigator.gpu is what a browser without WebGPU (or with it turned off) shows a page.
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
      const bare = await context.newPage();
      await bare.goto(served.url);
      await bare.waitForFunction(() => document.body.dataset.state === 'ready');
      expect(await bare.isVisible('#no-webgpu')).toBe(true);
      expect(await bare.textContent('#no-webgpu')).toMatch(/no WebGPU[\s\S]*--enable-unsafe-webgpu/);
      expect(await bare.isDisabled('#train')).toBe(true);
    } finally {
      await context.close();
    }
  });
  it('offers every registered model, showing each setting only for the models that read it', async () => {
    await page.click('#use-sample');
    await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
    const options = await page.$$eval('#model option', (os) => os.map((o) => ({ name: (o as HTMLOptionElement).value, disabled: (o as HTMLOptionElement).disabled })));
    expect(options.map((o) => o.name)).toEqual(MODEL_NAMES);
    // With no annotation or RPKM table picked, exactly the models that read one are greyed out, and the page says why.
    const needFiles = MODEL_NAMES.filter((m) => sourcesRead(m, 'spatial').length > 0 && sourcesRead(m, 'functional').length > 0);
    expect(needFiles.length).toBeGreaterThan(0);
    expect(options.filter((o) => o.disabled).map((o) => o.name)).toEqual(needFiles);
    for (const m of needFiles) expect(await page.textContent('#model-note')).toContain(`${m} needs`);

    const visible = (id: string): Promise<boolean> => page.isVisible(`#${id}-field`);
    await page.selectOption('#model', mlpDefinition.name);
    expect([await visible('epochs'), await visible('train-size'), await visible('normalize'), await visible('target'), await visible('clip')]).toEqual([true, true, true, true, true]);
    // An optional setting's field shows its off value as the flag spells it, and the page parses it with the flag's parser.
    expect(await page.inputValue('#clip')).toBe('off');
    expect([await visible('vae-epochs'), await visible('latent'), await visible('k')]).toEqual([false, false, false]);
    await page.selectOption('#model', vaeMlpDefinition.name);
    expect([await visible('vae-epochs'), await visible('latent'), await visible('k')]).toEqual([true, true, false]);
    await page.selectOption('#model', logregDefinition.name);
    // A linear fit has no epochs, batch, learning rate or gradient clip.
    expect([await visible('epochs'), await visible('lr'), await visible('clip'), await visible('vae-epochs')]).toEqual([false, false, false, false]);
    // A model with its own training defaults (attentivechrome's public code's) shows them in the fields not typed in,
    // as `train` takes them; another model brings the command line's back.
    const own = MODEL_NAMES.find((m) => Object.keys(trainingDefaults(m)).length > 0) as (typeof MODEL_NAMES)[number];
    await page.selectOption('#model', own);
    const d = trainingDefaults(own);
    expect([await page.inputValue('#lr'), await page.inputValue('#batch'), await page.inputValue('#clip')]).toEqual([String(d.lr), String(d.batch), String(d.clip)]);
    await page.selectOption('#model', mlpDefinition.name);
    expect([await page.inputValue('#lr'), await page.inputValue('#batch'), await page.inputValue('#clip')]).toEqual([String(RUN_DEFAULTS.lr), String(RUN_DEFAULTS.batch), 'off']);

    // --target expression needs the RPKM table, and the page says so beside the field.
    await page.selectOption('#target', 'expression');
    expect(await page.textContent('#target-error')).toMatch(/--target expression needs the 56-cell RPKM table/);
    await page.selectOption('#target', 'class');
    expect(await page.textContent('#target-error')).toBe('');
  }, 120_000);

  it('shows the command line\'s own message beside a bad setting, and trains nothing', async () => {
    await page.selectOption('#model', mlpDefinition.name);
    const cli = await run(join(ROOT, 'node_modules', '.bin', 'tsx'), ['run.ts', '--cpu', '--epochs', '0', '--quiet'], { cwd: ROOT, timeout: 120_000 }).then(
      () => '',
      (e: unknown) => String((e as { stderr?: string }).stderr),
    );
    let parsed = '';
    try {
      RUN_FLAGS.epochs.parse('0', RUN_FLAGS.epochs.flag);
    } catch (e) {
      parsed = (e as Error).message;
    }
    expect(parsed).toMatch(/--epochs/);
    expect(cli).toContain(parsed);
    await page.fill('#epochs', '0');
    expect(await page.textContent('#epochs-error')).toBe(parsed);
    await page.click('#train');
    await page.waitForFunction(() => document.body.dataset.state === 'error');
    expect(await page.textContent('#error')).toMatch(/settings are not valid/);
    expect(await page.isHidden('#results')).toBe(true);
    // What the user typed is still there to correct.
    expect(await page.inputValue('#epochs')).toBe('0');
    await page.fill('#epochs', '2');
    expect(await page.textContent('#epochs-error')).toBe('');
  }, 180_000);

  it('fits logreg (the linear fit) to the command line\'s AUROC', async () => {
    await page.click('#use-sample');
    await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
    await page.selectOption('#model', logregDefinition.name);
    const shown = await trainWith({});
    const metrics = await cliTraining(join(SAMPLE_DIR, 'E003_sample600'), 0, 'cli-logreg', ['--model', logregDefinition.name]);
    expect(Number(shown.validAuroc)).toBe(metrics.valid.auroc);
    expect(Number(shown.testAuroc)).toBe(metrics.test.auroc);
  }, 600_000);

  it('trains vae-mlp with a train size and another normalization to the command line\'s AUROC', async () => {
    await pickTinyCell();
    await page.selectOption('#model', vaeMlpDefinition.name);
    const shown = await trainWith({ epochs: '1', 'vae-epochs': '1', 'train-size': '15', normalize: 'log1p-zscore' });
    const metrics = await cliTraining(tiny.prefix, 1, 'cli-vae-mlp', [
      '--model', vaeMlpDefinition.name, '--vae-epochs', '1', '--train-size', '15', '--normalize', 'log1p-zscore',
    ]);
    expect(Number(shown.validAuroc)).toBe(metrics.valid.auroc);
    expect(Number(shown.testAuroc)).toBe(metrics.test.auroc);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-metrics')]);
    const saved = join(work, 'vae-mlp-metrics.json');
    await download.saveAs(saved);
    const config = (JSON.parse(readFileSync(saved, 'utf8')) as { config: Record<string, unknown> }).config;
    expect([config.trainSize, config.normalize, config.vaeEpochs]).toEqual([15, 'log1p-zscore', 1]);
    await page.fill('#train-size', 'all');
    await page.selectOption('#normalize', 'log1p-max');
  }, 600_000);

  it('fits expression-prior on the RPKM table the user picks, for --target expression, to the command line\'s Pearson', async () => {
    await page.click('#use-sample');
    await page.waitForFunction(() => /E003 \(/.test(document.getElementById('data-status')?.textContent ?? ''));
    const disabled = (m: string): Promise<boolean> => page.$eval(`#model option[value="${m}"]`, (o) => (o as HTMLOptionElement).disabled);
    expect(await disabled(logregNeighborsDefinition.name)).toBe(true);
    // The annotation serves spatial neighbours; functional ones would need the RPKM table, and the page says so.
    await page.setInputFiles('#annotation-file', ANNOTATION);
    await page.waitForFunction((m) => !(document.querySelector(`#model option[value="${m}"]`) as HTMLOptionElement).disabled, logregNeighborsDefinition.name);
    await page.selectOption('#model', logregNeighborsDefinition.name);
    await page.selectOption('#neighbors', 'functional');
    expect(await page.textContent('#neighbors-error')).toMatch(/--neighbors functional needs the 56-cell RPKM table/);
    await page.selectOption('#neighbors', 'spatial');
    expect(await page.textContent('#neighbors-error')).toBe('');

    expect(await disabled(expressionPriorDefinition.name)).toBe(true);
    await page.setInputFiles('#expression-table-file', RPKM_TABLE);
    await page.waitForFunction((m) => !(document.querySelector(`#model option[value="${m}"]`) as HTMLOptionElement).disabled, expressionPriorDefinition.name);
    await page.selectOption('#model', expressionPriorDefinition.name);
    const shown = await trainWith({ target: 'expression' });
    // The command line reads the same table from ../shared/datasets by default.
    const metrics = (await cliTraining(join(SAMPLE_DIR, 'E003_sample600'), 0, 'cli-expression-prior', ['--model', expressionPriorDefinition.name, '--target', 'expression'])) as unknown as {
      valid: { pearson: number };
      test: { pearson: number };
    };
    expect(Number(shown.validPearson)).toBe(metrics.valid.pearson);
    expect(Number(shown.testPearson)).toBe(metrics.test.pearson);
  }, 600_000);

  it('draws a test gene\'s attribution map, and an attention model\'s attention beside it, when its row is clicked; and the mean maps', async () => {
    await pickTinyCell();
    const model = MODEL_NAMES.find((m) => attentionMapsOf(m) !== undefined) as string;
    await page.selectOption('#model', model);
    await trainWith({ epochs: '1', target: 'class' });
    const genes = await page.$$eval('#test-genes tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.gene ?? ''));
    const cell = await readDeepChrome(tiny.prefix);
    const testIds = cell.geneIds.filter((_, g) => cell.split[g] === 2);
    expect(genes).toEqual(testIds);
    const gene = genes[1] as string;
    const label = cell.labels[cell.geneIds.indexOf(gene)] === 1 ? 'expressed' : 'silent';
    const explained = async (): Promise<void> => {
      await page.waitForFunction(() => document.body.dataset.state === 'explained' || document.body.dataset.state === 'error', undefined, { timeout: 300_000 });
      expect(await page.textContent('#error')).toBe('');
    };
    await page.click(`#test-genes tbody tr[data-gene="${gene}"]`);
    expect(await page.textContent('#explain-status')).toMatch(new RegExp(`^computing integrated gradients .* for gene ${gene}`));
    await explained();
    expect(await page.getAttribute('#gene-map', 'data-gene')).toBe(gene);
    const svg = await page.innerHTML('#gene-map');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain(`E003tiny gene ${gene} (${label}): integrated-gradients, beside its attention`);
    for (const panel of ['integrated-gradients attribution', 'bin attention', 'mark attention']) expect(svg).toContain(panel);
    for (const mark of cell.marks) expect(svg).toContain(mark);
    expect(await page.textContent('#explain-status')).toBe(`${gene}: its map below, with ${model}'s attention beside it`);

    // A gene clicked while another is computed is drawn next; the page goes on answering meanwhile.
    const [busy, next] = [genes[2] as string, genes[3] as string];
    await page.click(`#test-genes tbody tr[data-gene="${busy}"]`);
    await page.click(`#test-genes tbody tr[data-gene="${next}"]`);
    expect(await page.textContent('#explain-status')).toMatch(new RegExp(`for gene ${busy}.*\\(${next} next\\)$`));
    expect(await page.isDisabled('#train')).toBe(true);
    await page.waitForFunction((id) => document.getElementById('gene-map')?.dataset.gene === id && document.body.dataset.state !== 'explaining', next, { timeout: 300_000 });
    await explained();
    expect(await page.innerHTML('#gene-map')).toContain(`E003tiny gene ${next} `);
    expect(await page.isDisabled('#train')).toBe(false);

    await page.selectOption('#explain-method', 'saliency');
    await page.click('#explain-means');
    await explained();
    const means = await page.innerHTML('#mean-maps');
    expect(means).toContain(`E003tiny: mean |saliency| attribution beside ${model}'s attention`);
    for (const group of ['expressed (label 1, 10 genes)', 'silent (label 0, 10 genes)']) {
      expect(means).toContain(`mean |attribution|, ${group}`);
      expect(means).toContain(`mean bin attention, ${group}`);
    }
    // Training again clears the maps of the model before.
    await page.selectOption('#model', logregDefinition.name);
    await trainWith({ target: 'class' });
    expect([await page.innerHTML('#gene-map'), await page.innerHTML('#mean-maps')]).toEqual(['', '']);
  }, 600_000);

  it('trains every other registered model on the tiny cell, and predicts with the jointly trained one\'s checkpoint', async () => {
    await pickTinyCell();
    const rest = MODEL_NAMES.filter((m) => !trainedOnPage.has(m));
    expect(rest.length).toBeGreaterThan(0);
    for (const model of rest) {
      await page.selectOption('#model', model);
      // One epoch of everything, and the class target; the fields a model does not read are hidden.
      const fields: Record<string, string> = {};
      for (const [id, value] of [['epochs', '1'], ['vae-epochs', '1'], ['target', 'class']] as const) if (await page.isVisible(`#${id}-field`)) fields[id] = value;
      const shown = await trainWith(fields);
      expect(await page.textContent('#train-status')).toContain(`done: ${model} on E003tiny`);
      for (const score of [shown.validAuroc, shown.testAuroc]) {
        expect(Number(score)).toBeGreaterThanOrEqual(0);
        expect(Number(score)).toBeLessThanOrEqual(1);
      }
      if (!trainsJointly(model)) continue;
      // The command line's predict takes its fine-tuned VAE out of best.safetensors; so does the page.
      const files = [];
      for (const [button, name] of [['#download-model', 'best.safetensors'], ['#download-vae', 'vae.safetensors']] as const) {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
        const path = join(work, `${model}-${name}`.replace(`${model}-`, `${model}/`));
        mkdirSync(join(work, model), { recursive: true });
        await download.saveAs(path);
        files.push(path);
      }
      await page.setInputFiles('#model-files', files);
      await page.click('#predict');
      await page.waitForFunction(() => document.body.dataset.state === 'predicted' || document.body.dataset.state === 'error', undefined, { timeout: 300_000 });
      expect(await page.textContent('#error')).toBe('');
      expect(await page.textContent('#predict-status')).toMatch(new RegExp(`^${model} trained on E003tiny predicted 60 genes of E003tiny; AUROC`));
    }
    expect([...trainedOnPage].sort()).toEqual([...MODEL_NAMES].sort());
  }, 900_000);
});

describe('the page\'s size limits, lowered through the query string (the test hook in web/limits.ts)', () => {
  const MAX_DATA = 200_000;
  const MAX_CHECKPOINT = 1000;
  let limited: Page;

  beforeAll(async () => {
    limited = await browser.newPage();
    await limited.goto(`${served.url}?${LIMIT_PARAMS.dataFileBytes}=${MAX_DATA}&${LIMIT_PARAMS.checkpointBytes}=${MAX_CHECKPOINT}`);
    await limited.waitForFunction(() => document.body.dataset.state === 'ready');
  }, 60_000);

  const failsWith = async (message: string): Promise<void> => {
    await limited.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 120_000 });
    expect(await limited.textContent('#error')).toBe(message);
  };

  it('states its limits', async () => {
    expect(await page.textContent('#limits')).toContain(`data files of up to ${inMiB(PAGE_LIMITS.dataFileBytes)} each`);
    expect(await page.textContent('#limits')).toContain(`checkpoints of up to ${inMiB(PAGE_LIMITS.checkpointBytes)}`);
    expect(await limited.textContent('#limits')).toContain(`data files of up to ${MAX_DATA} bytes each`);
  });

  it('refuses a file bigger than the limit by its size, before reading it, naming the file and the limit', async () => {
    const big = join(work, 'big');
    mkdirSync(big);
    const paths = (['train', 'valid', 'test'] as const).map((split) => join(big, `E003_sample600.${split}.csv`));
    for (const p of paths) writeFileSync(p, gunzipSync(readFileSync(join(SAMPLE_DIR, `${p.slice(big.length + 1)}.gz`))));
    const size = readFileSync(paths[0] as string).length;
    expect(size).toBeGreaterThan(MAX_DATA);
    await limited.setInputFiles('#files', paths);
    await failsWith(`E003_sample600.train.csv: ${size} bytes, more than the ${MAX_DATA} bytes this page reads of data files${BIGGER_FILES}`);
    expect(await limited.textContent('#data-status')).toBe('No data chosen.');
  });

  it('stops a gzip bomb at the limit, naming the file and the limit, and trains nothing', async () => {
    const dir = join(work, 'bomb');
    mkdirSync(dir);
    // Valid rows, 1.2 MB of them, in 160 KB of gzip: within the limit on disk, six times past it inflated.
    const rows = Array.from({ length: 600 }, (_, g) => Array.from({ length: 100 }, (_, b) => `${g + 1},${b + 1},0,0,0,0,0,${g % 2}`).join('\n')).join('\n');
    const bomb = gzipSync(`${rows}\n`);
    expect(bomb.length).toBeLessThan(MAX_DATA);
    writeFileSync(join(dir, 'bomb.train.csv.gz'), bomb);
    writeFileSync(join(dir, 'bomb.valid.csv'), readFileSync(tiny.files[1] as string));
    writeFileSync(join(dir, 'bomb.test.csv'), readFileSync(tiny.files[2] as string));
    await limited.setInputFiles('#files', ['train', 'valid', 'test'].map((s) => join(dir, `bomb.${s}.csv${s === 'train' ? '.gz' : ''}`)));
    await limited.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
    await limited.click('#train');
    await failsWith(`bomb.train.csv.gz: decompresses to more than ${MAX_DATA} bytes, the most text this page reads of a data file; stopped there${BIGGER_FILES}`);
    expect(await limited.isHidden('#results')).toBe(true);
  }, 180_000);

  it('refuses a checkpoint bigger than the limit by its size', async () => {
    const dir = join(work, 'big-model');
    mkdirSync(dir);
    writeFileSync(join(dir, 'best.safetensors'), new Uint8Array(MAX_CHECKPOINT + 1));
    await limited.setInputFiles('#model-files', join(dir, 'best.safetensors'));
    await limited.click('#predict');
    await failsWith(`best.safetensors: ${MAX_CHECKPOINT + 1} bytes, more than the ${MAX_CHECKPOINT} bytes this page reads of checkpoints${BIGGER_FILES}`);
  });

  it('still trains afterwards, on files within the limit', async () => {
    await pickTinyCell(limited);
    await limited.selectOption('#model', mlpDefinition.name);
    await limited.fill('#epochs', '1');
    await limited.click('#train');
    await limited.waitForFunction(() => document.body.dataset.state === 'trained' || document.body.dataset.state === 'error', undefined, { timeout: 300_000 });
    expect(await limited.textContent('#error')).toBe('');
    expect(await limited.textContent('#train-status')).toContain(`done: ${mlpDefinition.name} on E003tiny`);
  }, 300_000);
});
