import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { SAMPLE_DIR, SAMPLE_FILES, buildWeb } from '../web/build.ts';
import { type Served, serveDir } from '../web/serve.ts';

// The page in a real browser: Debian's Chromium, headless, WebGPU on
// SwiftShader, the same software adapter the command line falls back to. One
// page load trains; its numbers must be the command line's to the last bit.

const CHROMIUM = process.env.SIMPLECHROME_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox'];
/** Set to write docs/web-screenshot.png (the README's picture) from the trained page. */
const SCREENSHOT_ENV = 'SIMPLECHROME_WEB_SCREENSHOT';
const ROOT = join(import.meta.dirname, '..');

const run = promisify(execFile);
let work: string;
let served: Served;
let browser: Browser;
let page: Page;

/** `tsx run.ts --gpu` with the page's settings (mlp, seed 1, the heuristic GEMM variants the page uses); its metrics.json. */
async function cliTraining(data: string, epochs: number, outName: string): Promise<{ valid: { auroc: number }; test: { auroc: number } }> {
  const out = join(work, outName);
  const args = ['run.ts', '--gpu', '--model', 'mlp', '--epochs', String(epochs), '--seed', '1', '--gemm', 'heuristic', '--data', data, '--out', out, '--quiet'];
  await run(join(ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: ROOT, timeout: 300_000 });
  return JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { valid: { auroc: number }; test: { auroc: number } };
}

/** Trains the chosen model on the page's chosen data with seed 1; the exact AUROCs the page shows. */
async function trainOnPage(epochs: number): Promise<Record<string, string | undefined>> {
  await page.fill('#epochs', String(epochs));
  await page.fill('#seed', '1');
  await page.click('#train');
  await page.waitForFunction(() => document.body.dataset.state === 'trained' || document.body.dataset.state === 'error', undefined, { timeout: 300_000 });
  expect(await page.textContent('#error')).toBe('');
  return page.evaluate(() => ({ ...(document.getElementById('results') as HTMLElement).dataset }));
}

beforeAll(async () => {
  for (const f of SAMPLE_FILES) {
    if (!existsSync(join(SAMPLE_DIR, f))) throw new Error(`${join(SAMPLE_DIR, f)} is missing: the page test needs the real E003 sample from ../shared/datasets`);
  }
  work = mkdtempSync(join(tmpdir(), 'simplechrome-web-'));
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
    await save('#download-model', 'best.safetensors');
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
});
