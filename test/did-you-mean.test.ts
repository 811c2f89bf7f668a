import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUILD_USAGE, parseBuildArgs } from '../src/cli/buildDataset/buildDataset.ts';
import { parseArgs, parseUseArgs, UsageError } from '../src/cli/flags/args.ts';
import { editDistance, nearestFlags } from '../src/util/didYouMean.ts';
import { GRID_USAGE, parseGridArgs } from '../src/cli/grid/gridArgs.ts';
import { runMain } from './cliHelpers.ts';

// A mistyped flag is refused naming the flag it was likely meant to be, by every parser of the command line;
// a flag that is no slip of any known one keeps the plain refusal. And --version, from package.json.

describe('edit distance', () => {
  it.each([
    ['epoch', 'epochs', 1],
    ['trian-size', 'train-size', 1],
    ['seed', 'seed', 0],
    ['', 'abc', 3],
    ['beta', 'bogus', 4],
  ] as const)('%s → %s: %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });

  it('takes the dashes, an =value and the case as no difference, and a one-letter flag only as itself', () => {
    expect(nearestFlags('-Epochs=3', ['--epochs', '--seed'])).toEqual(['--epochs']);
    expect(nearestFlags('--j', ['--k', '-h'])).toEqual([]);
    expect(nearestFlags('--bogus', ['--beta', '--batch', '--models'])).toEqual([]);
  });
});

describe('the training flags', () => {
  it.each([
    [['--epoch', '3'], 'unknown argument "--epoch" (did you mean --epochs? see --help)'],
    [['train', '--trian-size', '100'], 'unknown argument "--trian-size" (did you mean --train-size? see --help)'],
    [['-seed', '1'], 'unknown argument "-seed" (did you mean --seed? see --help)'],
    [['--vae-epoch=3'], 'unknown argument "--vae-epoch=3" (did you mean --vae-epochs? see --help)'],
    [['experiment', '--model', 'mlp', '--sise', '100'], 'unknown argument "--sise" (did you mean --sizes? see --help)'],
    [['--seedz', '2'], 'unknown argument "--seedz" (did you mean --seeds or --seed? see --help)'],
    [['--bogus'], 'unknown argument "--bogus" (see --help)'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('predict and encode', () => {
  const usage = 'usage: tsx run.ts predict --model DIR --data PATH [--out FILE [--attention]] [--gpu|--cpu] [--quiet]';

  it('suggest their own flag, and only theirs', () => {
    expect(() => parseUseArgs(['predict', '--mdoel', 'x', '--data', 'y'])).toThrow(new UsageError(`predict: unknown argument "--mdoel" (did you mean --model? ${usage})`));
    // --epochs is near nothing predict takes; training's flags are named as such.
    expect(() => parseUseArgs(['predict', '--model', 'x', '--data', 'y', '--epoch'])).toThrow(new UsageError(`predict: unknown argument "--epoch" (${usage})`));
    expect(() => parseUseArgs(['encode', '--model', 'x', '--data', 'y', '--out', 'z.csv', '--quite'])).toThrow(/^encode: unknown argument "--quite" \(did you mean --quiet\? usage: tsx run.ts encode /);
  });
});

describe("the grid's commands", () => {
  it.each([
    [['job', '--plna', 'p.json'], `job: --plna does not apply (did you mean --plan? usage: ${GRID_USAGE.job})`],
    [['slurm', '--plan', 'p.json', '--max-runing', '4'], `slurm: --max-runing does not apply (did you mean --max-running? usage: ${GRID_USAGE.slurm})`],
    [['collect', 'plan', 'p.json'], `collect: unexpected argument "plan" (did you mean --plan? usage: ${GRID_USAGE.collect})`],
    [['job', '--plan', 'p.json', '--epochs', '3'], `job: --epochs does not apply (usage: ${GRID_USAGE.job})`],
  ])('%j → %s', (argv, message) => {
    expect(() => parseGridArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('build-dataset', () => {
  it.each([
    [['--trakcs', 'dir'], `build-dataset: unknown argument "--trakcs" (did you mean --tracks?)\n${BUILD_USAGE}`],
    [['--tracks', 'dir', '--qantile', '0.5'], `build-dataset: unknown argument "--qantile" (did you mean --quantile?)\n${BUILD_USAGE}`],
    [['--bogus'], `build-dataset: unknown argument "--bogus"\n${BUILD_USAGE}`],
  ])('%j', (argv, message) => {
    expect(() => parseBuildArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('--version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

  it("prints package.json's version", async () => {
    expect(await runMain(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('takes nothing else', async () => {
    expect(await runMain(['train', '--version'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'simplechrome: --version prints the version and takes nothing else: run `simplechrome --version`, not `train --version`\n',
    });
  });
});
