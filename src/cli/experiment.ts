import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../checkpoint/safetensors.ts';
import { SPLIT_CODES } from '../data/dataset.ts';
import { acquireGpu, type Gpu } from '../gpu/device.ts';
import { neighborsFor } from './neighborSources.ts';
import { VariantPolicy, variantModeFrom } from '../plan/autotune.ts';
import type { VaeEpochRecord } from '../train/trainVae.ts';
import type { CliOptions, ModelName } from './args.ts';
import { err, loadData, progressPrinter, settingsOf } from './session.ts';
import { onInterrupt } from './interrupt.ts';
import { table } from './outputs.ts';
import { EXPERIMENT_FILES, OutDirectory } from './runDirectory.ts';
import { type Device, runModel } from './runModel.ts';

// SimpleChrome's claim, tested: test AUROC of each model when only N training
// genes carry labels, over several seeds. The VAE is trained once per seed
// (it uses no labels) and shared by both VAE-based models at every size.

const [CSV_FILE, MD_FILE] = EXPERIMENT_FILES;

interface Row {
  readonly model: ModelName;
  readonly size: number | 'all';
  readonly seed: number;
  readonly labeled: number;
  readonly testAuroc: number;
  readonly testAupr: number;
  readonly validAuroc: number;
}

function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

export async function runExperiment(o: CliOptions): Promise<number> {
  const open = (path: string): OutDirectory => {
    const dir = OutDirectory.open(path, { overwrite: o.overwrite, resume: false });
    for (const note of dir.notes) process.stderr.write(`${note}\n`);
    return dir;
  };
  let out = o.out !== undefined ? open(o.out) : undefined;
  const unregister = onInterrupt(() => {
    const removed = out?.abandon();
    if (out?.hasKept) return `the runs that finished are in ${join(out.dir, CSV_FILE)}`;
    return removed;
  });
  let gpu: Gpu | undefined;
  try {
    const data = await loadData(o);
    const ds = data.dataset;
    out ??= open(join('runs', `small-data-${ds.cell}`));
    const dir = out;
    const trainGenes = ds.split.filter((c) => c === SPLIT_CODES.train).length;
    gpu = o.device === 'gpu' ? await acquireGpu() : undefined;
    const device: Device = gpu ? { kind: 'gpu', gpu, variants: new VariantPolicy(gpu, { mode: variantModeFrom(o.gemm), log: err }) } : { kind: 'cpu' };
    const sizes = o.sizes.filter((s) => {
      if (s !== 'all' && s > trainGenes) {
        process.stderr.write(`experiment: size ${s} skipped: ${ds.cell} has only ${trainGenes} training genes\n`);
        return false;
      }
      return true;
    });
    // Each run is appended as it finishes, so a long experiment that is stopped keeps what it measured.
    await writeFile(join(dir.dir, CSV_FILE), 'model,size,seed,labeled_genes,valid_auroc,test_auroc,test_aupr\n');
    const latentCache = new Map<string, Promise<{ latents: Float32Array; history: VaeEpochRecord[]; parameters: number }>>();
    const rows: Row[] = [];
    const progress = progressPrinter(o.quiet);
    for (let seed = 1; seed <= o.seeds; seed++) {
      for (const size of sizes) {
        for (const model of o.models) {
          process.stderr.write(`experiment: ${model}, ${size} labeled genes, seed ${seed}\n`);
          const settings = { ...settingsOf(o), model, seed, trainSize: size === 'all' ? undefined : size };
          const run = await runModel(ds, settings, device, progress, (key, make) => {
            let p = latentCache.get(key);
            if (!p) latentCache.set(key, (p = make()));
            return p;
          }, { neighbors: neighborsFor });
          const row: Row = {
            model,
            size,
            seed,
            labeled: run.labeledGenes,
            testAuroc: run.result.test.auroc,
            testAupr: run.result.test.aupr,
            validAuroc: run.result.valid.auroc,
          };
          rows.push(row);
          await appendFile(
            join(dir.dir, CSV_FILE),
            `${row.model},${row.size},${row.seed},${row.labeled},${row.validAuroc.toFixed(4)},${row.testAuroc.toFixed(4)},${row.testAupr.toFixed(4)}\n`,
          );
          // The first finished run is what a replaced directory is swapped in for.
          dir.saved();
        }
      }
    }
    const header = ['model', ...sizes.map((s) => (s === 'all' ? `all (${trainGenes})` : `${s}`))];
    const summary = o.models.map((m) => [
      m,
      ...sizes.map((s) => {
        const { mean, sd } = meanSd(rows.filter((r) => r.model === m && r.size === s).map((r) => r.testAuroc));
        return `${mean.toFixed(3)} ± ${sd.toFixed(3)}`;
      }),
    ]);
    const md = [
      `# Small-data experiment: ${ds.cell}${data.source.synthetic ? ' (SYNTHETIC DATA: meaningless)' : ''}`,
      '',
      `Test AUROC, mean ± sd over ${o.seeds} seeds, by number of labeled training genes.`,
      `Data: ${data.source.path} (${ds.genes} genes, ${ds.bins} bins); normalization ${o.normalize};`,
      `epochs ${o.epochs} (best by validation AUROC), VAE epochs ${o.vaeEpochs}, batch ${o.batch}, lr ${o.lr}, latent ${o.latent}, beta ${o.beta}, ${o.neighbors} neighbours k=${o.k}; device ${gpu ? gpu.adapterName : 'CPU'}.`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...summary.map((r) => `| ${r.join(' | ')} |`),
      '',
    ].join('\n');
    await writeFileAtomically(join(dir.dir, MD_FILE), md);
    dir.finish();
    process.stdout.write(`${table(header, summary)}\n(test AUROC, mean ± sd over ${o.seeds} seeds)\nwrote ${join(dir.target, MD_FILE)} and ${join(dir.target, CSV_FILE)}\n`);
    return 0;
  } catch (e) {
    out?.abandon();
    throw e;
  } finally {
    unregister();
    gpu?.destroy();
  }
}
