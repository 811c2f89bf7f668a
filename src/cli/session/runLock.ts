import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { writeFailureReason } from '../../util/writeFailure.ts';

// One run at a time per output directory. The lock is a small JSON file in
// the directory naming its owner (pid, host, the process's start time, the
// command line). It is created complete or not at all: written under a
// temporary name and hard-linked into place, which fails if a lock exists.
// A lock whose process is gone is taken over, under a second "takeover"
// lock, so two runs that find the same stale lock cannot both take it.

export const LOCK_FILE = '.simplechrome.lock';
const TAKEOVER_SUFFIX = '.takeover';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The process's start time in clock ticks since boot (/proc/PID/stat), so a reused pid is not mistaken for the owner. */
  readonly startTicks: string | undefined;
  readonly started: string;
  readonly command: string;
}

/** A run already writes into the directory (or its lock cannot be judged); the message names the owner. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerNow(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    startTicks: startTicksOf(process.pid),
    started: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
  };
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string' || typeof o.started !== 'string' || typeof o.command !== 'string') return undefined;
    return { pid: o.pid, host: o.host, startTicks: typeof o.startTicks === 'string' ? o.startTicks : undefined, started: o.started, command: o.command };
  } catch {
    return undefined;
  }
}

/** 'alive', 'dead', or 'unknown' (another machine: its processes cannot be seen from here). */
function liveness(o: LockOwner): 'alive' | 'dead' | 'unknown' {
  if (o.host !== hostname()) return 'unknown';
  return pidReused(o) === undefined ? 'alive' : 'dead';
}

/**
 * Why the lock's process has ended ('gone': no process has its PID; 'reused':
 * a process of that PID runs, but it started at another time than the one
 * the lock recorded, so it is another program), or undefined while it runs.
 */
function pidReused(o: LockOwner): 'gone' | 'reused' | undefined {
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
  }
  const ticks = startTicksOf(o.pid);
  if (o.startTicks !== undefined && ticks !== undefined && ticks !== o.startTicks) return 'reused';
  return undefined;
}

/** A stale lock this run took over: whose it was, and how it is known to have ended. */
export interface TakenOver {
  readonly pid: number;
  readonly started: string;
  readonly how: 'gone' | 'reused';
}

/** The note a run gives when it took over `out`'s stale lock. */
export function takeoverNote(out: string, t: TakenOver): string {
  const ended =
    t.how === 'reused'
      ? `which has ended: the process ${t.pid} running now is another program that reuses its number (its start time differs from the one the lock recorded on ${t.started})`
      : 'which is no longer running';
  return `note: ${out} was locked by process ${t.pid}, ${ended}; this run took the lock over`;
}

/** Creates `path` holding `text`, complete, or throws EEXIST when it exists. */
function createExclusive(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

export class RunLock {
  private constructor(
    private path: string,
    private readonly text: string,
    /** Set when this lock replaced the lock of a process that had died. */
    readonly tookOverFrom: TakenOver | undefined,
  ) {}

  get file(): string {
    return this.path;
  }

  /**
   * Locks `dir` (which must exist) for this process, taking over a lock whose
   * process has died. `what` names the directory in messages ("--out runs/x"); `advice` says what to do while
   * another live process holds it.
   */
  static acquire(dir: string, what: string, advice = 'wait for it to finish or stop it, or choose another --out'): RunLock {
    const path = join(dir, LOCK_FILE);
    const mine = `${JSON.stringify(ownerNow())}\n`;
    let tookOver: TakenOver | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        createExclusive(path, mine);
        return new RunLock(path, mine, tookOver);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${what}: cannot create the lock file ${path}: ${writeFailureReason(e)}`);
      }
      const text = readText(path);
      if (text === undefined) continue; // released meanwhile: try again
      const owner = parseOwner(text);
      if (owner === undefined) {
        throw new RunLockedError(`${what}: the lock file ${path} is unreadable; if no run is writing into it, delete that file and start again`);
      }
      const state = liveness(owner);
      if (state === 'alive') {
        throw new RunLockedError(
          `${what} is in use by another run: process ${owner.pid} (started ${owner.started}: ${owner.command}); ${advice}`,
        );
      }
      if (state === 'unknown') {
        throw new RunLockedError(
          `${what} is locked by process ${owner.pid} on host ${owner.host} (started ${owner.started}: ${owner.command}); ` +
            `if no run is going on there, delete ${path} and start again`,
        );
      }
      if (RunLock.removeStale(path, text)) tookOver = { pid: owner.pid, started: owner.started, how: pidReused(owner) ?? 'gone' };
    }
    throw new RunLockedError(`${what}: could not take the lock ${path}: other runs keep taking it`);
  }

  /** Removes the stale lock holding `text` unless someone else is already taking it over; true when removed. */
  private static removeStale(path: string, text: string): boolean {
    const guard = `${path}${TAKEOVER_SUFFIX}`;
    try {
      createExclusive(guard, `${JSON.stringify(ownerNow())}\n`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = parseOwner(readText(guard) ?? '');
      // A takeover guard left by a process that died mid-takeover is itself stale.
      if (holder === undefined || liveness(holder) === 'dead') unlinkSync(guard);
      else pause(20);
      return false;
    }
    try {
      if (readText(path) !== text) return false; // someone took it over first
      unlinkSync(path);
      return true;
    } finally {
      unlinkSync(guard);
    }
  }

  /** The directory holding the lock was renamed: the lock file moved with it. */
  movedTo(dir: string): void {
    this.path = join(dir, basename(this.path));
  }

  /** Removes the lock if it is still this process's. */
  release(): void {
    try {
      if (readFileSync(this.path, 'utf8') === this.text) unlinkSync(this.path);
    } catch {
      // Already gone (its directory was removed): nothing to release.
    }
  }

  /** Writes this lock into another directory too (a staging directory that will replace the locked one). */
  copyInto(dir: string): RunLock {
    const path = join(dir, LOCK_FILE);
    createExclusive(path, this.text);
    return new RunLock(path, this.text, undefined);
  }
}

/** Who holds the lock in `dir` and whether that process runs: undefined when `dir` holds no readable lock. */
export function lockHolder(dir: string): { readonly pid: number; readonly host: string; readonly state: 'alive' | 'dead' | 'unknown' } | undefined {
  let owner: LockOwner | undefined;
  try {
    owner = parseOwner(readFileSync(join(dir, LOCK_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  return owner === undefined ? undefined : { pid: owner.pid, host: owner.host, state: liveness(owner) };
}

/** True for the lock file and its helpers, which a run directory may hold besides the run's own files. */
export function isLockFile(name: string): boolean {
  return name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`);
}
