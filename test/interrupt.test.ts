import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import type { Progress } from '../src/train/runModel.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { interruptWhen } from './cliHelpers.ts';

// Ctrl-C (SIGINT) and SIGTERM: the run says that it can be resumed and how,
// removes the temporary file it was writing and its lock, and exits with
// 128 + the signal number. Stopped before its first checkpoint, it removes
// the --out it created and says that nothing was kept.

const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };

describe('an interrupted run', () => {
  let data: string;
  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-int-data-'));
    // Big enough that an epoch takes a moment on the CPU, so the signal lands inside one.
    await writeSynthetic(root, { genes: 400, seed: 21, bins: 40, cell: 'SYNTHETIC-I' });
    data = join(root, 'SYNTHETIC-I');
  });

  it('Ctrl-C after epoch 1 says which checkpoint is kept and how to resume; nothing half-written stays', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sc-int-')), 'run');
    const r = await interruptWhen(['--cpu', '--model', 'deepchrome', '--data', data, '--epochs', '3', '--batch', '32', '--out', out], /deepchrome epoch +1\/3/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      new RegExp(
        `\\nsimplechrome: interrupted \\(SIGINT\\)\\nthe last good checkpoint is ${join(out, 'last.safetensors')} \\(classifier epoch [12]\\); continue with: npx tsx run.ts --resume ${out}\\n$`,
      ),
    );
    expect(r.stderr).not.toContain('    at ');
    // Said up front too, for a stop that no handler sees (kill -9, a power cut).
    expect(r.stderr).toContain(`checkpoints go to ${out} after every epoch; a stopped run continues with: npx tsx run.ts --resume ${out}`);
    const left = readdirSync(out);
    expect(left.filter((f) => f.includes('.tmp-') || f.startsWith('.simplechrome.lock'))).toEqual([]);
    const kept = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(kept.state.epoch).toBeGreaterThanOrEqual(1);
    const resumed = await trainToDirectory(parseArgs(['--resume', out, '--quiet']), { progress: quiet });
    expect(resumed.run.result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  });

  it('SIGTERM before the first checkpoint removes the --out it created and says nothing was kept', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sc-int-')), 'run');
    const r = await interruptWhen(['--cpu', '--model', 'deepchrome', '--data', data, '--epochs', '3', '--batch', '32', '--out', out], /simplechrome: deepchrome on SYNTHETIC-I/, 'SIGTERM');
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain(`\nsimplechrome: interrupted (SIGTERM)\nno checkpoint was written yet; ${out} was removed\n`);
    expect(existsSync(out)).toBe(false);
  });
});
