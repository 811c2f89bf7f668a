import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/dataset.ts';
import { acquireGpu, GpuUnavailableError } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { selfCheck } from '../selfCheck.ts';
import { selfCheckCases } from '../selfCheckCases.ts';
import { type CliOptions, parseArgs, UsageError } from './args.ts';
import { runExperiment } from './experiment.ts';
import { HELP } from './help.ts';
import { table, writeRunFiles } from './outputs.ts';
import { type Device, runModel } from './runModel.ts';
import { err, loadData, progressPrinter, settingsOf } from './session.ts';

async function deviceFor(o: CliOptions): Promise<{ device: Device; name: string; release: () => void }> {
  if (o.device === 'cpu') return { device: { kind: 'cpu' }, name: 'CPU reference path', release: () => {} };
  const gpu = await acquireGpu();
  return { device: { kind: 'gpu', gpu }, name: gpu.adapterName, release: () => gpu.destroy() };
}

async function train(o: CliOptions): Promise<number> {
  const t0 = performance.now();
  const data = await loadData(o);
  const ds = data.dataset;
  const { device, name, release } = await deviceFor(o);
  err(`simplechrome: ${o.model} on ${ds.cell} (${ds.genes} genes × ${ds.bins} bins × ${ds.marks.length} marks), ${o.device.toUpperCase()}: ${name}`);
  const settings = settingsOf(o);
  const tLoaded = performance.now();
  try {
    const run = await runModel(ds, settings, device, progressPrinter(o.quiet));
    const r = run.result;
    const out = o.out ?? join('runs', `${ds.cell}-${o.model}-n${o.trainSize ?? 'all'}-seed${o.seed}`);
    const metrics = {
      model: o.model,
      cell: ds.cell,
      data: { ...data.source, genes: ds.genes, bins: ds.bins, marks: ds.marks },
      labeledTrainingGenes: run.labeledGenes,
      validGenes: run.split.valid.length,
      testGenes: run.split.test.length,
      config: { ...settings, normalize: o.normalize },
      device: { kind: o.device, adapter: name },
      parameters: run.parameters,
      normalization: data.normalization,
      ...(run.neighbors ? { neighbors: run.neighbors } : {}),
      ...(run.vaeHistory ? { vaeHistory: run.vaeHistory } : {}),
      history: r.history,
      bestEpoch: r.bestEpoch,
      valid: r.valid,
      test: r.test,
      timings: {
        loadSeconds: (tLoaded - t0) / 1000,
        vaeSeconds: run.seconds.vae,
        classifierSeconds: run.seconds.classifier,
        totalSeconds: (performance.now() - t0) / 1000,
      },
      synthetic: data.source.synthetic,
    };
    await writeRunFiles(out, metrics, ds, run.split.test, r.testProbabilities);
    const f = (x: number) => x.toFixed(4);
    process.stdout.write(
      `${table(
        ['model', 'cell', 'labeled genes', 'best epoch', 'valid AUROC', 'test AUROC', 'test AUPR', 'test accuracy'],
        [[o.model, ds.cell, String(run.labeledGenes), String(r.bestEpoch), f(r.valid.auroc), f(r.test.auroc), f(r.test.aupr), f(r.test.accuracy)]],
      )}\n`,
    );
    process.stdout.write(`${data.source.synthetic ? 'SYNTHETIC data: these numbers mean nothing. ' : ''}wrote ${join(out, 'metrics.json')} and ${join(out, 'predictions.csv')}\n`);
    return 0;
  } finally {
    release();
  }
}

async function check(): Promise<number> {
  const gpu = await acquireGpu();
  process.stdout.write(`adapter: ${gpu.adapterName}\n`);
  const results = await selfCheck(gpu, selfCheckCases());
  const width = Math.max(...results.map((r) => r.kernel.length));
  for (const r of results) {
    process.stdout.write(`  ${r.kernel.padEnd(width)}  max rel error ${r.error.toExponential(2)}  ${r.ok ? 'ok' : 'FAILED'}\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(failed === 0 ? `all ${results.length} kernels agree with the CPU reference\n` : `${failed} kernels disagree\n`);
  gpu.destroy();
  return failed === 0 ? 0 : 1;
}

/** Returns the exit code; expected failures end in one clear line, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const o = parseArgs(argv);
    if (o.command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (o.command === 'self-check') return await check();
    if (o.data !== undefined && !existsSync(o.data) && !existsSync(`${o.data}.train.csv.gz`) && !existsSync(`${o.data}.train.csv`)) {
      throw new UsageError(`--data ${o.data}: no such file or directory`);
    }
    if (o.command === 'experiment') return await runExperiment(o);
    return await train(o);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`simplechrome: ${e.message}`);
      return 2;
    }
    if (e instanceof DataError || e instanceof GpuUnavailableError || e instanceof GpuError || e instanceof Error) {
      err(`simplechrome: ${e.message}`);
      if (process.env.SIMPLECHROME_DEBUG) err(e.stack ?? '');
      return 1;
    }
    throw e;
  }
}
