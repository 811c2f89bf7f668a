import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { type ProgressLine, keptOnResume, parseProgressLines, readProgressLog } from '../src/cli/run/progressLog.ts';
import { TrainingStoppedError, trainToDirectory } from '../src/cli/run/trainRun.ts';
import { progressPrinter, stepsLine } from '../src/cli/session/progressPrinter.ts';
import { writeRunPlots } from '../src/plots/runPlots.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import type { EpochAt, Progress } from '../src/train/runModel.ts';
import { isConstant, runWarnings } from '../src/train/runWarnings.ts';
import { interruptWhen, runMain } from './cliHelpers.ts';
import { getGpu } from './helpers.ts';

// Runs you can watch: progress.jsonl gains a line per finished epoch (and a
// stopped run keeps its curve, a resumed one continues it without repeating an
// epoch); a long epoch shows how far it has got (a bar on a terminal, a sparse
// line in a log); loss.svg draws the validation score per epoch; and a run that
// learnt nothing ends with a warning that says why that may be.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };
const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `sc-watch-${tag}-`));
const LONG = 120_000;

class Interrupt extends Error {}

/** Epochs of one phase, in file order. */
const epochsOf = (lines: readonly ProgressLine[], phase: ProgressLine['phase']) => lines.filter((l) => l.phase === phase).map((l) => l.epoch);

describe('progress.jsonl', () => {
  let data: string;
  beforeAll(async () => {
    const root = tmp('data');
    await writeSynthetic(root, { genes: 60, seed: 31, bins: 8, cell: 'SYNTHETIC-W' });
    data = join(root, 'SYNTHETIC-W');
  });

  it('has a line per VAE and classifier epoch, as metrics.json records them', async () => {
    const out = join(tmp('full'), 'run');
    const r = await trainToDirectory(
      parseArgs(['--cpu', '--model', 'vae-mlp', '--data', data, '--vae-epochs', '2', '--epochs', '3', '--batch', '16', '--out', out, '--quiet']),
      { progress: quiet },
    );
    expect(r.files).toContain('progress.jsonl');
    const text = readFileSync(join(out, 'progress.jsonl'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as ProgressLine);
    expect(lines.map((l) => `${l.phase} ${l.epoch}/${l.epochs}`)).toEqual(['vae 1/2', 'vae 2/2', 'classifier 1/3', 'classifier 2/3', 'classifier 3/3']);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      vaeHistory: { loss: number; kl: number }[];
      history: { trainLoss: number; genesPerSecond: number; valid: { auroc: number } }[];
    };
    for (const [i, l] of lines.entries()) {
      expect(Number.isNaN(Date.parse(l.time as string)), l.time).toBe(false);
      expect(l.fromCheckpoint).toBeUndefined();
      expect(l.seconds).toBeGreaterThan(0);
      if (l.phase === 'vae') {
        expect(l.model).toBe('vae');
        expect(l.loss).toBe(metrics.vaeHistory[i]?.loss);
        expect(l.kl).toBe(metrics.vaeHistory[i]?.kl);
      } else {
        const h = metrics.history[i - 2];
        expect(l.model).toBe('vae-mlp');
        expect(l.trainLoss).toBe(h?.trainLoss);
        expect(l.genesPerSecond).toBe(h?.genesPerSecond);
        expect(l.validMetric).toBe('AUROC');
        expect(l.validScore).toBe(h?.valid.auroc);
        expect(l.valid).toEqual(h?.valid);
      }
    }
  }, LONG);

  it('a reader skips a torn last line, and a resume cuts the file back to the checkpoints it continues', () => {
    const line = (phase: 'vae' | 'classifier', model: string, epoch: number) => JSON.stringify({ phase, model, epoch, epochs: 9 });
    const text = [line('vae', 'vae', 1), line('vae', 'vae', 2), line('classifier', 'mlp', 1), line('classifier', 'mlp', 2), '{"phase":"classifier","model":"ml'].join('\n');
    const lines = parseProgressLines(text);
    expect(lines.map((l) => `${l.phase} ${l.epoch}`)).toEqual(['vae 1', 'vae 2', 'classifier 1', 'classifier 2']);
    expect(keptOnResume(lines, { vaeEpoch: 2, classifierEpoch: 1, model: 'mlp' }).map((l) => `${l.phase} ${l.epoch}`)).toEqual(['vae 1', 'vae 2', 'classifier 1']);
    // A searched weight's values (and a linear model's penalties) are all trained again: their lines go.
    const searched = parseProgressLines([line('classifier', 'vae-m2 α=0.1', 1), line('classifier', 'vae-m2 α=1', 1)].join('\n'));
    expect(keptOnResume(searched, { vaeEpoch: 0, classifierEpoch: 1, model: 'vae-m2' })).toEqual([]);
  });

  it('an interrupted run (Ctrl-C) keeps a line per checkpointed epoch; the resumed run continues it without repeating one', async () => {
    const root = tmp('int');
    // Big enough that an epoch takes a moment on the CPU, so the signal lands inside one (as interrupt.test.ts).
    await writeSynthetic(root, { genes: 400, seed: 21, bins: 40, cell: 'SYNTHETIC-I' });
    const out = join(root, 'run');
    const argv = ['--cpu', '--model', 'deepchrome', '--data', join(root, 'SYNTHETIC-I'), '--epochs', '3', '--batch', '32', '--out', out];
    const r = await interruptWhen(argv, /deepchrome epoch +1\/3/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    const kept = (await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last')).state.epoch;
    const before = readProgressLog(out);
    // The line follows the checkpoint: a signal between the two leaves the line out, never one too many.
    expect(epochsOf(before, 'classifier')).toEqual(Array.from({ length: before.length }, (_, i) => i + 1));
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThanOrEqual(kept);
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const after = readProgressLog(out);
    expect(epochsOf(after, 'classifier')).toEqual([1, 2, 3]);
    // The lines the first run wrote are kept as they were (their times included).
    expect(after.slice(0, before.length)).toEqual(before);
  }, LONG);

  it('a resume drops a torn last line and restores an epoch whose line the stop lost, from the checkpoint', async () => {
    const out = join(tmp('torn'), 'run');
    const args = (...extra: string[]) => parseArgs(['--cpu', '--model', 'vae-mlp', '--data', data, '--vae-epochs', '3', '--epochs', '2', '--batch', '16', '--quiet', ...extra]);
    const stopAfterVae2: Progress = {
      ...quiet,
      vaeEpoch: (r) => {
        if (r.epoch === 2) throw new Interrupt('stopped after VAE epoch 2 for the test');
      },
    };
    await expect(trainToDirectory(args('--out', out), { progress: stopAfterVae2 })).rejects.toBeInstanceOf(TrainingStoppedError);
    const path = join(out, 'progress.jsonl');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as ProgressLine).epoch)).toEqual([1, 2]);
    // As if the process died after VAE epoch 2's checkpoint, in the middle of writing its line.
    writeFileSync(path, `${lines[0]}\n${(lines[1] as string).slice(0, 25)}`);
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.run.vaeHistory?.map((h) => h.epoch)).toEqual([1, 2, 3]);
    const text = readFileSync(path, 'utf8');
    const after = text.trimEnd().split('\n').map((l) => JSON.parse(l) as ProgressLine);
    expect(after.map((l) => `${l.phase} ${l.epoch}${l.fromCheckpoint ? ' (from the checkpoint)' : ''}`)).toEqual([
      'vae 1',
      'vae 2 (from the checkpoint)',
      'vae 3',
      'classifier 1',
      'classifier 2',
    ]);
    const restored = after[1] as ProgressLine & { phase: 'vae' };
    expect(restored.loss).toBe(resumed.run.vaeHistory?.[1]?.loss);
    expect(restored.time).toBeUndefined();
  }, LONG);
});

describe('progress within an epoch', () => {
  const at: EpochAt = { phase: 'classifier', model: 'deepchrome', epoch: 3, epochs: 10 };

  /** A printer on a fake clock; `tty` picks the bar or the log lines. */
  function printer(tty: boolean, columns?: number) {
    const written: string[] = [];
    let t = 0;
    const p = progressPrinter(false, { write: (s) => written.push(s), tty, now: () => t, ...(columns !== undefined ? { columns } : {}) });
    return { p, written, at: (ms: number) => (t = ms) };
  }

  it('on a terminal: nothing for the first seconds, then a bar rewritten in place, replaced by the epoch line', () => {
    const { p, written, at: clock } = printer(true);
    const steps = p.steps as NonNullable<Progress['steps']>;
    clock(0);
    steps(at, 0, 100);
    clock(1000);
    steps(at, 10, 100);
    expect(written).toEqual([]);
    clock(4000);
    steps(at, 40, 100);
    clock(4100);
    steps(at, 41, 100);
    clock(8000);
    steps(at, 80, 100);
    expect(written).toEqual([
      `\r${stepsLine(at, 40, 100, 4000, true)}\x1b[K`,
      `\r${stepsLine(at, 80, 100, 8000, true)}\x1b[K`,
    ]);
    expect(written[0]).toBe('\r  deepchrome epoch 3 of 10  [##########..............]  40 of 100 steps (40%), 4 s, about 6 s left\x1b[K');
    p.epoch('deepchrome', { epoch: 3, trainLoss: 0.5, valid: { auroc: 0.75, aupr: 0.7, accuracy: 0.7, loss: 0.6 }, seconds: 9, genesPerSecond: 100 }, 10);
    expect(written.at(-1)).toBe('\r\x1b[K  deepchrome epoch   3/10  loss 0.5000  valid AUROC 0.7500  100 genes/s\n');
  });

  it('keeps the bar on one line of a narrow terminal', () => {
    const { p, written, at: clock } = printer(true, 40);
    const steps = p.steps as NonNullable<Progress['steps']>;
    steps(at, 0, 100);
    clock(5000);
    steps(at, 50, 100);
    expect(written[0]).toBe(`\r${stepsLine(at, 50, 100, 5000, true).slice(0, 39)}\x1b[K`);
  });

  it('in a log: a plain line at most every 10 s, none for the last step, and epoch lines as they were', () => {
    const { p, written, at: clock } = printer(false);
    const steps = p.steps as NonNullable<Progress['steps']>;
    steps(at, 0, 1000);
    for (let s = 1; s <= 1000; s++) {
      clock(s * 50);
      steps(at, s, 1000);
    }
    expect(written).toEqual([
      `${stepsLine(at, 60, 1000, 3000, false)}\n`,
      `${stepsLine(at, 260, 1000, 13000, false)}\n`,
      `${stepsLine(at, 460, 1000, 23000, false)}\n`,
      `${stepsLine(at, 660, 1000, 33000, false)}\n`,
      `${stepsLine(at, 860, 1000, 43000, false)}\n`,
    ]);
    expect(written[1]).toBe('  deepchrome epoch 3 of 10: 260 of 1000 steps (26%), 13 s, about 37 s left\n');
    expect(stepsLine({ ...at, phase: 'vae', model: 'vae' }, 10, 100, 150_000, false)).toBe('  vae epoch 3 of 10: 10 of 100 steps (10%), 2 min 30 s, about 22 min 30 s left');
    p.vaeEpoch({ epoch: 1, loss: 0.5, reconstruction: 0.4, kl: 2, seconds: 1, genesPerSecond: 10 }, 2);
    expect(written.at(-1)).toBe('  vae epoch   1/2  loss 0.50000  mse 0.40000  kl 2.000  10 genes/s\n');
  });

  it('--quiet: no step reports are asked for (the GPU then runs each epoch in one submit)', () => {
    expect(progressPrinter(true).steps).toBeUndefined();
  });

  it('a run reports the steps of every epoch from 0 to the last, VAE and classifier, on the CPU', async () => {
    const root = tmp('steps');
    await writeSynthetic(root, { genes: 40, seed: 32, bins: 6, cell: 'SYNTHETIC-S' });
    const reports: { at: EpochAt; done: number; total: number }[] = [];
    await trainToDirectory(
      parseArgs(['--cpu', '--model', 'vae-mlp', '--data', join(root, 'SYNTHETIC-S'), '--vae-epochs', '2', '--epochs', '2', '--batch', '4', '--out', join(root, 'run'), '--quiet']),
      { progress: { ...quiet, steps: (a, done, total) => reports.push({ at: a, done, total }) } },
    );
    const epochs = [...new Set(reports.map((r) => `${r.at.phase} ${r.at.model} ${r.at.epoch}/${r.at.epochs}`))];
    expect(epochs).toEqual(['vae vae 1/2', 'vae vae 2/2', 'classifier vae-mlp 1/2', 'classifier vae-mlp 2/2']);
    for (const e of epochs) {
      const mine = reports.filter((r) => `${r.at.phase} ${r.at.model} ${r.at.epoch}/${r.at.epochs}` === e);
      const total = mine[0]?.total as number;
      expect(mine[0]?.done, e).toBe(0);
      expect(mine.at(-1)?.done, e).toBe(total);
      for (let i = 1; i < mine.length; i++) expect((mine[i] as { done: number }).done).toBeGreaterThan((mine[i - 1] as { done: number }).done);
    }
  }, LONG);

  it('on the GPU the watched epoch runs as several submits, to the same model as one submit', async () => {
    const root = tmp('gpu');
    await writeSynthetic(root, { genes: 40, seed: 36, bins: 6, cell: 'SYNTHETIC-U' });
    const gpu = await getGpu();
    const device = { device: { kind: 'gpu' as const, gpu }, name: gpu.adapterName, release: () => {} };
    const args = (out: string) => parseArgs(['--gpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-U'), '--epochs', '2', '--batch', '4', '--out', out, '--quiet']);
    const reports: number[] = [];
    const watched = await trainToDirectory(args(join(root, 'watched')), { progress: { ...quiet, steps: (_a, done) => reports.push(done) }, device });
    const plain = await trainToDirectory(args(join(root, 'plain')), { progress: quiet, device });
    // 40 labeled genes, batch 4: 10 steps an epoch, each reported as the device finishes it.
    expect(reports).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(readFileSync(join(watched.out, 'predictions.csv'), 'utf8')).toBe(readFileSync(join(plain.out, 'predictions.csv'), 'utf8'));
    expect(watched.run.result.history.map((h) => h.trainLoss)).toEqual(plain.run.result.history.map((h) => h.trainLoss));
  }, LONG);
});

describe('loss.svg', () => {
  it('draws the validation AUROC per epoch below the losses', async () => {
    const root = tmp('plot');
    await writeSynthetic(root, { genes: 30, seed: 33, bins: 4, cell: 'SYNTHETIC-P' });
    const out = join(root, 'run');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-P'), '--epochs', '3', '--batch', '8', '--out', out, '--quiet']), { progress: quiet });
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { history: { epoch: number; valid: { auroc: number } }[] };
    const points = [...svg.matchAll(/aria-label="epoch: (\d+); validation AUROC: ([^;"]+); series: validation AUROC" role="graphics-symbol" aria-roledescription="point"/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(points.map(([e]) => e)).toEqual([1, 2, 3]);
    for (const [e, v] of points) expect(v).toBeCloseTo(metrics.history[(e as number) - 1]?.valid.auroc as number, 3);
    expect(svg).toContain('>validation AUROC</text>');
    expect(svg).toContain('loss and validation AUROC per epoch');
    // The losses stay in their own panel, with their own legend.
    expect(svg).toContain('>binary cross-entropy</text>');
    expect(svg).toContain('>train</text>');
  }, LONG);

  it('labels the score Pearson for --target expression', async () => {
    const out = tmp('plot-expression');
    const valid = (pearson: number) => ({ mse: 0.5, pearson, spearman: 0.4, loss: 0.5 });
    const history = [1, 2].map((epoch) => ({ epoch, trainLoss: 0.6 / epoch, valid: valid(0.3 * epoch), seconds: 1, genesPerSecond: 1 }));
    await writeRunPlots(out, { model: 'mlp', cell: 'X', history, bestEpoch: 2, test: valid(0.5), testLabels: [0.1, 0.5, 1.2], testPredictions: [0.2, 0.4, 1.0] });
    const svg = readFileSync(join(out, 'loss.svg'), 'utf8');
    expect(svg).toContain('>validation Pearson</text>');
    expect(svg).toContain('aria-label="epoch: 2; validation Pearson: 0.6; series: validation Pearson"');
    expect(svg).toContain('>mean squared error</text>');
    expect(svg).not.toContain('AUROC');
  });
});

describe('a run that learnt nothing', () => {
  const context = { model: 'mlp', labeledGenes: 100, trainingGenes: 200, lr: 0.001, epochs: 2, normalize: 'log1p-max' } as const;
  const varied = Float32Array.from([0.2, 0.7, 0.4]);

  it('warns when the best validation AUROC is at or below chance, saying what to try', () => {
    const [w, ...more] = runWarnings({ valid: { auroc: 0.5, aupr: 0.5, accuracy: 0.5, loss: 0.7 }, testPredictions: varied }, context);
    expect(more).toEqual([]);
    expect(w).toBe(
      'the best validation AUROC is 0.5000, no better than chance (0.5): the model learnt nothing that carries over to genes it did not train on; ' +
        'try more labeled genes (it trained on 100 of 200: raise --train-size), another learning rate (--lr 0.001: lower it if the loss jumps about, ' +
        'raise it if the loss barely moves), more epochs (--epochs 2), another input scaling (--normalize log1p-max)',
    );
    expect(runWarnings({ valid: { auroc: 0.5001, aupr: 0.5, accuracy: 0.5, loss: 0.7 }, testPredictions: varied }, context)).toEqual([]);
    // A linear model has no learning rate or epochs to try; one that used every gene is told so.
    const linear = runWarnings({ valid: { auroc: 0.42, aupr: 0.5, accuracy: 0.5, loss: 0.7 }, testPredictions: varied }, { ...context, model: 'logreg', labeledGenes: 200 });
    expect(linear).toEqual([
      'the best validation AUROC is 0.4200, no better than chance (0.5): the model learnt nothing that carries over to genes it did not train on; ' +
        "try more labeled genes (it trained on all 200 of this cell's: too few for this model: try one with fewer parameters, such as a linear one), another input scaling (--normalize log1p-max)",
    ]);
  });

  it('warns on a validation Pearson at or below 0, or undefined (--target expression)', () => {
    const scores = (pearson: number) => ({ mse: 1, pearson, spearman: 0, loss: 1 });
    expect(runWarnings({ valid: scores(0.3), testPredictions: varied }, context)).toEqual([]);
    expect(runWarnings({ valid: scores(-0.1), testPredictions: varied }, context)[0]).toMatch(/^the best validation Pearson is -0\.1000, no better than chance \(0\)/);
    expect(runWarnings({ valid: scores(Number.NaN), testPredictions: varied }, context)[0]).toMatch(/^the best validation Pearson is undefined \(the predictions do not vary\)/);
  });

  it('warns when every test gene gets the same prediction', () => {
    expect(isConstant([0.25, 0.25, 0.25])).toBe(true);
    expect(isConstant([0.25, 0.25 + 1e-9])).toBe(true);
    expect(isConstant([0.25, 0.26])).toBe(false);
    const w = runWarnings({ valid: { auroc: 0.8, aupr: 0.8, accuracy: 0.8, loss: 0.5 }, testPredictions: Float32Array.from([0.25, 0.25]) }, context);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^every test gene got the same prediction \(0\.250000\): the model's output does not depend on its input .*; try more labeled genes/);
  });

  it('a run on inputs that carry nothing ends with both warnings on stderr, and metrics.json records them', async () => {
    const root = tmp('flat');
    await writeSynthetic(root, { genes: 30, seed: 34, bins: 4, cell: 'SYNTHETIC-F' });
    // Every mark the same count in every bin of every gene: no model can tell the genes apart.
    const dir = join(root, 'SYNTHETIC-F', 'classification');
    for (const f of readdirSync(dir)) {
      const rows = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n');
      writeFileSync(join(dir, f), `${rows.map((r) => { const c = r.split(','); return [c[0], c[1], 3, 3, 3, 3, 3, c[7]].join(','); }).join('\n')}\n`);
    }
    const out = join(root, 'run');
    const r = await runMain(['train', '--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-F'), '--epochs', '2', '--batch', '8', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { warnings: string[]; valid: { auroc: number } };
    expect(metrics.valid.auroc).toBe(0.5);
    expect(metrics.warnings).toHaveLength(2);
    expect(metrics.warnings[0]).toMatch(/^the best validation AUROC is 0\.5000, no better than chance/);
    expect(metrics.warnings[1]).toMatch(/^every test gene got the same prediction/);
    // Last on stderr, after the epoch lines.
    expect(r.stderr.endsWith(`${metrics.warnings.map((w) => `warning: ${w}`).join('\n')}\n`)).toBe(true);
  }, LONG);

  it('a run that learnt something has no warnings', async () => {
    const root = tmp('fine');
    await writeSynthetic(root, { genes: 60, seed: 35, bins: 6, cell: 'SYNTHETIC-G' });
    const out = join(root, 'run');
    await trainToDirectory(parseArgs(['--cpu', '--model', 'logreg', '--data', join(root, 'SYNTHETIC-G'), '--out', out, '--quiet']), { progress: quiet });
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { warnings: string[]; valid: { auroc: number } };
    expect(metrics.valid.auroc).toBeGreaterThan(0.5);
    expect(metrics.warnings).toEqual([]);
    expect(existsSync(join(out, 'progress.jsonl'))).toBe(true);
  }, LONG);
});
