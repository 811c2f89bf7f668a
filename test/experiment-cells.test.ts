import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cellsInFolder } from '../src/data/cellFolder.ts';
import { DEEPCHROME_PUBLISHED_AUROC } from '../src/data/publishedAuroc.ts';
import { epochsFor } from '../src/cli/experiment/experiment.ts';
import { sampleCellFolder } from './cellFolder.ts';
import { runMain } from './cliHelpers.ts';

// The experiment on a folder of cells in the DeepChrome layout (as the zenodo
// archive unpacks), made here from the real E003 and E123 samples.

const root = mkdtempSync(join(tmpdir(), 'sc-cells-'));
let folder = '';
beforeAll(() => {
  folder = sampleCellFolder(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a folder of cells', () => {
  it('is found by its cell folders, and a cell or a file is not mistaken for one', () => {
    expect(cellsInFolder(folder)).toEqual([
      { cell: 'E003', path: join(folder, 'E003') },
      { cell: 'E123', path: join(folder, 'E123') },
    ]);
    expect(cellsInFolder(join(folder, 'E003'))).toBeUndefined();
    expect(cellsInFolder(join(folder, 'E003', 'classification', 'train.csv.gz'))).toBeUndefined();
    mkdirSync(join(root, 'empty'));
    expect(cellsInFolder(join(root, 'empty'))).toBeUndefined();
    expect(Object.keys(DEEPCHROME_PUBLISHED_AUROC)).toHaveLength(56);
  });

  it('runs every cell and writes a per-cell table beside DeepChrome’s published AUROC, paired statistics and a figure', async () => {
    const out = join(root, 'out');
    const r = await runMain(['--cpu', '--experiment', 'small-data', '--data', folder, '--models', 'logreg,mlp', '--sizes', '100,all', '--seeds', '2', '--epochs', '1', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`experiment: ${folder} holds 2 cells (E003, E123); each is run in turn`);
    expect(r.stderr).toMatch(/experiment: 1 of 16 runs done in \d+ s; about \d+ s left/);
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('cell,model,size,seed,labeled_genes,valid_auroc,valid_aupr,test_auroc,test_aupr,best_epoch,epochs,seconds');
    expect(csv).toHaveLength(1 + 2 * 2 * 2 * 2);
    expect(csv.filter((l) => l.startsWith('E123,mlp,all,2,200,'))).toHaveLength(1);
    const perCell = readFileSync(join(out, 'per-cell.csv'), 'utf8').trim().split('\n');
    expect(perCell[0]).toBe('cell,size,DeepChrome (published),logreg,mlp');
    expect(perCell[1]).toMatch(/^E003,all,0\.77,0\.\d{3},0\.\d{3}$/);
    expect(perCell[2]).toMatch(/^E123,all,0\.92,0\.\d{3},0\.\d{3}$/);
    const paired = readFileSync(join(out, 'paired.csv'), 'utf8').trim().split('\n');
    expect(paired[0]).toBe('cell,size,model,baseline,seeds,mean_difference,sd,ci95_low,ci95_high,wins');
    // Per cell and size: mlp against logreg and logreg against mlp.
    expect(paired).toHaveLength(1 + 2 * 2 * 2);
    expect(paired.filter((l) => /^E123,100,mlp,logreg,2,/.test(l))).toHaveLength(1);
    const md = readFileSync(join(out, 'small-data.md'), 'utf8');
    expect(md).toContain('## E003 (600 genes, 100 bins)');
    expect(md).toContain('## E123 (600 genes, 100 bins)');
    expect(md).toContain('| cell | size | DeepChrome (published) | logreg | mlp |');
    const settings = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as Record<string, unknown>;
    expect(settings).toMatchObject({ cells: ['E003', 'E123'], models: ['logreg', 'mlp'], sizes: [100, 'all'], seeds: 2, epochs: 1, device: 'cpu' });
    const svg = readFileSync(join(out, 'auroc-vs-labeled.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    for (const label of ['logreg', 'mlp', 'labeled training genes', "Y-axis titled 'test AUROC (mean ± sd)'"]) expect(svg).toContain(label);
  });
});

describe('both kinds of neighbours in one experiment', () => {
  it('runs vae-mlp-neighbors once per kind, each its own row in every table', async () => {
    const out = join(root, 'kinds');
    const r = await runMain(['--cpu', '--experiment', 'small-data', '--models', 'logreg,vae-mlp-neighbors', '--neighbors', 'spatial,functional', '--sizes', 'all', '--seeds', '1', '--epochs', '1', '--vae-epochs', '1', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(1).map((l) => l.split(',')[1])).toEqual(['logreg', 'vae-mlp-neighbors:spatial', 'vae-mlp-neighbors:functional']);
    const paired = readFileSync(join(out, 'paired.csv'), 'utf8');
    expect(paired).toContain('E003,all,vae-mlp-neighbors:spatial,logreg,1,');
    expect(paired).toContain('E003,all,vae-mlp-neighbors:functional,logreg,1,');
    expect(readFileSync(join(out, 'small-data.md'), 'utf8')).toContain('spatial and functional neighbours k=2');
    expect(JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'))).toMatchObject({ neighbors: 'spatial,functional' });
  });

  it('a training run takes one kind, and a kind named twice is refused', async () => {
    const one = await runMain(['--cpu', '--model', 'vae-mlp-neighbors', '--neighbors', 'spatial,functional']);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe('simplechrome: --neighbors spatial,functional: a training run uses one kind of neighbours; --experiment small-data runs vae-mlp-neighbors with each\n');
    const twice = await runMain(['--cpu', '--experiment', 'small-data', '--neighbors', 'spatial,spatial']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe('simplechrome: --neighbors names a kind twice: spatial,spatial\n');
  });
});

describe('training long enough at every size', () => {
  it('--min-steps gives small sizes more epochs, up to --max-epochs, and the CSV records the epochs each run used', async () => {
    expect(epochsFor({ epochs: 30, minSteps: 2000, maxEpochs: 100, batch: 64 }, 100)).toBe(100);
    expect(epochsFor({ epochs: 30, minSteps: 2000, maxEpochs: 100, batch: 64 }, 6601)).toBe(30);
    expect(epochsFor({ epochs: 30, minSteps: 2000, maxEpochs: 100, batch: 64 }, 3000)).toBe(43);
    expect(epochsFor({ epochs: 10, minSteps: 0, maxEpochs: 100, batch: 64 }, 100)).toBe(10);
    const out = join(root, 'steps');
    // mlp: logreg is fit to convergence, its epochs column counts L-BFGS iterations, not --min-steps epochs.
    const r = await runMain(['--cpu', '--experiment', 'small-data', '--models', 'mlp', '--sizes', '100,all', '--seeds', '1', '--epochs', '1', '--min-steps', '20', '--max-epochs', '8', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // 100 genes at batch 64: 2 steps an epoch, 10 epochs wanted, 8 allowed; 200 genes: 4 steps, 5 epochs.
    const epochs = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[10]);
    expect(epochs).toEqual(['8', '5']);
    expect(JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8'))).toMatchObject({ minSteps: 20, maxEpochs: 8 });
    const single = await runMain(['--cpu', '--min-steps', '2000']);
    expect(single.stderr).toBe('simplechrome: --min-steps belongs to --experiment small-data; a single training run does not use it (it takes --model, --train-size and --seed)\n');
    const below = await runMain(['--cpu', '--experiment', 'small-data', '--epochs', '30', '--max-epochs', '20']);
    expect(below.stderr).toBe('simplechrome: --max-epochs 20 is below --epochs 30: --epochs is the least each classifier trains\n');
  });
});
