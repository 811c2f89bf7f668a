import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { finishedRuns } from '../src/cli/experiment/experimentResume.ts';
import { CSV_HEADER } from '../src/cli/experiment/experimentReport.ts';
import { interruptWhen, runMain, snapshot } from './cliHelpers.ts';

// An interrupted experiment continues where it stopped: the runs it finished
// are kept as they were and skipped, the others run, and the tables come out
// as an uninterrupted experiment's would (on the CPU, bit for bit but the seconds).

const root = mkdtempSync(join(tmpdir(), 'sc-exp-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ARGS = ['--cpu', '--experiment', 'small-data', '--models', 'logreg,mlp', '--sizes', '100,all', '--seeds', '2', '--epochs', '2'];

const withoutSeconds = (csv: string): string[] => csv.trim().split('\n').map((l) => l.replace(/,[\d.]+$/, ''));

describe('an interrupted experiment', () => {
  it('resumes with --resume DIR: finished runs kept and skipped, the rest run, the same tables', async () => {
    const reference = join(root, 'reference');
    const full = await runMain([...ARGS, '--quiet', '--out', reference]);
    expect(full.code, full.stderr).toBe(0);

    const out = join(root, 'stopped');
    const stopped = await interruptWhen([...ARGS, '--quiet', '--out', out], /experiment: 3 of 8 runs done/, 'SIGINT');
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain(`continue with: npx tsx run.ts --resume ${out}`);
    const kept = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n');
    expect(kept.length).toBeGreaterThanOrEqual(1 + 3);
    expect(kept.length).toBeLessThan(1 + 8);
    // The tables of the runs finished so far are kept, marked partial, with the command that continues them.
    const partial = readFileSync(join(out, 'small-data.md'), 'utf8');
    expect(partial).toMatch(new RegExp(`^# Small-data experiment: E003 \\(partial: ${kept.length - 1} of 8 runs\\)\n`));
    expect(partial).toContain(`continues with \`npx tsx run.ts --resume ${out}\``);
    expect(partial).toContain('mean ± sd over the seeds finished so far (of 2)');

    const refused = await runMain(['--resume', out, '--epochs', '5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--resume ${out}: an experiment continues with the settings in ${join(out, 'experiment.json')}; --epochs cannot change them`);

    // Data that is not what the finished runs read is refused, and nothing in the directory changes.
    const settingsFile = join(out, 'experiment.json');
    const original = readFileSync(settingsFile, 'utf8');
    const stored = JSON.parse(original) as { fingerprints: Record<string, string> };
    expect(Object.keys(stored.fingerprints)).toEqual(['E003']);
    writeFileSync(settingsFile, JSON.stringify({ ...stored, fingerprints: { E003: '0'.repeat(64) } }));
    const forged = snapshot(out);
    const changed = await runMain(['--resume', out, '--quiet']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(new RegExp(`--resume ${out}: the data of E003 at .*E003_sample600 is not the data this experiment ran on \\(fingerprints differ\\); start a new experiment`));
    expect(snapshot(out)).toEqual(forged);
    writeFileSync(settingsFile, original);

    const resumed = await runMain(['--resume', out, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`experiment: resuming ${out}: ${kept.length - 1} finished runs kept`);
    const csv = readFileSync(join(out, 'small-data.csv'), 'utf8');
    // The finished runs are the same lines, seconds included; the rest match the uninterrupted experiment.
    expect(csv.trim().split('\n').slice(0, kept.length)).toEqual(kept);
    expect(withoutSeconds(csv)).toEqual(withoutSeconds(readFileSync(join(reference, 'small-data.csv'), 'utf8')));
    expect(readFileSync(join(out, 'paired.csv'), 'utf8')).toBe(readFileSync(join(reference, 'paired.csv'), 'utf8'));
    // Finished, the tables are no longer marked partial and are the uninterrupted experiment's.
    expect(readFileSync(join(out, 'small-data.md'), 'utf8')).not.toContain('partial');
    expect(Object.keys(snapshot(out)).sort()).toEqual(Object.keys(snapshot(reference)).sort());
  });

  it('keeps only the lines that were finished, and refuses a CSV it did not write', () => {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    writeFileSync(join(dir, 'small-data.csv'), `${CSV_HEADER}\nE003,mlp,all,1,200,0.8,0.7,0.81,0.75,2,2,1.5\nE003,logreg,all,1,20`);
    expect(finishedRuns(dir)).toEqual([
      { cell: 'E003', model: 'mlp', size: 'all', seed: 1, labeled: 200, validAuroc: 0.8, validAupr: 0.7, testAuroc: 0.81, testAupr: 0.75, bestEpoch: 2, epochs: 2, seconds: 1.5 },
    ]);
    writeFileSync(join(dir, 'small-data.csv'), 'model,size,seed\nmlp,all,1\n');
    expect(() => finishedRuns(dir)).toThrow(`${join(dir, 'small-data.csv')}: its header is not ${CSV_HEADER}; it was not written by this version`);
  });
});
