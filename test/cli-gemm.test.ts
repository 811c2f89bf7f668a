import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { checkFlagsApply } from '../src/cli/flags/flagScope.ts';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// --gemm picks how the GPU's matrix products choose their variant; metrics.json
// and the checkpoints record the variant of every product, and --resume pins
// them whatever the mode in force when it runs.

interface Metrics {
  readonly device: { readonly kind: string; readonly gemm?: { readonly mode: string; readonly variants: Record<string, string> } };
  readonly test: { readonly auroc: number };
}

const metricsOf = (dir: string): Metrics => JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as Metrics;

describe('--gemm', () => {
  it.each([
    [['--gemm', 'fastest'], '--gemm: GEMM variant must be tune, heuristic or one of register4x4, register8x4, register4x8, register8x8, tiled64, splitk4x4, reduce4x4; got "fastest"'],
    [['--gemm', 'tune', '--gemm', 'heuristic'], '--gemm is given twice'],
  ])('%j → %s', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it.each([
    [['--cpu', '--gemm', 'tune'], '--gemm chooses how the GPU runs its matrix products; --cpu runs the CPU reference path, which has no variants'],
    [['--resume', 'runs/x', '--gemm', 'register8x8'], '--gemm does not apply to --resume runs/x: a resumed run keeps the GEMM variants it recorded'],
  ])('%j → %s', (argv, message) => {
    expect(() => checkFlagsApply(parseArgs(argv))).toThrow(message);
  });

  it('a forced variant runs every product, is recorded in metrics.json and the checkpoints, and a resumed run keeps it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sc-gemm-'));
    await writeSynthetic(root, { genes: 40, seed: 4, bins: 4, cell: 'SYNTHETIC-GEMM' });
    const out = join(root, 'run');
    const data = join(root, 'SYNTHETIC-GEMM');
    const first = await runMain(['--gpu', '--model', 'mlp', '--data', data, '--epochs', '1', '--gemm', 'register4x8', '--quiet', '--out', out]);
    expect(first.code, first.stderr).toBe(0);
    const m1 = metricsOf(out);
    expect(m1.device.gemm?.mode).toBe('register4x8');
    const variants = m1.device.gemm?.variants ?? {};
    // The MLP's forward, weight and input gradients: every GEMM of the plan, each forced.
    expect(Object.keys(variants).length).toBeGreaterThanOrEqual(5);
    expect(new Set(Object.values(variants))).toEqual(new Set(['register4x8']));
    const last = await readSafetensors(join(out, 'last.safetensors'));
    expect(JSON.parse(last.metadata.gemm_variants ?? '{}')).toEqual(variants);

    // Resumed under the heuristic (the suite's mode): the recorded variants win.
    const before = snapshot(data);
    const resumed = await runMain(['--resume', out, '--epochs', '2', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const m2 = metricsOf(out);
    expect(m2.device.gemm?.variants).toEqual(variants);
    expect(snapshot(data)).toEqual(before);
  });
});
