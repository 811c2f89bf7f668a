import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython, matchingRow, parsePytorchJson } from '../bench/lib/pytorchPeer.ts';

// How bench/train.ts reads PyTorch's side (bench/pytorch_train.py --json): a
// missing torch says how to get one, a malformed report names the field, and
// a model of another size or epoch is refused rather than compared. Torch
// itself is not needed here; the bench run is what times it.

const report = {
  bench: 'pytorch_train',
  torch: '1.13.0a0',
  device: 'cpu (AMD EPYC x 2, 1 torch thread(s))',
  deviceType: 'cpu',
  threads: 1,
  epochs: 5,
  steps: 20,
  load: [0.5, 0.6, 0.7],
  data: 'REAL E003_sample600',
  rows: [{ model: 'mlp', batch: 64, steps: 4, parameters: 161281, stepMs: 8.1, epochS: 0.034, epochCpuS: 0.033, loss: 0.6 }],
};

describe('PyTorch peer of bench/train.ts', () => {
  it('says how to install torch when no candidate interpreter has it', () => {
    expect(() => findPython(['/nonexistent/python3'])).toThrow(
      'PyTorch: none of /nonexistent/python3 can import torch and numpy. On Debian: apt-get install python3-torch (it serves /usr/bin/python3)',
    );
  });

  it('reads the script\'s JSON report', () => {
    const run = parsePytorchJson(JSON.stringify(report), '/usr/bin/python3');
    expect(run).toMatchObject({ python: '/usr/bin/python3', torch: '1.13.0a0', threads: 1, epochs: 5, steps: 20 });
    expect(run.rows).toEqual(report.rows);
  });

  it('names the field of a malformed report', () => {
    expect(() => parsePytorchJson(JSON.stringify({ ...report, rows: undefined }), 'python3')).toThrow('PyTorch JSON: no "rows" array');
    const bad = { ...report, rows: [{ ...report.rows[0], stepMs: 'fast' }] };
    expect(() => parsePytorchJson(JSON.stringify(bad), 'python3')).toThrow('PyTorch JSON: "stepMs" should be a number, got "fast"');
  });

  it('refuses to compare a model of another size, another epoch, or one it did not run', () => {
    const run = parsePytorchJson(JSON.stringify(report), 'python3');
    expect(matchingRow(run, 'mlp', 64, 161281, 4).stepMs).toBe(8.1);
    expect(() => matchingRow(run, 'mlp', 64, 161282, 4)).toThrow('PyTorch: mlp has 161281 parameters, ours 161282: not the same model, no ratio');
    expect(() => matchingRow(run, 'mlp', 64, 161281, 3)).toThrow('PyTorch: mlp batch 64 runs 4 steps per epoch, ours 3: not the same epoch');
    expect(() => matchingRow(run, 'vae', 64, 240537, 4)).toThrow('PyTorch: no row for vae at batch 64');
  });

  it('times synthetic genes of --bins bins (the models sized to them), and refuses --bins on real data or too few for deepchrome', () => {
    // Debian's python3 with Debian's PyTorch (scripts/setup.sh installs it); a pyenv python3 may come first on PATH.
    const python = '/usr/bin/python3';
    const script = join(import.meta.dirname, '..', 'bench', 'pytorch_train.py');
    const dir = mkdtempSync(join(tmpdir(), 'sc-bench-pt-'));
    try {
      const json = join(dir, 'pt.json');
      const ok = spawnSync(python, [script, '--device', 'cpu', '--models', 'mlp,deepchrome', '--batches', '8', '--epochs', '1', '--steps', '1', '--genes', '16', '--bins', '14', '--json', json], { encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
      const run = parsePytorchJson(readFileSync(json, 'utf8'), python);
      // mlp: 14 bins × 5 marks in, 256 and 128 hidden, one out.
      expect(run.rows.find((r) => r.model === 'mlp')?.parameters).toBe(70 * 256 + 256 + 256 * 128 + 128 + 129);
      expect(ok.stdout).toContain('14 bins x 5 marks');
      const real = spawnSync(python, [script, '--device', 'cpu', '--data', join(dir, 'x'), '--bins', '12'], { encoding: 'utf8' });
      expect(real.status).toBe(2);
      expect(real.stderr).toContain('--bins: a positive count, for synthetic data only (not with --data)');
      const few = spawnSync(python, [script, '--device', 'cpu', '--models', 'deepchrome', '--bins', '13'], { encoding: 'utf8' });
      expect(few.status).toBe(2);
      expect(few.stderr).toContain('--bins 13: deepchrome needs at least 14 (its conv of 10 and max-pool of 5 leave no output below)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
