import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, loadCell } from '../src/api/index.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { refuseForeign } from '../src/cli/session/runDirectory.ts';
import { attributionChart } from '../src/plots/attributionCharts.ts';
import { explainBlockGenes } from '../src/train/explain.ts';
import { renderSvg } from '../src/plots/render.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// `explain` on a run directory: the files it writes (attributions with gene ids and splits, the mean maps, the
// heatmaps), what it refuses (each bad flag by name, a folder holding someone else's files) with nothing of the
// user's touched, and the programmatic API giving the same numbers.

const tmp = (tag: string): string => mkdtempSync(join(tmpdir(), `sc-explain-${tag}-`));
const quiet = { epoch: () => {}, vaeEpoch: () => {} };
const GENES = ['130749', '130751'];

let model: string;
beforeAll(async () => {
  model = join(tmp('run'), 'logreg');
  await trainToDirectory(parseArgs(['--cpu', '--model', 'logreg', '--train-size', '100', '--data', DEFAULT_REAL_SAMPLE, '--out', model, '--quiet']), { progress: quiet });
}, 300_000);

describe('explain writes', () => {
  it('into explain/ of the run: attributions, mean maps and heatmaps, and again in place', async () => {
    const args = ['explain', '--cpu', '--model', model, '--data', DEFAULT_REAL_SAMPLE, '--genes', GENES.join(','), '--steps', '4'];
    const r = await runMain(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/completeness: Σ attributions against f\(x\) − f\(no reads\), worst error/);
    const out = join(model, 'explain');
    const stem = 'E003-integrated-gradients';
    expect(readdirSync(out).sort()).toEqual(
      [`${stem}.attributions.safetensors`, `${stem}.gene-130749.svg`, `${stem}.gene-130751.svg`, `${stem}.json`, `${stem}.mean-abs-maps.svg`, `${stem}.mean-maps.svg`, `${stem}.mean.csv`].sort(),
    );
    const file = await readSafetensors(join(out, `${stem}.attributions.safetensors`));
    expect(JSON.parse(file.metadata.gene_ids ?? '')).toEqual(GENES);
    expect(file.tensors.get('attribution')?.shape).toEqual([2, 100, 5]);
    expect(file.tensors.get('split')?.shape).toEqual([2]);
    expect(JSON.parse(file.metadata.marks ?? '')).toEqual(['H3K27me3', 'H3K36me3', 'H3K4me1', 'H3K4me3', 'H3K9me3']);
    const about = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as { completeness: { worstAbsoluteError: number }; readsWindow: boolean };
    // logreg is linear in the window, so the midpoint rule is exact; what is left is float32's rounding of a logit
    // that moves by ~1e-4 on a bias of ~0.6 (the penalty search keeps small weights at 100 labels).
    expect(about.completeness.worstAbsoluteError).toBeLessThan(1e-4);
    expect(about.readsWindow).toBe(true);
    const csv = readFileSync(join(out, `${stem}.mean.csv`), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('group,mark,bin,genes,mean_abs_attribution,mean_attribution');
    expect(csv).toHaveLength(1 + 2 * 5 * 100);
    const svg = readFileSync(join(out, `${stem}.mean-maps.svg`), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('H3K4me3');

    // The same cell and method again: its own files replaced, nothing left beside them.
    const before = readdirSync(out).sort();
    const again = await runMain([...args, '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    expect(readdirSync(out).sort()).toEqual(before);

    // The API gives the file's numbers.
    const api = await explain(model, await loadCell(DEFAULT_REAL_SAMPLE), { device: 'cpu', genes: GENES, steps: 4 });
    expect(api.geneIds).toEqual(GENES);
    expect(Array.from(api.attributions)).toEqual(Array.from(file.tensors.get('attribution')?.data as Float32Array));
    expect(api.expressed.genes + api.silent.genes).toBe(2);
  }, 300_000);

  it('grad-input over the test split into a folder of its own, without per-gene maps', async () => {
    const out = join(tmp('out'), 'maps');
    const r = await runMain(['explain', '--cpu', '--model', model, '--data', DEFAULT_REAL_SAMPLE, '--split', 'test', '--method', 'grad-input', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // 200 genes go in ten blocks of 20, each followed by a line with the time left.
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('explain: ') && l.includes(' of 200 genes'));
    expect(lines.map((l) => l.replace(/\), .*$/, ')'))).toEqual(Array.from({ length: 10 }, (_, i) => `explain: ${20 * (i + 1)} of 200 genes (${10 * (i + 1)}%)`));
    expect(lines[0]).toMatch(/^explain: 20 of 200 genes \(10%\), \d+ s, about (\d+ min )?\d+ s left$/);
    expect(lines[9]).toMatch(/^explain: 200 of 200 genes \(100%\), (\d+ min )?\d+ s$/);
    const stem = 'E003-grad-input';
    expect(readdirSync(out).sort()).toEqual([`${stem}.attributions.safetensors`, `${stem}.json`, `${stem}.mean-abs-maps.svg`, `${stem}.mean-maps.svg`, `${stem}.mean.csv`]);
    const file = await readSafetensors(join(out, `${stem}.attributions.safetensors`));
    expect(file.tensors.get('attribution')?.shape).toEqual([200, 100, 5]);
    expect(Array.from(file.tensors.get('split')?.data as Uint8Array).every((s) => s === 2)).toBe(true);
  }, 300_000);
});

describe('explain splits its genes into blocks', () => {
  it('as memory allows, in about ten blocks of at least 16 genes so a slow model reports progress', () => {
    expect(explainBlockGenes(200, 18, 500)).toBe(20);
    expect(explainBlockGenes(2, 52, 500)).toBe(2);
    expect(explainBlockGenes(100, 1, 500)).toBe(16);
    expect(explainBlockGenes(12_000, 1, 500)).toBe(1200);
    // Memory bounds a block of wide rows: 2^22 values.
    expect(explainBlockGenes(12_000, 52, 2100)).toBe(Math.floor(2 ** 22 / (52 * 2100)));
    expect(explainBlockGenes(5, 1, 2 ** 23)).toBe(1);
  });
});

describe('explain refuses', () => {
  it('a folder holding files it did not write, and leaves it as it was', async () => {
    const out = tmp('foreign');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const before = snapshot(out);
    const r = await runMain(['explain', '--cpu', '--model', model, '--data', DEFAULT_REAL_SAMPLE, '--genes', GENES[0] as string, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`explain --out ${out} holds files that are not a simplechrome run's (notes.txt); nothing was changed: give --out a new folder or one that explain wrote`);
    expect(snapshot(out)).toEqual(before);
  });

  it.each([
    [['--data', DEFAULT_REAL_SAMPLE], 'explain needs --model DIR'],
    [['--model', 'M'], 'explain needs --data PATH'],
    [['--model', 'M', '--data', 'D', '--genes', 'a', '--split', 'test'], 'explain: --genes and --split both choose the genes: give one'],
    [['--model', 'M', '--data', 'D', '--split', 'training'], 'explain --split training: expected one of train, valid, test'],
    [['--model', 'M', '--data', 'D', '--method', 'gradcam'], 'explain --method gradcam: expected one of saliency, grad-input, integrated-gradients'],
    [['--model', 'M', '--data', 'D', '--method', 'saliency', '--steps', '5'], 'explain --steps applies to --method integrated-gradients, not saliency'],
    [['--model', 'M', '--data', 'D', '--steps', '0'], 'explain --steps needs a whole number from 1 to 10000, got "0"'],
    [['--model', 'M', '--data', 'D', '--genes', 'a,,b'], 'explain --genes "a,,b": give gene ids separated by commas'],
    [['--model', 'M', '--data', 'D', '--gpu', '--cpu'], 'explain: --gpu and --cpu contradict each other: give one'],
    [['--model', 'M', '--model', 'N', '--data', 'D'], 'explain --model is given twice'],
    [['--model', 'M', '--data', 'D', '--epochs', '3'], 'explain: unknown argument "--epochs"'],
  ])('%j', async (args, message) => {
    const r = await runMain(['explain', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('a gene the data does not hold, a missing run directory, and writes nothing', async () => {
    const out = join(tmp('genes'), 'maps');
    const r = await runMain(['explain', '--cpu', '--model', model, '--data', DEFAULT_REAL_SAMPLE, '--genes', '130749,nope', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('explain --genes: nope is not among the 600 genes of E003 (ids as the data names them, e.g. 130749, 130751, 130755)');
    expect(snapshot(out)).toEqual({});
    const none = await runMain(['explain', '--cpu', '--model', join(tmp('none'), 'missing'), '--data', DEFAULT_REAL_SAMPLE]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--model \S+missing: no such directory/);
  });

  it('and names itself in --help', async () => {
    const r = await runMain(['explain', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('explain --model DIR --data PATH [--genes ID,…|--split S] [--method M] [--steps N] [--out DIR]');
  });
});

describe('explain beside a run', () => {
  it('leaves the run directory one that --overwrite may replace (explain/ is the run’s own)', () => {
    const dir = join(tmp('own'), 'run');
    mkdirSync(join(dir, 'explain'), { recursive: true });
    writeFileSync(join(dir, 'metrics.json'), '{}');
    // A directory holding only a run's files and explain/ is not refused as someone else's.
    expect(refuseForeign(dir, 'train --out', 'elsewhere')).toEqual(['explain', 'metrics.json']);
  });
});

describe('attribution heatmaps', () => {
  it('centre the colours at 0 on one scale for every panel, and mark the TSS at half the bins', async () => {
    const spec = attributionChart('t', 's', [{ title: 'a', values: [0.5, -2, 0, 1] }, { title: 'b', values: [0, 0, 0, 0.25] }], 2, ['m1', 'm2'], 'mean');
    const text = JSON.stringify(spec);
    expect(text).toContain('"domain":[-2,2],"domainMid":0');
    expect(text).toContain('{"tss":1}');
    const svg = await renderSvg(spec);
    expect(svg).toContain('m2');
    expect(svg).toContain('bin (TSS dashed)');
  });
});
