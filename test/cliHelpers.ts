import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, vi } from 'vitest';
import { type SyntheticOptions, writeSynthetic } from '../datasets/generateSynthetic.ts';
import { main } from '../src/cli/main.ts';
import { TEST_PAUSE_ENV, testPauseMarker } from '../src/util/testPause.ts';

// What the command-line tests share: main() with one stream captured, and a
// snapshot of a directory's bytes to show that nothing in it changed.

export async function captured(stream: 'stdout' | 'stderr', f: () => Promise<number>): Promise<{ code: number; text: string }> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const code = await f();
    return { code, text: chunks.join('') };
  } finally {
    spy.mockRestore();
  }
}

/** main(argv) with stdout and stderr captured: the exit code and what it wrote to each. */
export async function runMain(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stderr = '';
  const { code, text } = await captured('stdout', async () => {
    const r = await captured('stderr', () => main(argv));
    stderr = r.text;
    return r.code;
  });
  return { code, stdout: text, stderr };
}

/** Every file under `dir` (recursively, dot files included) with the SHA-256 of its bytes (a FIFO, device or broken link by what it is); {} when dir is missing. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(dir, rel, name);
      let s;
      try {
        s = statSync(path);
      } catch (e) {
        out[join(rel, name)] = `cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
        continue;
      }
      if (s.isDirectory()) walk(join(rel, name));
      // A FIFO or device is named, not read: reading a FIFO would wait for a writer.
      else if (!s.isFile()) out[join(rel, name)] = 'not a regular file';
      else out[join(rel, name)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk('');
  return out;
}

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Starts run.ts and sends `signal` once stderr matches `when`; resolves with the exit code and stderr. */
export function interruptWhen(argv: readonly string[], when: RegExp, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    // Node with tsx's loader, not the tsx command: that one relays a signal to the process it starts and kills it
    // when it does not answer within ~60 ms, which a CPU step of this size can outlast (see runInSlices.ts).
    const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts', ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** A process run to its end without blocking this one (a test worker that blocks for a minute loses its runner). */
export function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A run.ts process that stops itself at the test-pause points it is given (src/util/testPause.ts). */
export interface PausingProcess {
  readonly pid: number;
  /** Resolves once the process has stopped at `point` (its marker is on stderr and the kernel shows it stopped); rejects when it exits first. */
  pausedAt(point: string): Promise<void>;
  /** Lets a paused process go on (SIGCONT). */
  proceed(): void;
  /** SIGKILL, and resolves once it is gone. */
  kill(): Promise<void>;
  /** The exit code (null when killed by a signal) and all it wrote. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts run.ts with $SIMPLECHROME_TEST_PAUSE set to `points`; see PausingProcess. */
export function startPausing(argv: readonly string[], points: readonly string[]): PausingProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'run.ts', ...argv], {
    cwd: REPO,
    env: { ...process.env, [TEST_PAUSE_ENV]: points.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let seen = 0;
  let ended = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    }),
  );
  // The marker is written just before the process stops itself: wait for the stop too, or a SIGCONT sent in
  // between would be lost and the process would stay stopped.
  const stopped = (): boolean => {
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
    } catch {
      return false;
    }
  };
  return {
    pid: child.pid as number,
    pausedAt: (point) =>
      new Promise((resolve, reject) => {
        const marker = testPauseMarker(point);
        const look = (): void => {
          const at = stderr.indexOf(marker, seen);
          if (at >= 0 && stopped()) {
            seen = at + marker.length;
            resolve();
          } else if (ended) reject(new Error(`the process ended before it paused at ${point}:\n${stderr}`));
          else setTimeout(look, 10);
        };
        look();
      }),
    proceed: () => child.kill('SIGCONT'),
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
}

/**
 * A small tmpfs mounted at a new folder, for a disk that fills up. Mounting needs root (CI runs as root); where it
 * is impossible the test fails saying why: it never skips.
 */
export function mountTmpfs(size: string): { readonly dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const who = process.getuid?.() === 0 ? 'as root' : `as user ${process.getuid?.()} (mounting needs root; CI runs as root)`;
    throw new Error(`this test fills a small tmpfs, and mount -t tmpfs failed ${who}: ${(mounted.stderr || mounted.error?.message || `exit ${mounted.status}`).trim()}`);
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem of `dir` with one file (`filler.bin` in `dir`) up to its last byte, less `leave` bytes; returns its path. */
export function fillDisk(dir: string, leave = 0): string {
  const path = join(dir, 'filler.bin');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (let size = chunk.length; size >= 1; ) {
      try {
        written += writeSync(fd, chunk, 0, size);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        size = Math.floor(size / 2);
      }
    }
    ftruncateSync(fd, Math.max(0, written - leave));
  } finally {
    closeSync(fd);
  }
  return path;
}

/** This test file's temporary folder, with one synthetic cell written into it (into its sub-folder `under` when
 * given) before the file's tests, and the folder removed after them all; `data` is the cell's folder. */
export function syntheticCellFolder(prefix: string, cell: SyntheticOptions & { readonly cell: string }, under?: string): { readonly root: string; readonly data: string } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const dir = under === undefined ? root : join(root, under);
  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    await writeSynthetic(dir, cell);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return { root, data: join(dir, cell.cell) };
}
