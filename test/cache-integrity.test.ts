import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// The data cache is checked by a SHA-256 of its payload, not only by CRCs,
// which a tool that edits the file recomputes: a cache whose labels were
// flipped and its CRCs made right again is refused, read again from the
// sources, rewritten, and the user is told. A file at the cache's name that
// is not a cache is never replaced.

const root = mkdtempSync(join(tmpdir(), 'sc-cacheint-'));
let data = '';
beforeAll(async () => {
  const d = join(root, 'data');
  mkdirSync(d);
  await writeSynthetic(d, { genes: 40, seed: 29, bins: 6, cell: 'SYNTHETIC-C' });
  data = join(d, 'SYNTHETIC-C');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Flips every label in a cache file and makes its CRCs right again (the payload's, when the header keeps one, and the header's). */
function flipLabels(file: string): void {
  const buf = readFileSync(file);
  const headerBytes = buf.readUInt32LE(12);
  const header = JSON.parse(buf.toString('utf8', 20, 20 + headerBytes)) as { genes: number; bins: number; marks: string[]; payloadCrc32?: number };
  const payload = Buffer.from(buf.subarray((20 + headerBytes + 3) & ~3));
  const labels = header.genes * header.bins * header.marks.length * 4;
  for (let g = 0; g < header.genes; g++) payload[labels + g] = 1 - (payload[labels + g] as number);
  if (header.payloadCrc32 !== undefined) header.payloadCrc32 = crc32(payload);
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const start = (20 + text.length + 3) & ~3;
  const out = Buffer.alloc(start + payload.length);
  buf.copy(out, 0, 0, 12);
  out.writeUInt32LE(text.length, 12);
  out.writeUInt32LE(crc32(text), 16);
  text.copy(out, 20);
  payload.copy(out, start);
  writeFileSync(file, out);
}

describe('a cache file that was altered is never trusted', () => {
  it('labels flipped with the CRCs recomputed: detected by the payload’s SHA-256, read again and rewritten', async () => {
    const first = await loadCell(data);
    const file = first.cache.file as string;
    expect((await loadCell(data)).cache.status).toBe('hit');
    flipLabels(file);
    const again = await loadCell(data);
    expect(again.cache).toMatchObject({ used: false, status: 'corrupt', reason: 'payload SHA-256 mismatch: the file was damaged or altered' });
    expect(Array.from(again.dataset.labels)).toEqual(Array.from(first.dataset.labels));
    const third = await loadCell(data);
    expect(third.cache.status).toBe('hit');
    expect(Array.from(third.dataset.labels)).toEqual(Array.from(first.dataset.labels));
  });

  it('a run on an altered cache says so on stderr; the cache is rewritten and nothing else beside the data changes', async () => {
    const file = (await loadCell(data)).cache.file as string;
    const good = snapshot(dirname(dirname(file)));
    flipLabels(file);
    const out = join(root, 'run');
    const r = await runMain(['--cpu', '--model', 'logreg', '--data', data, '--epochs', '1', '--quiet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `data: the cache ${file} was not used: payload SHA-256 mismatch: the file was damaged or altered; the data was read from its sources and the cache rewritten\n`,
    );
    // The data's folder as it was before the edit: the sources untouched, the cache rebuilt to the same bytes.
    expect(snapshot(dirname(dirname(file)))).toEqual(good);
  }, 60_000);

  it('a file at the cache’s name that is not a cache is left as it is, and the data read from its sources', async () => {
    const file = (await loadCell(data)).cache.file as string;
    writeFileSync(file, 'my notes, saved under an unlucky name\n');
    const before = snapshot(root);
    const loaded = await loadCell(data);
    expect(loaded.cache).toMatchObject({ used: false, status: 'foreign', reason: 'not a simplechrome cache (it does not begin with SCHRDSET)' });
    expect(loaded.cache.writeError).toBeUndefined();
    expect(snapshot(root)).toEqual(before);
    const r = await runMain(['--cpu', '--model', 'logreg', '--data', data, '--epochs', '1', '--quiet', '--out', join(root, 'run-foreign')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `data: ${file} is not a simplechrome cache (it does not begin with SCHRDSET): it is left as it is, and the data is read from its sources each time (move it away to let a cache be written)\n`,
    );
    expect(readFileSync(file, 'utf8')).toBe('my notes, saved under an unlucky name\n');
    rmSync(file);
  }, 60_000);

  it('a cache that cannot be written is said on stderr, not only recorded as a miss', async () => {
    const file = (await loadCell(data)).cache.file as string;
    rmSync(dirname(file), { recursive: true });
    // The data's folder read-only sends the cache to $XDG_CACHE_HOME, which here is a file: it cannot be made.
    const sources = dirname(dirname(file));
    const blocker = join(root, 'not-a-folder');
    writeFileSync(blocker, 'a file where the cache folder would go\n');
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = blocker;
    chmodSync(sources, 0o555);
    try {
      const before = snapshot(sources);
      const r = await runMain(['--cpu', '--model', 'logreg', '--data', data, '--epochs', '1', '--quiet', '--out', join(root, 'run-unwritable')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^data: the cache could not be written \(.*ENOTDIR.*\); the data is read from its sources each time until it can be$/m);
      expect(snapshot(sources)).toEqual(before);
      expect(readFileSync(blocker, 'utf8')).toBe('a file where the cache folder would go\n');
    } finally {
      chmodSync(sources, 0o755);
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  }, 60_000);
});
