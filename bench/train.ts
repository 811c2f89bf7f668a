// Training benchmark: one step and one epoch of each model, ours against the
// same model in TensorFlow.js layers on its WebGPU backend, on the same
// adapter in the same run; plus the machine-independent figures our executor
// counts (and the same figures for TF.js, from its WebGPU calls).
//
//   npx tsx bench/train.ts [--models vae,mlp,deepchrome,attentivechrome] [--batches 64,256]
//                          [--epochs N] [--steps N] [--data PREFIX | --synthetic GENES [--bins N]]
//                          [--no-tfjs] [--pytorch cpu|cuda [--python PATH] [--pytorch-threads N]]
//                          [--json FILE]
//
// Data: the real E003 sample (../shared/datasets/derived_deepchrome_format/
// E003_sample600, its 200 training genes, log1p-max as the CLI) when present,
// else --synthetic genes of random values of the same shape (100 bins × 5
// marks), said in the output. An epoch is one pass over the training genes,
// wrapped to whole batches (so at batch 256, 200 genes make one step of 256).
// Per model and batch, for each engine: one warm-up step; --epochs timed
// epochs (median; wall clock from the order upload to the loss read; the
// first one's WebGPU calls counted); --steps timed single steps (median;
// submit to done, queue drained first; GPU time from timestamps where the
// adapter has them: ours one pass, TF.js tf.time()'s per-kernel passes).
// On a software adapter the defaults are batch 64 only, 1 epoch, 2 steps, to
// keep the run to minutes; pass --batches 64,256 for both.
// genes/s = genes trained per second (epoch: steps × batch / epoch time).
// --pytorch runs bench/pytorch_train.py afterwards on the same data, models and
// batches (at least 5 epochs and 20 steps: it is cheap) and prints our time ÷
// PyTorch's per step and per epoch, refusing models whose sizes differ.

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { acquireGpu, type Gpu } from '../src/gpu/device.ts';
import { VariantPolicy, variantModeFrom } from '../src/plan/autotune.ts';
import { type ExecutorStats } from '../src/plan/gpuExecutor.ts';
import { T } from '../src/train/classifierPlan.ts';
import { seededRandom } from '../src/util/random.ts';
import { type BenchData, epochOrder, hasRealSample, realData, syntheticData } from './lib/benchData.ts';
import { BENCH_MODELS, type BenchModel, buildOurTrainer, segmentDispatches, statsDelta } from './lib/ourTraining.ts';
import { Flags, describeRun, markdownTable, median, ratio, runInfo, sig } from './lib/report.ts';
import { PYTHON_CANDIDATES, type PytorchDevice, type PytorchRun, findPython, matchingRow, runPytorch } from './lib/pytorchPeer.ts';
import { buildTfjsTrainer } from './lib/tfjsModels.ts';
import { type TfjsWebgpu, startTfjsWebgpu } from './lib/tfjsWebgpu.ts';
import { type CallCounts, counted, installCallCounters } from './lib/webgpuCalls.ts';

const DEFAULT_REAL = fileURLToPath(new URL('../../shared/datasets/derived_deepchrome_format/E003_sample600', import.meta.url));
const SEED = 1;

interface EngineResult {
  readonly parameters: number;
  readonly stepMs: number;
  readonly stepGpuMs: number | undefined;
  readonly epochS: number;
  /** CPU seconds of this process (all threads: SwiftShader's too) per epoch, median; ours only. */
  readonly epochCpuS?: number;
  /** The WebGPU calls of the first timed epoch (the same instrument for both engines). */
  readonly calls: CallCounts;
  /** Ours only: GpuExecutor.stats over the same epoch. */
  readonly executor?: ExecutorStats;
  readonly dispatchesPerStep: number;
  readonly loss: number;
}

interface Row {
  readonly model: BenchModel;
  readonly batch: number;
  readonly steps: number;
  readonly ours: EngineResult;
  readonly tfjs?: EngineResult;
  readonly tfjsError?: string;
}

function genesPerSecond(genes: number, seconds: number): number {
  return genes / seconds;
}

async function runOurs(gpu: Gpu, model: BenchModel, data: BenchData, batch: number, epochs: number, steps: number, variants: VariantPolicy): Promise<{ r: EngineResult; planDispatches: number }> {
  const t = await buildOurTrainer(gpu, model, data, batch, SEED, undefined, variants);
  try {
    const random = seededRandom(SEED);
    const { exec } = t;
    const snapshot = (): ExecutorStats => ({ ...exec.stats });
    // Warm-up: one step (the pipelines exist already; this is the first use of each).
    let before = snapshot();
    await exec.run(1, 'train');
    await exec.finish();
    const dispatchesPerStep = statsDelta(exec.stats, before).dispatches;
    const epochTimes: number[] = [];
    const epochCpu: number[] = [];
    let calls: CallCounts | undefined;
    let executor: ExecutorStats | undefined;
    let loss = Number.NaN;
    for (let e = 0; e < epochs; e++) {
      const order = epochOrder(data.train, batch, random);
      before = snapshot();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const c = await counted(() => t.epoch(order));
      epochTimes.push((performance.now() - t0) / 1000);
      const cpu = process.cpuUsage(cpu0);
      epochCpu.push((cpu.user + cpu.system) / 1e6);
      if (e === 0) {
        calls = c.counts;
        executor = statsDelta(exec.stats, before);
        loss = c.result;
      }
    }
    const wall: number[] = [];
    const gpuTimes: number[] = [];
    for (let s = 0; s < steps; s++) {
      exec.write(T.trainCursor, [0]);
      const r = await exec.timedRun(1, 'train');
      wall.push(r.wallMs);
      if (r.gpuMs !== undefined) gpuTimes.push(r.gpuMs);
    }
    return {
      planDispatches: segmentDispatches(t.plan, 'train', t.target),
      r: {
        parameters: t.parameters,
        stepMs: median(wall),
        stepGpuMs: gpuTimes.length === steps ? median(gpuTimes) : undefined,
        epochS: median(epochTimes),
        epochCpuS: median(epochCpu),
        calls: calls as CallCounts,
        ...(executor ? { executor } : {}),
        dispatchesPerStep,
        loss,
      },
    };
  } finally {
    t.destroy();
  }
}

async function runTfjs(tfjs: TfjsWebgpu, model: BenchModel, data: BenchData, batch: number, epochs: number, steps: number): Promise<EngineResult> {
  const t = buildTfjsTrainer(tfjs, model, data, batch);
  try {
    const random = seededRandom(SEED);
    // Warm-up: one step compiles TF.js's pipelines and uploads the weights.
    t.step();
    await tfjs.sync();
    const epochTimes: number[] = [];
    let calls: CallCounts | undefined;
    let loss = Number.NaN;
    for (let e = 0; e < epochs; e++) {
      const order = epochOrder(data.train, batch, random);
      await tfjs.sync();
      const t0 = performance.now();
      // The loss read at the end waits for every step: the queue runs in order.
      const c = await counted(() => t.epoch(order));
      epochTimes.push((performance.now() - t0) / 1000);
      if (e === 0) {
        calls = c.counts;
        loss = c.result;
      }
    }
    const wall: number[] = [];
    let stepCalls: CallCounts | undefined;
    for (let s = 0; s < steps; s++) {
      await tfjs.sync();
      const t0 = performance.now();
      const c = await counted(async () => {
        t.step();
        await tfjs.sync();
      });
      wall.push(performance.now() - t0);
      stepCalls ??= c.counts;
    }
    const gpuTimes: number[] = [];
    if (tfjs.hasTimestamps) {
      for (let s = 0; s < steps; s++) {
        const info = await tfjs.tf.time(() => t.step());
        if (typeof info.kernelMs === 'number') gpuTimes.push(info.kernelMs);
      }
    }
    return {
      parameters: t.parameters,
      stepMs: median(wall),
      stepGpuMs: gpuTimes.length === steps ? median(gpuTimes) : undefined,
      epochS: median(epochTimes),
      calls: calls as CallCounts,
      dispatchesPerStep: (stepCalls as CallCounts).dispatches,
      loss,
    };
  } finally {
    t.dispose();
  }
}

function throughputTable(rows: readonly Row[]): string {
  const header = [
    'model',
    'batch',
    'steps/epoch',
    'ours step ms',
    'ours step GPU ms',
    'ours genes/s (step)',
    'TF.js step ms',
    'TF.js genes/s (step)',
    'step: ours / TF.js',
    'ours epoch s',
    'ours genes/s (epoch)',
    'TF.js epoch s',
    'TF.js genes/s (epoch)',
    'epoch: ours / TF.js',
  ];
  const body = rows.map((r) => {
    const genes = r.steps * r.batch;
    const oStep = genesPerSecond(r.batch, r.ours.stepMs / 1000);
    const tStep = r.tfjs ? genesPerSecond(r.batch, r.tfjs.stepMs / 1000) : undefined;
    const oEpoch = genesPerSecond(genes, r.ours.epochS);
    const tEpoch = r.tfjs ? genesPerSecond(genes, r.tfjs.epochS) : undefined;
    return [
      r.model,
      String(r.batch),
      String(r.steps),
      sig(r.ours.stepMs),
      sig(r.ours.stepGpuMs),
      sig(oStep),
      r.tfjsError ? 'failed' : sig(r.tfjs?.stepMs),
      sig(tStep),
      ratio(oStep, tStep),
      sig(r.ours.epochS),
      sig(oEpoch),
      sig(r.tfjs?.epochS),
      sig(tEpoch),
      ratio(oEpoch, tEpoch),
    ];
  });
  return markdownTable(header, body);
}

function countersTable(rows: readonly Row[]): string {
  const header = [
    'model',
    'batch',
    'engine',
    'parameters',
    'dispatches/step',
    'dispatches/epoch',
    'queue submits/epoch',
    'host reads/epoch',
    'bytes uploaded/epoch',
    'executor stats/epoch: submits, host reads, bytes uploaded',
  ];
  const body: string[][] = [];
  for (const r of rows) {
    const engines: [string, EngineResult | undefined][] = [
      ['ours', r.ours],
      ['TF.js', r.tfjs],
    ];
    for (const [name, e] of engines) {
      if (!e) continue;
      const x = e.executor;
      body.push([
        r.model,
        String(r.batch),
        name,
        e.parameters.toLocaleString('en-US'),
        String(e.dispatchesPerStep),
        String(e.calls.dispatches),
        String(e.calls.submits),
        String(e.calls.hostReads),
        e.calls.bytesUploaded.toLocaleString('en-US'),
        x ? `${x.submits}, ${x.hostReads}, ${x.bytesUploaded.toLocaleString('en-US')}` : '—',
      ]);
    }
  }
  return markdownTable(header, body);
}

function pytorchTable(rows: readonly Row[], pt: PytorchRun): string {
  const header = [
    'model',
    'batch',
    'steps/epoch',
    'parameters',
    'ours step ms',
    'PyTorch step ms',
    'step time: ours ÷ PyTorch',
    'ours epoch s',
    'PyTorch epoch s',
    'epoch time: ours ÷ PyTorch',
    'ours epoch CPU s',
    'PyTorch epoch CPU s',
    'epoch CPU time: ours ÷ PyTorch',
  ];
  const body = rows.map((r) => {
    const p = matchingRow(pt, r.model, r.batch, r.ours.parameters, r.steps);
    return [
      r.model,
      String(r.batch),
      String(r.steps),
      r.ours.parameters.toLocaleString('en-US'),
      sig(r.ours.stepMs),
      sig(p.stepMs),
      ratio(r.ours.stepMs, p.stepMs),
      sig(r.ours.epochS),
      sig(p.epochS),
      ratio(r.ours.epochS, p.epochS),
      sig(r.ours.epochCpuS),
      sig(p.epochCpuS),
      ratio(r.ours.epochCpuS, p.epochCpuS),
    ];
  });
  return markdownTable(header, body);
}

function targets(rows: readonly Row[], software: boolean, pt: PytorchRun | undefined, ptDevice: PytorchDevice | undefined): string {
  const lines: string[] = ['Issue targets (reported, not asserted):'];
  for (const r of rows.filter((x) => x.model === 'vae')) {
    lines.push(
      `- VAE step at batch ${r.batch}: ${r.ours.dispatchesPerStep} dispatches (target ≤ 30: ${r.ours.dispatchesPerStep <= 30 ? 'met' : 'NOT met'}); ` +
        `${r.ours.executor?.hostReads} host read(s) and ${r.ours.executor?.submits} plan submit(s) per epoch (target: no host read inside an epoch, only the loss read at its end: ${(r.ours.executor?.hostReads ?? 2) <= 1 ? 'met' : 'NOT met'})`,
    );
  }
  for (const r of rows) {
    if (!r.tfjs) continue;
    const x = r.tfjs.epochS / r.ours.epochS;
    lines.push(`- ${r.model} batch ${r.batch}: epoch throughput ${sig(x)}× TF.js on the same adapter (target ≥ 5×: ${x >= 5 ? 'met' : 'NOT met'})`);
  }
  if (pt && ptDevice === 'cuda') {
    for (const r of rows) {
      const p = matchingRow(pt, r.model, r.batch, r.ours.parameters, r.steps);
      const x = r.ours.epochS / p.epochS;
      lines.push(`- ${r.model} batch ${r.batch}: epoch time ${sig(x)}× PyTorch eager on CUDA (target ≤ 1×: ${x <= 1 ? 'met' : 'NOT met'})`);
    }
  } else {
    lines.push(
      software
        ? '- Epoch vs PyTorch eager on CUDA: not measurable on this software adapter (see bench/device/ for the H200 runner).'
        : '- Epoch vs PyTorch eager on CUDA: say --pytorch cuda (bench/pytorch_train.py on this machine).',
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const flags = new Flags('bench/train.ts', process.argv.slice(2), {
    '--models': 'value',
    '--batches': 'value',
    '--epochs': 'value',
    '--steps': 'value',
    '--data': 'value',
    '--synthetic': 'value',
    '--bins': 'value',
    '--no-tfjs': 'switch',
    '--pytorch': 'value',
    '--python': 'value',
    '--pytorch-threads': 'value',
    '--json': 'value',
  });
  const ptDeviceFlag = flags.string('--pytorch');
  if (ptDeviceFlag !== undefined && ptDeviceFlag !== 'cpu' && ptDeviceFlag !== 'cuda') {
    throw new Error(`bench/train.ts: --pytorch ${ptDeviceFlag}: give cpu or cuda`);
  }
  const ptDevice: PytorchDevice | undefined = ptDeviceFlag;
  if (ptDevice === undefined && (flags.has('--python') || flags.has('--pytorch-threads'))) {
    throw new Error('bench/train.ts: --python and --pytorch-threads go with --pytorch cpu|cuda');
  }
  // Found before the long part of the run, so a missing torch fails in seconds.
  const python = ptDevice ? findPython(flags.has('--python') ? [flags.string('--python') as string] : PYTHON_CANDIDATES) : undefined;
  const ptThreads = flags.has('--pytorch-threads') ? flags.int('--pytorch-threads', 1) : undefined;
  const gpu = await acquireGpu();
  // GEMM variants as run.ts chooses them (tuned once per adapter, cached).
  const variants = new VariantPolicy(gpu, { mode: variantModeFrom(undefined), log: (l) => console.error(l) });
  const info = runInfo(gpu);
  const models = flags.list('--models', BENCH_MODELS, BENCH_MODELS) as BenchModel[];
  const batches = flags.ints('--batches', gpu.isSoftware ? [64] : [64, 256]);
  const epochs = flags.int('--epochs', gpu.isSoftware ? 1 : 5);
  const steps = flags.int('--steps', gpu.isSoftware ? 2 : 20);
  if (flags.has('--data') && flags.has('--synthetic')) throw new Error('bench/train.ts: give --data or --synthetic, not both');
  const prefix = flags.string('--data') ?? DEFAULT_REAL;
  let data: BenchData;
  let dataNote = '';
  // An LSTM's cost grows with the bins: fewer of them let a slow engine finish (attentivechrome's TF.js twin on SwiftShader).
  if (flags.has('--bins') && !flags.has('--synthetic')) throw new Error('bench/train.ts: --bins is for --synthetic data (the real data has its own)');
  if (flags.has('--synthetic')) data = syntheticData(flags.int('--synthetic', 600, 2), 7, flags.int('--bins', 100, 10));
  else if (hasRealSample(prefix)) data = await realData(prefix);
  else if (flags.has('--data')) throw new Error(`bench/train.ts: --data ${prefix}: no ${prefix}.{train,valid,test}.csv.gz`);
  else {
    data = syntheticData(200);
    dataNote = ` (the real sample is not at ${prefix})`;
  }

  console.log('# Training benchmark: simplechrome vs TensorFlow.js layers (WebGPU backend)\n');
  console.log(describeRun(info));
  console.log(`data: ${data.description}${dataNote}`);
  let tfjs: TfjsWebgpu | undefined;
  let tfjsError: string | undefined;
  if (flags.has('--no-tfjs')) tfjsError = 'not run (--no-tfjs)';
  else {
    const started = await startTfjsWebgpu(gpu);
    if ('error' in started) tfjsError = started.error;
    else tfjs = started;
  }
  installCallCounters();
  console.log(tfjs ? `TF.js ${tfjs.version} (layers), WebGPU backend, adapter "${tfjs.adapterName}"` : `TF.js: NOT RUN: ${tfjsError}`);
  console.log(`models ${models.join(', ')} · batches ${batches.join(', ')} · ${epochs} timed epoch(s), ${steps} timed step(s) per engine after one warm-up step\n`);

  const rows: Row[] = [];
  for (const model of models) {
    for (const batch of batches) {
      const ours = await runOurs(gpu, model, data, batch, epochs, steps, variants);
      if (ours.r.dispatchesPerStep !== ours.planDispatches) {
        throw new Error(`bench: ${model} ran ${ours.r.dispatchesPerStep} dispatches in a step, its plan has ${ours.planDispatches}`);
      }
      let row: Row = { model, batch, steps: Math.ceil(data.train.length / batch), ours: ours.r };
      if (tfjs) {
        try {
          row = { ...row, tfjs: await runTfjs(tfjs, model, data, batch, epochs, steps) };
        } catch (e) {
          row = { ...row, tfjsError: e instanceof Error ? e.message : String(e) };
        }
      }
      rows.push(row);
      const genes = row.steps * batch;
      console.log(
        `${model.padEnd(10)} batch ${String(batch).padEnd(4)} ours: step ${sig(row.ours.stepMs)} ms, epoch ${sig(row.ours.epochS)} s (${sig(genes / row.ours.epochS)} genes/s), ` +
          `${row.ours.dispatchesPerStep} dispatches/step, loss ${sig(row.ours.loss)}` +
          (row.tfjs
            ? ` | TF.js: step ${sig(row.tfjs.stepMs)} ms, epoch ${sig(row.tfjs.epochS)} s (${sig(genes / row.tfjs.epochS)} genes/s), ${row.tfjs.dispatchesPerStep} dispatches/step, loss ${sig(row.tfjs.loss)}`
            : row.tfjsError
              ? ` | TF.js failed: ${row.tfjsError}`
              : ''),
      );
    }
  }
  let pt: PytorchRun | undefined;
  if (ptDevice && python) {
    console.log(`\nPyTorch (${python}, --device ${ptDevice}), after ours on the same data …`);
    pt = runPytorch({
      python,
      device: ptDevice,
      models,
      batches,
      data: data.real ? { prefix } : { genes: data.genes, bins: data.bins },
      epochs: Math.max(epochs, 5),
      steps: Math.max(steps, 20),
      ...(ptThreads !== undefined ? { threads: ptThreads } : {}),
    });
  }
  const loadEnd = loadavg();
  console.log(`\n${describeRun(info, loadEnd)}`);
  console.log(`data: ${data.description}${dataNote}\n`);
  console.log(throughputTable(rows));
  console.log('');
  console.log(countersTable(rows));
  console.log(
    '\nCounters: dispatches/step is ours from GpuExecutor.stats, TF.js from its calls; the per-epoch columns count both engines\' WebGPU calls (dispatchWorkgroups, queue.submit, mapAsync for reading, ' +
      'writeBuffer and mapped-at-creation bytes); the last column is our GpuExecutor.stats (plan submits; the loss read\'s copy is its host read). ' +
      'An epoch here is: upload the shuffled order, all steps, read the summed loss.\n',
  );
  if (pt) {
    console.log(
      `\n## Against PyTorch ${pt.torch}, eager, ${pt.device}\n\n` +
        `PyTorch: ${pt.epochs} timed epochs and ${pt.steps} timed steps (median) after 3 warm-up steps, same data, models and Adam; ` +
        `ours as above. A time ratio above 1× means ours is slower. ` +
        'CPU time is all threads of each process over the epoch (ours: Node and SwiftShader; PyTorch: its intra-op threads); ' +
        'beside the wall clock it shows how much of an epoch each process waited for the cores.\n',
    );
    console.log(pytorchTable(rows, pt));
    console.log('');
  }
  console.log(targets(rows, gpu.isSoftware, pt, ptDevice));
  const json = flags.string('--json');
  if (json !== undefined) {
    writeFileSync(
      json,
      `${JSON.stringify({ bench: 'train', info, loadAtEnd: loadEnd, data: data.description, epochs, steps, tfjs: tfjs ? { version: tfjs.version, adapter: tfjs.adapterName } : { error: tfjsError }, ...(pt ? { pytorch: pt } : {}), rows }, null, 2)}\n`,
    );
  }
  gpu.destroy();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
