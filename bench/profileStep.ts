// One training step of the VAE (or vae-m2, or attentivechrome), kernel by kernel, on this adapter:
// each dispatch of the plan's train segment timed alone (GpuExecutor.profile),
// the median of several passes, with every GEMM's shape, layout, variant and
// rate. Rerun before and after a kernel change to see where the step's time went.
//
//   npx tsx bench/profileStep.ts [--model vae|vae-m2|attentivechrome] [--data DIR_OR_PREFIX | --synthetic GENES [--bins 100]]
//                                [--batch 64] [--passes 5] [--gemm heuristic|tune|VARIANT] [--json FILE] [--epoch [--steps N]]
//
// --synthetic GENES profiles GENES genes of --bins bins × 5 marks instead of a data set (a kernel's work depends on
// the shape only): e.g. E116's 21 bins for attentivechrome.
//
// --epoch also times one whole epoch (vae only): every train and valid gene once, one submit, as training runs it;
// --steps N times only its first N steps (for alternating two checkouts in short turns on a shared machine).

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadCell } from '../src/data/loadCell.ts';
import { acquireGpu } from '../src/gpu/device.ts';
import type { GemmShape, GemmVariant, GpuTarget } from '../src/kernels/gpuTarget.ts';
import { m2Model } from '../src/models/vaeM2.ts';
import { vaeModel } from '../src/models/vae.ts';
import { ATTENTIVE_CHROME_HIDDEN, attentiveChromeModel } from '../src/models/attentiveChrome.ts';
import { buildClassifierPlan } from '../src/train/classifierPlan.ts';
import { ATTENTIVE_CLIP, ATTENTIVE_LR } from './lib/ourTraining.ts';
import { ADAM_M, ADAM_V, GRADS, PARAMS } from '../src/nn/parameters.ts';
import { VariantPolicy, parseVariantMode } from '../src/plan/autotune.ts';
import { GpuExecutor } from '../src/plan/gpuExecutor.ts';
import type { Plan } from '../src/plan/plan.ts';
import { buildM2Plan, m2Weights } from '../src/train/m2Plan.ts';
import { buildVaePlan } from '../src/train/vaePlan.ts';
import { epochOrder, seededRandom, uniformArray } from '../src/util/random.ts';
import { SPLIT_CODES } from '../src/data/dataset.ts';
import { Flags, markdownTable, median } from './lib/report.ts';

const DEFAULT_DATA = fileURLToPath(new URL('../../shared/datasets/gcmerge_E116', import.meta.url));

interface GemmCall {
  readonly key: string;
  readonly shape: GemmShape;
  readonly variant: GemmVariant;
}

interface Row {
  readonly call: number;
  readonly kernel: string;
  readonly dispatches: number;
  readonly ms: number;
  readonly gemm?: GemmCall;
}

function buildPlan(model: string, bins: number, marks: number, genes: number, batch: number, steps: number): Plan {
  const optimizer = { lr: 1e-3 };
  if (model === 'vae') {
    const m = vaeModel({ bins, marks, latent: 10 });
    return buildVaePlan(m, { genes, batch, encodeBatch: Math.min(256, genes), trainOrderLength: steps * batch, beta: 5e-5, sigma: 'logvar', optimizer, seed: 1 }).plan;
  }
  if (model === 'vae-m2') {
    const m = m2Model({ bins, marks, latent: 10, channels: [32, 64], kernelSize: 5, leak: 0.5, hidden: [128] });
    const weights = m2Weights({ labeledGenes: 1000, unlabeledGenes: genes, labeledBatch: batch, unlabeledBatch: batch, features: bins * marks, beta: 5e-5 });
    return buildM2Plan(m, { genes, batch, predictBatch: Math.min(256, genes), trainOrderLength: steps * batch, unlabeledBatch: batch, steps, weights, optimizer, seed: 1 }).plan;
  }
  if (model === 'attentivechrome') {
    const m = attentiveChromeModel({ bins, marks, hidden: ATTENTIVE_CHROME_HIDDEN });
    return buildClassifierPlan(m, { genes, batch, predictBatch: Math.min(256, genes), trainOrderLength: steps * batch, optimizer: { lr: ATTENTIVE_LR, clip: ATTENTIVE_CLIP }, seed: 1 }).plan;
  }
  throw new Error(`profileStep: --model must be vae, vae-m2 or attentivechrome, got ${model}`);
}

async function main(): Promise<void> {
  const flags = new Flags('profileStep', process.argv.slice(2), { '--model': 'value', '--data': 'value', '--batch': 'value', '--passes': 'value', '--gemm': 'value', '--json': 'value', '--epoch': 'switch', '--steps': 'value', '--synthetic': 'value', '--bins': 'value' });
  const model = flags.string('--model') ?? 'vae';
  const dataPath = flags.string('--data') ?? DEFAULT_DATA;
  const batch = flags.int('--batch', 64);
  const passes = flags.int('--passes', 5);
  const mode = parseVariantMode(flags.string('--gemm') ?? (process.env.SIMPLECHROME_GEMM || 'heuristic'), 'profileStep --gemm');
  const jsonFile = flags.string('--json');
  const epoch = flags.has('--epoch');
  const timedSteps = flags.string('--steps') === undefined ? undefined : flags.int('--steps', 1);
  if (epoch && model !== 'vae') throw new Error(`profileStep: --epoch times the VAE's epoch only, not ${model}'s`);

  const syntheticGenes = flags.string('--synthetic') === undefined ? undefined : flags.int('--synthetic', batch);
  if (epoch && syntheticGenes !== undefined) throw new Error('profileStep: --epoch needs a data set, not --synthetic');
  const data =
    syntheticGenes === undefined
      ? await loadCell(dataPath, { cache: false }).then(({ dataset }) => ({ cell: dataset.cell, genes: dataset.genes, bins: dataset.bins, marks: dataset.marks.length, dataset }))
      : { cell: 'synthetic', genes: syntheticGenes, bins: flags.int('--bins', 100), marks: 5, dataset: undefined };
  const gpu = await acquireGpu();
  // An epoch of the VAE is one pass over the genes it learns from, those of the train and valid splits.
  const split = data.dataset?.split ?? new Uint8Array(0);
  const learnt = Uint32Array.from([...split.keys()].filter((g) => split[g] !== SPLIT_CODES.test));
  const steps = epoch ? Math.ceil(learnt.length / batch) : 1;
  const plan = buildPlan(model, data.bins, data.marks, data.genes, batch, steps);
  const policy = new VariantPolicy(gpu, { mode, log: (l) => console.error(l) });
  const target = await policy.targetFor(plan);
  // Which GEMM each call runs, as the executor will ask.
  const gemms = new Map<number, GemmCall>();
  plan.calls.forEach((call, i) => {
    const recorder: GpuTarget = {
      gemmVariant: (key, shape) => {
        const variant = target.gemmVariant(key, shape);
        gemms.set(i, { key, shape, variant });
        return variant;
      },
    };
    call.kernel.gpu(recorder);
  });
  const exec = await GpuExecutor.create(gpu, plan, target);
  // Values do not change the work a kernel does; orders and counters of zeros are in range.
  let seed = 1;
  for (const [name, t] of plan.tensors) {
    if (t.view) continue;
    exec.write(name, t.dtype === 'u32' ? new Uint32Array(t.size) : uniformArray(t.size, seed++).map((v) => v * 0.1));
  }
  exec.write(PARAMS, uniformArray(plan.get(PARAMS).size, 99).map((v) => v * 0.05));
  for (const name of [GRADS, ADAM_M, ADAM_V]) exec.write(name, new Float32Array(plan.get(name).size));
  await exec.run(1, 'train');
  const load = loadavg()[0] as number;
  const samples = new Map<number, { kernel: string; ms: number[]; dispatches: number }>();
  for (let p = 0; p < passes; p++) {
    const perCall = new Map<number, { kernel: string; ms: number; dispatches: number }>();
    for (const r of await exec.profile('train')) {
      const c = perCall.get(r.call) ?? { kernel: r.kernel, ms: 0, dispatches: 0 };
      c.ms += r.ms;
      c.dispatches++;
      perCall.set(r.call, c);
    }
    for (const [call, c] of perCall) {
      const s = samples.get(call) ?? { kernel: c.kernel, ms: [], dispatches: c.dispatches };
      s.ms.push(c.ms);
      samples.set(call, s);
    }
  }
  const wholeStep: number[] = [];
  for (let p = 0; p < passes; p++) {
    const t = await exec.timedRun(4, 'train');
    wholeStep.push(t.wallMs / 4);
  }
  let epochMs: number | undefined;
  let epochCpuS: number | undefined;
  if (epoch) {
    exec.write('train.order', epochOrder(learnt, steps * batch, seededRandom(3)));
    exec.write('train.cursor', [0]);
    // CPU time of the whole process (SwiftShader's threads are ours): on a shared machine it moves far less
    // with the load than the wall clock does.
    const cpu0 = process.cpuUsage();
    const t = await exec.timedRun(timedSteps === undefined ? steps : Math.min(steps, timedSteps), 'train');
    const cpu = process.cpuUsage(cpu0);
    epochMs = t.wallMs;
    epochCpuS = (cpu.user + cpu.system) / 1e6;
  }
  exec.destroy();
  const rows: Row[] = [...samples].map(([call, s]) => {
    const gemm = gemms.get(call);
    return { call, kernel: s.kernel, dispatches: s.dispatches, ms: median(s.ms), ...(gemm ? { gemm } : {}) };
  });
  const total = rows.reduce((a, r) => a + r.ms, 0);
  console.log(
    `${model} train step, batch ${batch}, ${data.cell} (${data.genes} genes, ${data.bins} bins × ${data.marks} marks); ` +
      `adapter ${gpu.adapter.info.description || gpu.adapter.info.vendor}; gemm ${mode}; load average ${load.toFixed(2)}; median of ${passes} passes`,
  );
  console.log(
    markdownTable(
      ['#', 'kernel', 'disp', 'ms', '%', 'M', 'N', 'K', 'variant', 'GFLOP/s'],
      [...rows]
        .sort((a, b) => b.ms - a.ms)
        .map((r) => {
          const g = r.gemm;
          const flops = g ? 2 * g.shape.M * g.shape.N * g.shape.K : 0;
          return [
            String(r.call),
            r.kernel,
            String(r.dispatches),
            r.ms.toFixed(2),
            ((100 * r.ms) / total).toFixed(1),
            g ? String(g.shape.M) : '',
            g ? String(g.shape.N) : '',
            g ? String(g.shape.K) : '',
            g ? g.variant : '',
            g ? (flops / (r.ms * 1e6)).toFixed(2) : '',
          ];
        }),
    ),
  );
  console.log(`\nsum of dispatches timed alone: ${total.toFixed(1)} ms; the step run whole (4 per submit, median): ${median(wholeStep).toFixed(1)} ms`);
  if (epochMs !== undefined) console.log(`one epoch${timedSteps === undefined ? '' : ` (only its first ${Math.min(steps, timedSteps)} steps timed)`}: ${steps} steps over ${learnt.length} train and valid genes in ${(epochMs / 1000).toFixed(1)} s, ${epochCpuS?.toFixed(1)} CPU s (load average ${loadavg()[0]?.toFixed(2)} at its end)`);
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ model, batch, mode, load, rows, total, step: median(wholeStep), epochMs, epochCpuS, loadAfter: loadavg()[0] }, null, 1)}\n`);
}

await main();
