import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliOptions, parseArgs, UsageError } from '../src/cli/flags/args.ts';
import { HELP } from '../src/cli/flags/help.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// `train`, `experiment`, `self-check` and `help` are subcommands beside predict,
// encode, build-dataset and the grid's; the flag forms that came first stay as
// aliases that parse to the same options, so no user's script breaks.

const root = mkdtempSync(join(tmpdir(), 'sc-subcommands-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Options without the fields that record how they were typed. */
const settled = (o: CliOptions): Omit<CliOptions, 'subcommand' | 'explicit'> => {
  const { subcommand: _s, explicit: _e, ...rest } = o;
  return rest;
};

const refusal = (argv: readonly string[]): string => {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`parseArgs(${argv.join(' ')}) did not refuse`);
};

describe('subcommands and their aliases', () => {
  const run = ['--cpu', '--model', 'mlp', '--train-size', '37', '--epochs', '3', '--seed', '129'];
  const experiment = ['--cpu', '--models', 'logreg,mlp', '--sizes', '100,all', '--seeds', '2'];

  it('parses `train` as the bare form, `experiment` as --experiment small-data, self-check and help as their flags', () => {
    expect(parseArgs(['train', ...run]).subcommand).toBe('train');
    expect(parseArgs(run).subcommand).toBeUndefined();
    expect(settled(parseArgs(['train', ...run]))).toEqual(settled(parseArgs(run)));
    const sub = parseArgs(['experiment', ...experiment]);
    expect(sub.command).toBe('experiment');
    expect(sub.experiment).toBe('small-data');
    expect(settled(sub)).toEqual(settled(parseArgs(['--experiment', 'small-data', ...experiment])));
    // The old flag may still be given after the subcommand: it says the same thing.
    expect(settled(parseArgs(['experiment', '--experiment', 'small-data', ...experiment]))).toEqual(settled(sub));
    expect(settled(parseArgs(['self-check']))).toEqual(settled(parseArgs(['--self-check'])));
    expect(settled(parseArgs(['help']))).toEqual(settled(parseArgs(['--help'])));
    expect(parseArgs(['train', '--help']).command).toBe('help');
    expect(parseArgs(['experiment', '--help']).command).toBe('help');
  });

  it('refuses a flag form of another command under a subcommand, naming both', () => {
    expect(refusal(['train', '--experiment', 'small-data'])).toBe('--experiment belongs to the experiment command, not train: run `simplechrome experiment ...` on its own');
    expect(refusal(['experiment', '--self-check'])).toBe('--self-check belongs to the self-check command, not experiment: run `simplechrome self-check ...` on its own');
    expect(refusal(['train', '--self-check'])).toBe('--self-check belongs to the self-check command, not train: run `simplechrome self-check ...` on its own');
    // The flag form of --resume with --experiment stays refused; the subcommand form is how an experiment resumes by name.
    expect(refusal(['--experiment', 'small-data', '--resume', root])).toContain('give it without --experiment (or as `experiment --resume DIR`)');
    expect(parseArgs(['experiment', '--resume', root]).resume).toBe(root);
  });

  it('prints the help for `help` and lists the subcommands in it', async () => {
    const r = await runMain(['help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(HELP);
    for (const line of ['tsx run.ts train [options]', 'tsx run.ts experiment [options]', 'tsx run.ts experiment --resume DIR', 'tsx run.ts self-check']) {
      expect(HELP).toContain(line);
    }
    // --help speaks to users, not to this project's issues and protocols.
    expect(HELP).not.toMatch(/\bissues?\b|protocol/i);
  });

  it('runs and resumes an experiment by its subcommand, and refuses to resume one kind of directory as the other', async () => {
    const exp = join(root, 'exp');
    const first = await runMain(['experiment', '--cpu', '--models', 'logreg', '--sizes', '100', '--seeds', '1', '--quiet', '--out', exp]);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(exp, 'small-data.csv'))).toBe(true);

    const again = await runMain(['experiment', '--resume', exp, '--quiet']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`experiment: resuming ${exp}: 1 finished runs kept`);

    const before = snapshot(exp);
    const asRun = await runMain(['train', '--resume', exp]);
    expect(asRun.code).toBe(2);
    expect(asRun.stderr).toBe(`simplechrome: train --resume ${exp}: that is an experiment's directory; continue it with \`experiment --resume ${exp}\`\n`);
    expect(snapshot(exp)).toEqual(before);

    const run = join(root, 'run');
    const trained = await runMain(['train', '--cpu', '--model', 'logreg', '--train-size', '100', '--quiet', '--out', run]);
    expect(trained.code, trained.stderr).toBe(0);
    const runBefore = snapshot(run);
    const asExperiment = await runMain(['experiment', '--resume', run]);
    expect(asExperiment.code).toBe(2);
    expect(asExperiment.stderr).toBe(`simplechrome: experiment --resume ${run}: no experiment there (no experiment.json); \`train --resume DIR\` continues a training run\n`);
    expect(snapshot(run)).toEqual(runBefore);
  }, 240_000);
});
