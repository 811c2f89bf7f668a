import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/checkpoint/safetensors.ts';
import { CheckpointError } from '../src/checkpoint/safetensorsCodec.ts';
import { openTrack } from '../src/data/bigwigTracks.ts';
import { blobLines } from '../src/data/blobLines.ts';
import { DataError } from '../src/data/dataset.ts';
import { TRAILING_GZIP_DATA } from '../src/data/lineSplitter.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { run, runMain, snapshot } from './cliHelpers.ts';

// Odd files where data or a checkpoint should be (docs/RELIABILITY.md, "Odd
// files and odd values"): each is refused by name with what it is, without
// waiting on it and without changing anything of the user's. A FIFO used to
// block the process for good in a synchronous open (only SIGKILL ended it):
// before the fix these tests hang until their timeout.

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-odd-files-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let n = 0;
const gene = (id: string, label: number): string => [1, 2, 3].map((b) => `${id},${b},${b},0,1,2,3,${label}`).join('\n') + '\n';
/** A DeepChrome cell folder whose valid and test files are fine and whose train file is what `train` makes of its path. */
async function cell(train: (path: string) => Promise<void> | void): Promise<{ dir: string; train: string }> {
  const dir = join(root, `case${n++}`);
  await mkdir(dir);
  await writeFile(join(dir, 'valid.csv'), gene('c', 1) + gene('d', 0));
  await writeFile(join(dir, 'test.csv'), gene('e', 1) + gene('f', 0));
  const path = join(dir, 'train.csv');
  await train(path);
  return { dir, train: path };
}
const mkfifo = (path: string): void => {
  execFileSync('mkfifo', [path]);
};

async function refused(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(Error);
  return e as Error;
}

describe('a FIFO or device in place of an input is refused by name, at once', () => {
  it('a FIFO as a split file', async () => {
    const { dir, train } = await cell(mkfifo);
    const before = snapshot(dir);
    const e = await refused(loadCell(dir));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(`${train}: is a FIFO (named pipe), not a regular file`);
    // Nothing written beside the data (no cache of a refused cell).
    expect(snapshot(dir)).toEqual(before);
  }, 30_000);

  it('a FIFO as a checkpoint', async () => {
    const path = join(root, 'best.safetensors');
    mkfifo(path);
    const e = await refused(readSafetensors(path));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toContain(`${path}`);
    expect(e.message).toContain('is a FIFO (named pipe), not a regular file');
  }, 30_000);

  it('a FIFO as a bigWig track, and a character device', async () => {
    const path = join(root, 'H3K4me3.bw');
    mkfifo(path);
    const e = await refused(openTrack({ mark: 'H3K4me3', path }));
    expect(e.message).toBe(`${path}: is a FIFO (named pipe), not a regular file`);
    const dev = await refused(openTrack({ mark: 'H3K4me3', path: '/dev/zero' }));
    expect(dev.message).toBe('/dev/zero: is a character device, not a regular file');
  }, 30_000);

  it('a FIFO as a bigWig sources file, and as a grid plan', async () => {
    const sources = join(root, 'bigwig-sources.json');
    mkfifo(sources);
    const e = await refused(loadCell(sources));
    expect(e.message).toBe(`${sources}: is a FIFO (named pipe), not a regular file`);
    const plan = join(root, 'plan.json');
    mkfifo(plan);
    const r = await runMain(['collect', '--plan', plan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${plan} is a FIFO (named pipe), not a regular file`);
    // Writing a plan where a FIFO already is: refused, not waited on.
    const { dir } = await cell((p) => writeFile(p, gene('a', 1) + gene('b', 0) + gene('g', 1) + gene('h', 0)));
    const w = await runMain(['--cpu', '--experiment', 'small-data', '--data', dir, '--models', 'logreg', '--sizes', 'all', '--seeds', '1', '--quiet', '--out', join(root, 'grid'), '--plan', plan]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain(`${plan} is a FIFO (named pipe), not a regular file`);
  }, 30_000);

  it('a FIFO at the cache file\'s name is not read, not waited on and not replaced', async () => {
    const { dir } = await cell((p) => writeFile(p, gene('a', 1) + gene('b', 0)));
    const first = await loadCell(dir);
    const cacheFile = first.cache.file as string;
    await rm(cacheFile);
    mkfifo(cacheFile);
    const again = await loadCell(dir);
    expect(again.dataset.genes).toBe(first.dataset.genes);
    expect(again.cache.used).toBe(false);
    expect(again.cache.writeError).toBe(`${cacheFile} is not a simplechrome cache; it is left as it is`);
    expect(snapshot(dir)[join('.simplechrome-cache', basename(cacheFile))]).toBe('not a regular file');
  }, 30_000);

  it('a huge sparse file at the cache file\'s name is judged from its first bytes and header, never read whole', async () => {
    // 64 GB: read or even allocated whole, it would take minutes or fail; the test's timeout catches either.
    const huge = (path: string): void => {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, 64 * 2 ** 30);
      closeSync(fd);
    };
    const { dir } = await cell((p) => writeFile(p, gene('a', 1) + gene('b', 0)));
    const first = await loadCell(dir);
    const cacheFile = first.cache.file as string;
    const cacheBytes = (await readFile(cacheFile)).length;
    // A cache grown past the size its header states: damaged, so rebuilt from the sources (it is the cache's own file).
    huge(cacheFile);
    const grown = await loadCell(dir);
    expect(grown.cache).toMatchObject({ used: false, status: 'corrupt' });
    expect(grown.cache.reason).toMatch(/^payload is \d{11} bytes, the header says \d+$/);
    expect(grown.dataset.geneIds).toEqual(first.dataset.geneIds);
    expect((await readFile(cacheFile)).length).toBe(cacheBytes);
    // Not a cache at all (a user's huge file): only its first bytes are read, and it is left as it is.
    await writeFile(cacheFile, 'my own huge file');
    huge(cacheFile);
    const { size, mtimeMs } = statSync(cacheFile);
    const foreign = await loadCell(dir);
    expect(foreign.cache).toMatchObject({ used: false, status: 'foreign' });
    expect(foreign.dataset.geneIds).toEqual(first.dataset.geneIds);
    expect(statSync(cacheFile)).toMatchObject({ size, mtimeMs });
    const fd = openSync(cacheFile, 'r');
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    closeSync(fd);
    expect(head.toString()).toBe('my own huge file');
  }, 60_000);

  it('the command exits with the message, as a user runs it', async () => {
    const { dir, train } = await cell(mkfifo);
    const before = snapshot(dir);
    const out = join(root, 'fifo-run');
    const r = await run(process.execPath, ['--import', 'tsx', 'run.ts', 'train', '--cpu', '--data', dir, '--out', out, '--epochs', '1'], join(import.meta.dirname, '..'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${train}: is a FIFO (named pipe), not a regular file`);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);
});

describe('odd paths are named for what they are', () => {
  it('a directory where a split file should be', async () => {
    const { dir, train } = await cell((p) => mkdir(p));
    const before = snapshot(dir);
    const e = await refused(loadCell(dir));
    expect(e.message).toBe(`${train}: is a directory where a data file should be: move it away or pass the data file itself`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a loop of symbolic links, as a split file and as --data itself', async () => {
    const { dir, train } = await cell((p) => symlink(p, p));
    const e = await refused(loadCell(dir));
    expect(e.message).toBe(`${train}: a loop of symbolic links (a link that leads, directly or through others, back to itself)`);
    const loop = join(root, 'loop');
    await symlink(join(root, 'loop2'), loop);
    await symlink(loop, join(root, 'loop2'));
    const e2 = await refused(loadCell(loop));
    expect(e2.message).toBe(`${loop}: a loop of symbolic links (a link that leads, directly or through others, back to itself)`);
  });
});

describe('bytes appended after a whole gzip stream', () => {
  for (const [what, extra] of [
    ['a line of text', 'appended by mistake\n'],
    ['one newline (echo >> file.gz)', '\n'],
  ] as const) {
    it(`${what}: "trailing data after the gzip stream", with no line number`, async () => {
      const { dir, train } = await cell(async (p) => {
        await writeFile(`${p}.gz`, Buffer.concat([gzipSync(gene('a', 1) + gene('b', 0)), Buffer.from(extra)]));
      });
      const before = snapshot(dir);
      const e = await refused(loadCell(dir));
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).line).toBeUndefined();
      expect(e.message).toBe(
        `${train}.gz: trailing data after the gzip stream: bytes follow the end of the compressed data (appended to the file, or two files joined?); the file is damaged, so it is not used`,
      );
      expect(snapshot(dir)).toEqual(before);
    });
  }

  it('a page’s dropped file says the same (blobLines, through the DecompressionStream of the runtime)', async () => {
    const name = 'train.csv.gz';
    const blob = new Blob([gzipSync(gene('a', 1)), 'appended by mistake\n']);
    const e = await refused(blobLines(new Map([[name, blob]]))(name, () => {}));
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(`${name}: ${TRAILING_GZIP_DATA}`);
  });

  it('a stream cut short is still "truncated" at its line, and two whole members are one file', async () => {
    const whole = gzipSync(gene('a', 1) + gene('b', 0));
    const cut = await cell((p) => writeFile(`${p}.gz`, whole.subarray(0, whole.length - 12)));
    expect((await refused(loadCell(cut.dir))).message).toContain('truncated gzip stream');
    const two = await cell((p) => writeFile(`${p}.gz`, Buffer.concat([gzipSync(gene('a', 1)), gzipSync(gene('b', 0))])));
    expect((await loadCell(two.dir, { cache: false })).dataset.genes).toBe(6);
  });
});

describe('a checkpoint whose header does not fit its size is refused before its payload is read', () => {
  it('a 1.5 GB sparse file with an empty header', async () => {
    const path = join(root, 'sparse.safetensors');
    const fd = openSync(path, 'w');
    const head = Buffer.alloc(10);
    head.writeBigUInt64LE(2n, 0);
    head.write('{}', 8, 'latin1');
    writeSync(fd, head, 0, head.length, 0);
    ftruncateSync(fd, 1.5 * 2 ** 30);
    closeSync(fd);
    const before = process.memoryUsage().arrayBuffers;
    const e = await refused(readSafetensors(path));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toBe(`${path}: ${1.5 * 2 ** 30 - 10} bytes after the last tensor (a file with something appended?)`);
    // Read whole, the payload would have been 1.5 GB of array buffers.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 28);
  });

  it('a real checkpoint still reads, and is left as it was', async () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'checkpoints', 'mlp', 'best.safetensors');
    const before = await readFile(fixture);
    const f = await readSafetensors(fixture);
    expect(f.tensors.size).toBeGreaterThan(0);
    expect(await readFile(fixture)).toEqual(before);
  });
});

describe('a slow read can be interrupted', () => {
  it('Ctrl-C while the sources are hashed for the cache stops the command at once', async () => {
    // A 64 GB sparse split file: hashing it takes minutes, so the command is surely still reading it when the
    // signal comes. The test waits until the process has the file open (its /proc/PID/fd), not for a time.
    const { dir, train } = await cell((p) => {
      const fd = openSync(p, 'w');
      ftruncateSync(fd, 64 * 2 ** 30);
      closeSync(fd);
    });
    const { spawn } = await import('node:child_process');
    const { readdirSync, readlinkSync } = await import('node:fs');
    const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts', 'train', '--cpu', '--data', dir, '--out', join(root, 'slow-run')], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const holdsIt = (): boolean => {
      try {
        return readdirSync(`/proc/${child.pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${child.pid}/fd/${fd}`) === train;
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    while (!holdsIt()) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('simplechrome: interrupted (SIGINT)');
    expect(readdirSync(dir).sort()).toEqual(['test.csv', 'train.csv', 'valid.csv']);
  }, 120_000);
});
