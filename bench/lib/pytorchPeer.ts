import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModel } from './ourTraining.ts';

// PyTorch as a peer of bench/train.ts: bench/pytorch_train.py run as a child
// process on the same data, models, batches and optimizer, its JSON read back
// so that both engines' times sit in one table. It runs after ours, never
// beside it: on the CPU the two would otherwise take each other's cores.

export const PYTORCH_SCRIPT = fileURLToPath(new URL('../pytorch_train.py', import.meta.url));

/** Where torch usually is: the python3 on PATH (the GPU machine's image), then
 * Debian's own, which is the one `apt-get install python3-torch` serves. */
export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3'] as const;

export type PytorchDevice = 'cpu' | 'cuda';

export interface PytorchRow {
  readonly model: BenchModel;
  readonly batch: number;
  readonly steps: number;
  readonly parameters: number;
  readonly stepMs: number;
  readonly epochS: number;
  /** CPU seconds of the python process per epoch, median. */
  readonly epochCpuS: number;
  readonly loss: number;
}

export interface PytorchRun {
  readonly python: string;
  readonly torch: string;
  /** The device in words, with the CPU model and torch's thread count on the CPU. */
  readonly device: string;
  readonly threads: number;
  readonly epochs: number;
  readonly steps: number;
  readonly rows: readonly PytorchRow[];
}

function importsTorch(python: string): boolean {
  const r = spawnSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0;
}

/** The first of `candidates` that can import torch and numpy; an error that says how to get one otherwise. */
export function findPython(candidates: readonly string[]): string {
  for (const c of candidates) if (importsTorch(c)) return c;
  throw new Error(
    `PyTorch: none of ${candidates.join(', ')} can import torch and numpy. ` +
      'On Debian: apt-get install python3-torch (it serves /usr/bin/python3), or name an interpreter that has torch with --python.',
  );
}

export interface PytorchOptions {
  readonly python: string;
  readonly device: PytorchDevice;
  readonly models: readonly BenchModel[];
  readonly batches: readonly number[];
  /** The real sample's prefix, or the number of synthetic genes. */
  readonly data: { readonly prefix: string } | { readonly genes: number; readonly bins: number };
  readonly epochs: number;
  readonly steps: number;
  readonly threads?: number;
}

/** Runs bench/pytorch_train.py; its table goes to stderr as progress, its rows come back. */
export function runPytorch(o: PytorchOptions): PytorchRun {
  const dir = mkdtempSync(join(tmpdir(), 'simplechrome-pytorch-'));
  try {
    const json = join(dir, 'pytorch.json');
    const args = [
      PYTORCH_SCRIPT,
      '--device', o.device,
      '--models', o.models.join(','),
      '--batches', o.batches.join(','),
      '--epochs', String(o.epochs),
      '--steps', String(o.steps),
      ...('prefix' in o.data ? ['--data', o.data.prefix] : ['--genes', String(o.data.genes), '--bins', String(o.data.bins)]),
      ...(o.threads !== undefined ? ['--threads', String(o.threads)] : []),
      '--json', json,
    ];
    const r = spawnSync(o.python, args, { stdio: ['ignore', process.stderr, process.stderr], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    if (r.error) throw new Error(`PyTorch: could not start ${o.python}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`PyTorch: ${o.python} ${PYTORCH_SCRIPT} exited with ${r.status ?? r.signal} (its output is above)`);
    return parsePytorchJson(readFileSync(json, 'utf8'), o.python);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function field<T>(o: Record<string, unknown>, key: string, kind: 'number' | 'string'): T {
  const v = o[key];
  if (typeof v !== kind) throw new Error(`PyTorch JSON: "${key}" should be a ${kind}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function parsePytorchJson(text: string, python: string): PytorchRun {
  const j = JSON.parse(text) as Record<string, unknown>;
  if (!Array.isArray(j.rows)) throw new Error('PyTorch JSON: no "rows" array');
  const rows = (j.rows as Record<string, unknown>[]).map((r) => ({
    model: field<BenchModel>(r, 'model', 'string'),
    batch: field<number>(r, 'batch', 'number'),
    steps: field<number>(r, 'steps', 'number'),
    parameters: field<number>(r, 'parameters', 'number'),
    stepMs: field<number>(r, 'stepMs', 'number'),
    epochS: field<number>(r, 'epochS', 'number'),
    epochCpuS: field<number>(r, 'epochCpuS', 'number'),
    loss: field<number>(r, 'loss', 'number'),
  }));
  return {
    python,
    torch: field<string>(j, 'torch', 'string'),
    device: field<string>(j, 'device', 'string'),
    threads: field<number>(j, 'threads', 'number'),
    epochs: field<number>(j, 'epochs', 'number'),
    steps: field<number>(j, 'steps', 'number'),
    rows,
  };
}

/** PyTorch's row for a model and batch, refusing a comparison of models that differ. */
export function matchingRow(run: PytorchRun, model: BenchModel, batch: number, ourParameters: number, ourSteps: number): PytorchRow {
  const row = run.rows.find((r) => r.model === model && r.batch === batch);
  if (!row) throw new Error(`PyTorch: no row for ${model} at batch ${batch}`);
  if (row.parameters !== ourParameters) {
    throw new Error(`PyTorch: ${model} has ${row.parameters} parameters, ours ${ourParameters}: not the same model, no ratio`);
  }
  if (row.steps !== ourSteps) throw new Error(`PyTorch: ${model} batch ${batch} runs ${row.steps} steps per epoch, ours ${ourSteps}: not the same epoch`);
  return row;
}
