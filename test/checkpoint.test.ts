import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { parseArgs } from '../src/cli/flags/args.ts';
import { trainToDirectory } from '../src/cli/run/trainRun.ts';
import { mlpSpec, buildClassifier } from '../src/models/modelSpec.ts';
import { flatToTensors, readClassifierCheckpoint, tensorsToFlat } from '../src/checkpoint/runCheckpoint.ts';
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
} from '../src/checkpoint/safetensors.ts';
import { seededRandom } from '../src/util/random.ts';

// Checkpoints are safetensors files: they round-trip exactly, an independent
// reader (Python, from the published layout) agrees on every tensor, and a
// truncated or damaged file is refused with a message naming it.

const REPO = fileURLToPath(new URL('../', import.meta.url));
const PY_READER = join(REPO, 'test', 'fixtures', 'read_safetensors.py');
const quiet = { epoch: () => {}, vaeEpoch: () => {} };

interface PyTensor {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
  count: number;
  sum: number;
  first: number[];
}
interface PyReport {
  header_length: number;
  data_start_aligned: boolean;
  tensors: Record<string, PyTensor>;
  metadata: Record<string, string>;
  checksum_ok: boolean | null;
}

function pythonRead(file: string): PyReport {
  const r = spawnSync('python3', [PY_READER, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python reader failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyReport;
}

function sample() {
  const w = new Float32Array(3 * 5).map((_, i) => (i - 7) / 3);
  w[4] = -0;
  w[5] = 1e-40; // a subnormal survives the trip
  return [
    { name: 'fc1.weight', shape: [3, 5], data: w },
    { name: 'fc1.bias', shape: [5], data: Float32Array.from([1, 2, 3, 4, 5]) },
    { name: 'label', shape: [3], data: Uint8Array.from([0, 1, 1]) },
    { name: 'counts', shape: [2], data: Uint32Array.from([7, 0xffffffff]) },
  ];
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sc-ckpt-'));

describe('safetensors files', () => {
  it('round-trip tensors and metadata exactly, with the data 8-byte aligned', () => {
    const bytes = encodeSafetensors(sample(), { note: 'héllo "quoted"', epoch: '3' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const back = decodeSafetensors(bytes, 'mem');
    expect(back.metadata).toEqual({ note: 'héllo "quoted"', epoch: '3' });
    for (const t of sample()) {
      const got = back.tensors.get(t.name);
      expect(got?.shape).toEqual(t.shape);
      expect(Array.from(got?.data ?? [])).toEqual(Array.from(t.data));
    }
    expect(Object.is(back.tensors.get('fc1.weight')?.data[4], -0)).toBe(true);
    expect(back.tensors.get('label')?.dtype).toBe('U8');
    expect(back.tensors.get('counts')?.dtype).toBe('U32');
  });

  it('are read the same by an independent Python reader of the published layout', async () => {
    const file = join(tmp(), 'x.safetensors');
    await writeSafetensors(file, sample(), { epoch: '3' });
    const py = pythonRead(file);
    expect(py.checksum_ok).toBe(true);
    expect(py.data_start_aligned).toBe(true);
    expect(py.metadata.epoch).toBe('3');
    expect(Object.keys(py.tensors).sort()).toEqual(['counts', 'fc1.bias', 'fc1.weight', 'label']);
    for (const t of sample()) {
      const p = py.tensors[t.name] as PyTensor;
      expect(p.shape).toEqual(t.shape);
      expect(p.count).toBe(t.data.length);
      const sum = Array.from(t.data).reduce((a, b) => a + b, 0);
      expect(p.sum).toBeCloseTo(sum, 10);
      expect(p.first).toEqual(Array.from(t.data.subarray(0, 4)));
    }
    expect(py.tensors['fc1.weight']?.dtype).toBe('F32');
    expect(py.tensors['label']?.dtype).toBe('U8');
  });

  it('refuses names that collide and data that does not fit the shape', () => {
    const t = sample();
    expect(() => encodeSafetensors([...t, t[0] as (typeof t)[0]], {})).toThrow('safetensors: tensor name "fc1.weight" is reserved or repeated');
    expect(() => encodeSafetensors([{ name: 'a', shape: [2, 2], data: new Float32Array(3) }], {})).toThrow(
      'safetensors: tensor "a" has 3 values for shape [2, 2]',
    );
  });
});

describe('a damaged checkpoint is refused with a message naming the file and the damage', () => {
  let good: Uint8Array;
  let dir: string;
  const write = (name: string, bytes: Uint8Array): string => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  beforeAll(() => {
    dir = tmp();
    good = encodeSafetensors(sample(), { epoch: '3', settings: '{"lr":0.001}' });
  });
  const headerEnd = () => 8 + Number(new DataView(good.buffer).getBigUint64(0, true));

  it.each([
    ['empty', () => new Uint8Array(0), /empty\.safetensors: truncated: 0 bytes, shorter than the 8-byte header length/],
    ['cut in the header', () => good.slice(0, 40), /cut-header\.safetensors: truncated: the header needs \d+ bytes after the length field, the file has 32/],
    ['cut in the data', () => good.slice(0, good.length - 5), /cut-data\.safetensors: truncated: tensor "counts" ends at data byte 91, the file holds 86 bytes of data/],
  ])('truncated (%s)', async (what, bytes, message) => {
    const name = what === 'empty' ? 'empty' : what === 'cut in the header' ? 'cut-header' : 'cut-data';
    await expect(readSafetensors(write(`${name}.safetensors`, bytes()))).rejects.toThrow(message);
  });

  it('a flipped bit in the data fails the checksum', async () => {
    const bad = Uint8Array.from(good);
    bad[headerEnd() + 10] = (bad[headerEnd() + 10] as number) ^ 0x04;
    await expect(readSafetensors(write('flip-data.safetensors', bad))).rejects.toThrow(
      /flip-data\.safetensors: checksum mismatch: the file is corrupted \(stored sha256 [0-9a-f]{64}, computed [0-9a-f]{64}\)/,
    );
  });

  it('an edited metadata value fails the checksum too', async () => {
    const text = Buffer.from(good).toString('latin1').replace('0.001', '0.002');
    await expect(readSafetensors(write('edit-meta.safetensors', Buffer.from(text, 'latin1')))).rejects.toThrow(
      /edit-meta\.safetensors: checksum mismatch/,
    );
  });

  it('bytes appended after the last tensor are refused', async () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    await expect(readSafetensors(write('appended.safetensors', longer))).rejects.toThrow(
      'appended.safetensors: 4 bytes after the last tensor (a file with something appended?)',
    );
  });

  it('a header length no file of ours has, a header that is not JSON, and a missing file', async () => {
    const huge = Uint8Array.from(good);
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await expect(readSafetensors(write('huge.safetensors', huge))).rejects.toThrow(
      'huge.safetensors: not a safetensors file: header length field says 1099511627776 bytes',
    );
    const garbled = Uint8Array.from(good);
    garbled[8] = 0x5b; // '[' where '{' was: not an object, or not JSON at all
    garbled[9] = 0x7d;
    await expect(readSafetensors(write('garbled.safetensors', garbled))).rejects.toThrow(/garbled\.safetensors: corrupted header: not JSON/);
    await expect(readSafetensors(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent\.safetensors: no such file/);
  });

  it('CheckpointError carries the file', async () => {
    const e = await readSafetensors(write('e.safetensors', new Uint8Array(3))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as CheckpointError).file).toMatch(/e\.safetensors$/);
  });
});

describe('model weights in checkpoints', () => {
  it('one tensor per parameter, PyTorch-style names, back into the same flat layout', () => {
    const model = buildClassifier(mlpSpec([4, 5]));
    const flat = model.store.initialValues(3);
    const tensors = flatToTensors(model.store, flat);
    expect(tensors.map((t) => `${t.name} [${t.shape.join(',')}]`)).toEqual([
      'fc1.weight [20,256]',
      'fc1.bias [256]',
      'fc2.weight [256,128]',
      'fc2.bias [128]',
      'out.weight [128,1]',
      'out.bias [1]',
    ]);
    const file = decodeSafetensors(encodeSafetensors(tensors, {}), 'mem');
    expect(Array.from(tensorsToFlat(model.store, file, 'mem'))).toEqual(Array.from(flat));
  });

  it('a tensor of the wrong shape or a missing one is named with both shapes', () => {
    const model = buildClassifier(mlpSpec([4, 5]));
    const other = buildClassifier(mlpSpec([4, 6]));
    const file = decodeSafetensors(encodeSafetensors(flatToTensors(other.store, other.store.initialValues(1)), {}), 'w.safetensors');
    expect(() => tensorsToFlat(model.store, file, 'w.safetensors')).toThrow(
      'w.safetensors: tensor "fc1.weight" has shape [24, 256], the model expects [20, 256]',
    );
    expect(() => tensorsToFlat(model.store, file, 'w.safetensors', 'adam.m.')).toThrow('w.safetensors: no tensor "adam.m.fc1.weight" (the model has it)');
  });

  it('a training run leaves best and last checkpoints that Python reads and that carry the run', async () => {
    const root = tmp();
    await writeSynthetic(root, { genes: 30, seed: 5, bins: 4, cell: 'SYNTHETIC-CK' });
    const out = join(root, 'run');
    await trainToDirectory(
      parseArgs(['--cpu', '--model', 'mlp', '--data', join(root, 'SYNTHETIC-CK'), '--epochs', '2', '--batch', '8', '--out', out, '--quiet']),
      { progress: quiet },
    );
    const last = await readClassifierCheckpoint(join(out, 'last.safetensors'), 'last');
    expect(last.state.epoch).toBe(2);
    expect(last.state.step).toBe(2 * Math.ceil(30 / 8));
    expect(last.info.settings).toMatchObject({ model: 'mlp', epochs: 2, batch: 8, lr: 0.001, seed: 1, normalize: 'log1p-max', device: 'cpu' });
    expect(last.info.normalization.scheme).toBe('log1p-max');
    expect(last.info.data).toMatchObject({ cell: 'SYNTHETIC-CK', genes: 90, bins: 4 });
    expect(last.state.history.map((h) => h.epoch)).toEqual([1, 2]);

    const py = pythonRead(join(out, 'last.safetensors'));
    expect(py.checksum_ok).toBe(true);
    const names = Object.keys(py.tensors);
    for (const p of ['fc1.weight', 'fc1.bias', 'out.weight']) {
      expect(names).toContain(p);
      expect(names).toContain(`adam.m.${p}`);
      expect(names).toContain(`adam.v.${p}`);
      expect(names).toContain(`best.${p}`);
    }
    expect(py.tensors['fc1.weight']?.shape).toEqual([20, 256]);
    const fc1 = last.params.subarray(0, 20 * 256);
    expect(py.tensors['fc1.weight']?.first).toEqual(Array.from(fc1.subarray(0, 4)));
    expect(py.tensors['fc1.weight']?.sum).toBeCloseTo(Array.from(fc1).reduce((a, b) => a + b, 0), 6);
    const meta = py.metadata;
    expect(JSON.parse(meta.model as string)).toEqual({ architecture: 'mlp', inputShape: [4, 5], hidden: [256, 128] });
    expect(JSON.parse(meta.normalization as string).marks).toHaveLength(5);
    expect(meta.rng_state).toMatch(/^\d+$/);
    expect(Number(meta.best_epoch)).toBeGreaterThanOrEqual(1);

    const best = pythonRead(join(out, 'best.safetensors'));
    expect(best.checksum_ok).toBe(true);
    expect(Object.keys(best.tensors).sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'out.bias', 'out.weight']);
    expect(best.metadata.role).toBe('best');
    expect(readFileSync(join(out, 'metrics.json'), 'utf8')).toContain('"checkpoints"');
  });
});

describe('the host shuffle generator', () => {
  it('its state can be read and restored to replay the same stream; existing callers still get numbers', () => {
    const a = seededRandom(42);
    for (let i = 0; i < 5; i++) a();
    const saved = a.state();
    const next = [a(), a(), a()];
    const b = seededRandom(7);
    b.restore(saved);
    expect([b(), b(), b()]).toEqual(next);
    const plain: () => number = seededRandom(1);
    expect(plain()).toBeGreaterThanOrEqual(0);
    expect(() => b.restore(-1)).toThrow('random stream: state must be an integer in [0, 4294967295], got -1');
  });
});
