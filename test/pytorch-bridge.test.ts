import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/flags/args.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import { readSafetensors, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { MODEL_NAMES, MODEL_REGISTRY, isModelName } from '../src/models/registry.ts';
import { snapshot } from './cliHelpers.ts';

// scripts/to_pytorch.py, the PyTorch bridge: it rebuilds a run directory's classifier (and vae-mlp's VAE encoder)
// as torch modules, reads the data the run recorded, checks its fingerprint and must give back predictions.csv
// for every test gene within 1e-5 (predictions.csv holds 6 digits). It refuses what it cannot rebuild and data that
// is not the run's, saying why. Runs are tiny (--cpu, --train-size 100, one epoch); the models with a VAE train on
// the first 30 genes of each E003 split (and so does attentivechrome, whose CPU epoch over 200 genes takes a minute), as one VAE epoch over the sample's 400 training and validation genes took
// over two minutes on the CPU path of the shared 2-core machine.

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../scripts/to_pytorch.py', import.meta.url));
const TOLERANCE = 1e-5;
const quiet = { epoch: () => {}, vaeEpoch: () => {} };
const root = mkdtempSync(join(tmpdir(), 'sc-torch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = (tag: string): string => join(root, `${tag}-${dirs++}`);

/** Debian's python3 with Debian's PyTorch (a pyenv python3 may come first on PATH without it); missing it is a failure. */
function requireTorch(): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${PYTHON} cannot import torch and numpy: on Debian, apt-get install python3-torch (scripts/setup.sh does)`);
}

function bridge(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The first `genes` genes of each split of the E003 sample, as a DeepChrome prefix of plain CSVs in a new directory. */
function e003Head(genes: number): string {
  const dir = fresh('data');
  mkdirSync(dir);
  for (const split of ['train', 'valid', 'test']) {
    const lines = gunzipSync(readFileSync(`${DEFAULT_REAL_SAMPLE}.${split}.csv.gz`)).toString('latin1').trim().split('\n');
    const ids: string[] = [];
    const kept = lines.filter((line) => {
      const id = line.slice(0, line.indexOf(','));
      if (ids[ids.length - 1] !== id) ids.push(id);
      return ids.length <= genes;
    });
    writeFileSync(join(dir, `E003.${split}.csv`), `${kept.join('\n')}\n`);
  }
  return join(dir, 'E003');
}

/** A run into a new directory: on the E003 sample with 100 labeled genes, or on `data` with all its training genes. */
async function train(flags: readonly string[], data?: string): Promise<string> {
  const out = fresh('run');
  const genes = data === undefined ? ['--data', DEFAULT_REAL_SAMPLE, '--train-size', '100'] : ['--data', data];
  await trainToDirectory(parseArgs(['--cpu', ...genes, '--out', out, '--quiet', ...flags]), { progress: quiet });
  return out;
}

interface Row {
  readonly gene: string;
  readonly label: string | undefined;
  readonly value: number;
}

/** The rows of a predictions CSV: gene, label (when there is a column), and the value of `column`. */
function rows(text: string, column: string): Row[] {
  const [header, ...lines] = text.trim().split('\n');
  const names = (header as string).split(',');
  const at = names.indexOf(column);
  const label = names.indexOf('label');
  if (at < 0) throw new Error(`no column ${column} in ${header}`);
  return lines.map((line) => {
    const f = line.split(',');
    return { gene: f[0] as string, label: label < 0 ? undefined : f[label], value: Number(f[at]) };
  });
}

const PREDICTED = { class: 'probability', expression: 'predicted_log10_rpkm_plus1' } as const;

/** The bridge's predictions of the run's test genes against its predictions.csv: the same genes in the same order,
 * the same labels, and values within TOLERANCE. Returns the largest difference. */
function compare(run: string, target: keyof typeof PREDICTED): number {
  const r = bridge([run]);
  expect(r.status, r.stderr).toBe(0);
  const stored = rows(readFileSync(join(run, 'predictions.csv'), 'utf8'), PREDICTED[target]);
  const bridged = rows(r.stdout, PREDICTED[target]);
  expect(bridged.map((b) => b.gene)).toEqual(stored.map((s) => s.gene));
  if (target === 'class') expect(bridged.map((b) => b.label)).toEqual(stored.map((s) => s.label));
  let worst = 0;
  stored.forEach((s, i) => {
    const b = bridged[i] as Row;
    expect(Number.isFinite(b.value), `${b.gene}: ${b.value}`).toBe(true);
    worst = Math.max(worst, Math.abs(b.value - s.value));
  });
  expect(worst).toBeLessThanOrEqual(TOLERANCE);
  return worst;
}

const CASES = [
  { name: 'mlp', flags: ['--model', 'mlp', '--epochs', '1'], target: 'class' },
  { name: 'deepchrome', flags: ['--model', 'deepchrome', '--epochs', '1'], target: 'class' },
  { name: 'logreg', flags: ['--model', 'logreg'], target: 'class' },
  { name: 'mark-means', flags: ['--model', 'mark-means'], target: 'class' },
  { name: 'vae-mlp', flags: ['--model', 'vae-mlp', '--epochs', '1', '--vae-epochs', '1'], target: 'class', head: 30 },
  { name: 'vae-joint', flags: ['--model', 'vae-joint', '--epochs', '1', '--vae-epochs', '1'], target: 'class', head: 30 },
  { name: 'attentivechrome', flags: ['--model', 'attentivechrome', '--epochs', '1'], target: 'class', head: 30 },
  { name: 'logreg --target expression', flags: ['--model', 'logreg', '--target', 'expression'], target: 'expression' },
] as const;
type Case = (typeof CASES)[number];

/** Each case's run, trained once, by the first test that asks for it. */
const runs = new Map<string, Promise<string>>();
function runOf(name: Case['name']): Promise<string> {
  const c = CASES.find((k) => k.name === name) as Case;
  if (!runs.has(name)) runs.set(name, train(c.flags, 'head' in c ? e003Head(c.head) : undefined));
  return runs.get(name) as Promise<string>;
}

describe('to_pytorch.py reproduces a run’s predictions.csv in PyTorch', () => {
  it('knows, for every model of the registry, whether it rebuilds it, and reads each one’s input as its definition says', () => {
    requireTorch();
    const r = bridge(['--supported']);
    expect(r.status, r.stderr).toBe(0);
    const { supported, unsupported } = JSON.parse(r.stdout) as { supported: Record<string, string>; unsupported: Record<string, string> };
    expect([...Object.keys(supported), ...Object.keys(unsupported)].sort()).toEqual([...MODEL_NAMES].sort());
    for (const [name, input] of Object.entries(supported)) {
      if (!isModelName(name)) throw new Error(`${name} is not a model`);
      expect(input, name).toBe(MODEL_REGISTRY[name].input);
    }
  });

  it.each(CASES)('$name: every test gene within 1e-5', async (c) => {
    requireTorch();
    const run = await runOf(c.name);
    compare(run, c.target);
  }, 900_000);
});

describe('to_pytorch.py refuses, saying why, and changes nothing', () => {
  it('a model it does not rebuild', async () => {
    requireTorch();
    // A tss-linear run's best.safetensors holds a logreg classifier, as logreg's does: the same file, named so.
    const logreg = await runOf('logreg');
    const dir = fresh('tss-linear');
    mkdirSync(dir);
    const file = await readSafetensors(join(logreg, 'best.safetensors'));
    const { sha256: _checksum, ...metadata } = file.metadata;
    const tensors = [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    await writeSafetensors(join(dir, 'best.safetensors'), tensors, { ...metadata, model_name: 'tss-linear' });
    const before = snapshot(dir);
    const r = bridge([dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `to_pytorch.py: ${dir}/best.safetensors: the PyTorch bridge does not rebuild tss-linear (its features are summaries at the TSS, placed with the gene annotation); ` +
        'it rebuilds mlp, deepchrome, logreg, mark-means, vae-mlp, vae-joint, attentivechrome. Predict with: npx tsx run.ts predict --model RUN_DIR --data CELL\n',
    );
    expect(snapshot(dir)).toEqual(before);
  }, 300_000);

  it('a vae-mlp run without its VAE, a run directory that is not one, a damaged checkpoint', async () => {
    requireTorch();
    const vaeMlp = await runOf('vae-mlp');
    const noVae = fresh('no-vae');
    cpSync(vaeMlp, noVae, { recursive: true });
    rmSync(join(noVae, 'vae.safetensors'));
    const before = snapshot(noVae);
    const r = bridge([noVae]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `to_pytorch.py: ${noVae}/vae.safetensors: no such file: vae-mlp's classifier reads the latent means of the run's VAE, which the run writes there\n`,
    );
    expect(snapshot(noVae)).toEqual(before);

    const missing = join(root, 'never-trained');
    expect(bridge([missing]).stderr).toBe(`to_pytorch.py: ${missing}: no such directory (expected a run directory that training wrote with --out)\n`);

    const damaged = fresh('damaged');
    cpSync(await runOf('mlp'), damaged, { recursive: true });
    const best = join(damaged, 'best.safetensors');
    const bytes = readFileSync(best);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x40;
    writeFileSync(best, bytes);
    const d = bridge([damaged]);
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(new RegExp(`^to_pytorch\\.py: ${best}: checksum mismatch: the file is corrupted \\(stored sha256 [0-9a-f]{64}, computed [0-9a-f]{64}\\)\\n$`));
  }, 900_000);

  it('data that is no longer what the run trained on, unless --data asks for it; a cell of another window size; an --out that exists', async () => {
    requireTorch();
    const data = e003Head(30);
    const run = await train(['--model', 'logreg'], data);
    const test = `${data}.test.csv`;
    // One count of the last test gene, changed where the run recorded its data.
    const lines = readFileSync(test, 'utf8').trim().split('\n');
    const f = (lines[lines.length - 1] as string).split(',');
    f[2] = String(Number(f[2]) + 1);
    lines[lines.length - 1] = f.join(',');
    writeFileSync(test, `${lines.join('\n')}\n`);
    const r = bridge([run]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(`^to_pytorch\\.py: ${data}: not the data the run trained on \\(fingerprint [0-9a-f]{64}, the run recorded [0-9a-f]{64}\\): pass --data to predict this data anyway\\n$`),
    );
    const anyway = bridge([run, '--data', data]);
    expect(anyway.status, anyway.stderr).toBe(0);
    expect(rows(anyway.stdout, 'probability')).toHaveLength(30);
    const all = bridge([run, '--data', data, '--all-genes']);
    expect(rows(all.stdout, 'probability')).toHaveLength(90);

    // A cell of 50 bins per gene: the first half of each window.
    const half = e003Head(30);
    for (const split of ['train', 'valid', 'test']) {
      const file = `${half}.${split}.csv`;
      const kept = readFileSync(file, 'utf8').trim().split('\n').filter((line) => Number(line.split(',')[1]) <= 50);
      writeFileSync(file, `${kept.join('\n')}\n`);
    }
    const b = bridge([run, '--data', half]);
    expect(b.status).toBe(1);
    expect(b.stderr).toBe(`to_pytorch.py: ${half}.train.csv: 50 bins per gene, the model in ${run} was trained on 100\n`);

    const out = join(fresh('out'), 'mine.csv');
    mkdirSync(join(out, '..'));
    writeFileSync(out, 'a file of mine\n');
    const o = bridge([run, '--data', data, '--out', out]);
    expect(o.status).toBe(1);
    expect(o.stderr).toBe(`to_pytorch.py: ${out}: exists: the bridge never overwrites a file; choose another --out or remove it\n`);
    expect(readFileSync(out, 'utf8')).toBe('a file of mine\n');
  }, 300_000);
});
