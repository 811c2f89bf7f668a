import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/dataset.ts';
import { acquireGpu, GpuUnavailableError } from '../gpu/device.ts';
import { GpuError } from '../gpu/errors.ts';
import { selfCheck } from '../plan/selfCheck.ts';
import { type CliOptions, parseArgs, parseUseArgs, USE_COMMANDS, UsageError } from './flags/args.ts';
import { BUILD_USAGE, buildDataset } from './buildDataset/buildDataset.ts';
import { runExperiment } from './experiment/experiment.ts';
import { isExperimentDirectory, resumedExperimentOptions } from './experiment/experimentResume.ts';
import { checkFlagsApply } from './flags/flagScope.ts';
import { GRID_COMMANDS, parseGridArgs } from './grid/gridArgs.ts';
import { collectGrid } from './grid/gridCollect.ts';
import { runJob } from './grid/gridJob.ts';
import { writeGridPlan } from './grid/gridPlan.ts';
import { writeSlurmScripts } from './grid/slurmScripts.ts';
import { HELP } from './flags/help.ts';
import { isClassScores } from '../train/target.ts';
import { table } from './session/outputs.ts';
import { err } from './session/session.ts';
import { trainToDirectory } from './run/trainRun.ts';
import { useModel } from './use/useModel.ts';
import { explainCommand } from './use/explain.ts';
import { parseExplainArgs } from './use/explainArgs.ts';
import { packageVersion } from '../util/packageRoot.ts';

async function train(o: CliOptions): Promise<number> {
  const { out, options, data, run } = await trainToDirectory(o);
  const ds = data.dataset;
  const r = run.result;
  const f = (x: number) => x.toFixed(4);
  const first = [options.model, ds.cell, String(run.labeledGenes), String(r.bestEpoch)];
  const { valid, test } = r;
  const [header, scores] =
    isClassScores(valid) && isClassScores(test)
      ? [['valid AUROC', 'test AUROC', 'test AUPR', 'test accuracy'], [valid.auroc, test.auroc, test.aupr, test.accuracy]]
      : !isClassScores(valid) && !isClassScores(test)
        ? [['valid Pearson', 'test Pearson', 'test Spearman', 'test MSE'], [valid.pearson, test.pearson, test.spearman, test.mse]]
        : [[], []];
  process.stdout.write(`${table(['model', 'cell', 'labeled genes', 'best epoch', ...header], [[...first, ...scores.map(f)]])}\n`);
  process.stdout.write(
    `${data.source.synthetic ? 'SYNTHETIC data: these numbers mean nothing. ' : ''}wrote ${join(out, 'metrics.json')} and ${join(out, 'predictions.csv')}; ` +
      `model in ${join(out, 'best.safetensors')}, plots ${join(out, '*.svg')}\n`,
  );
  return 0;
}

async function check(): Promise<number> {
  const gpu = await acquireGpu();
  process.stdout.write(`adapter: ${gpu.adapterName}\n`);
  const results = await selfCheck(gpu);
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
    if (argv.includes('--version')) {
      if (argv.length > 1) throw new UsageError(`--version prints the version and takes nothing else: run \`simplechrome --version\`, not \`${argv.join(' ')}\``);
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (argv[0] === 'build-dataset') {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${BUILD_USAGE}\nSee docs/BIGWIG.md.\n`);
        return 0;
      }
      return await buildDataset(argv.slice(1));
    }
    if ((GRID_COMMANDS as readonly string[]).includes(argv[0] ?? '')) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(HELP);
        return 0;
      }
      const g = parseGridArgs(argv);
      return g.command === 'job' ? await runJob(g) : g.command === 'slurm' ? await writeSlurmScripts(g) : await collectGrid(g);
    }
    if (argv[0] === 'explain') {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(HELP);
        return 0;
      }
      return await explainCommand(parseExplainArgs(argv));
    }
    if ((USE_COMMANDS as readonly string[]).includes(argv[0] ?? '')) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(HELP);
        return 0;
      }
      return await useModel(parseUseArgs(argv));
    }
    const o = parseArgs(argv);
    checkFlagsApply(o);
    if (o.command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (o.command === 'self-check') return await check();
    if (o.data !== undefined && !existsSync(o.data) && !existsSync(`${o.data}.train.csv.gz`) && !existsSync(`${o.data}.train.csv`)) {
      throw new UsageError(`--data ${o.data}: no such file or directory`);
    }
    if (o.resume !== undefined) {
      // Without a subcommand, --resume DIR continues whatever DIR holds; a subcommand says which it must be.
      const isExperiment = isExperimentDirectory(o.resume);
      if (o.subcommand === 'experiment' && !isExperiment) {
        throw new UsageError(`experiment --resume ${o.resume}: no experiment there (no experiment.json); \`train --resume DIR\` continues a training run`);
      }
      if (o.subcommand === 'train' && isExperiment) {
        throw new UsageError(`train --resume ${o.resume}: that is an experiment's directory; continue it with \`experiment --resume ${o.resume}\``);
      }
      if (isExperiment) return await runExperiment(resumedExperimentOptions(o, o.resume));
    }
    if (o.command === 'experiment') return o.plan !== undefined ? await writeGridPlan(o, o.plan) : await runExperiment(o);
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
