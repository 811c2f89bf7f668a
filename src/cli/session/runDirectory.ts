import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FILES } from '../../checkpoint/runCheckpoint.ts';
import { isTemporaryOf } from '../../util/atomicFile.ts';
import { PLOT_FILES } from '../../plots/runPlots.ts';
import { UsageError } from '../flags/args.ts';
import { testPause } from '../../util/testPause.ts';
import { isLockFile, lockHolder, RunLock, takeoverNote } from './runLock.ts';

// What --out means. A run never deletes or overwrites another run's files
// unless told to:
//   - a new or empty directory: the run writes there;
//   - a directory that holds a run: refused, naming --resume (continue it)
//     and --overwrite (replace it);
//   - with --overwrite, the new run writes into a fresh directory beside the
//     old one and swaps it in only once it has written its first checkpoint,
//     so a run that fails early (diverges, is killed, fills the disk) leaves
//     the earlier run as it was;
//   - a directory with files that are not a run's is refused even with
//     --overwrite: they are not ours to delete.
// A lock file refuses a second concurrent run into the same directory.
// The grid (plan, job, collect) applies the same rules to its root and to
// each entry's folder through refuseForeign below; docs/RELIABILITY.md lists
// these promises and the tests that hold them.

export const METRICS_FILE = 'metrics.json';
export const PREDICTIONS_FILE = 'predictions.csv';
/** One line per finished epoch, appended as the run goes (progressLog.ts). */
export const PROGRESS_FILE = 'progress.jsonl';
/** The folder `explain` writes into by default (src/cli/use/explain.ts): derived from the run, so the run's own. */
export const EXPLAIN_DIR = 'explain';
/** The files an experiment writes, by what they hold. */
export const EXPERIMENT_FILE = {
  csv: 'small-data.csv',
  markdown: 'small-data.md',
  paired: 'paired.csv',
  perCell: 'per-cell.csv',
  settings: 'experiment.json',
  aurocFigure: 'auroc-vs-labeled.svg',
  pearsonFigure: 'pearson-vs-labeled.svg',
  vaeCurves: 'vae-curves.csv',
  vaeFigure: 'vae-curves.svg',
  /** Each run that trained several values of a loss weight (vae-m2's α, vae-joint's λ): every value's validation score and the one kept. */
  weightChoices: 'weight-choices.csv',
  /** A folder: each VAE the experiment trained, per cell and seed (experimentVaes.ts). */
  vaes: 'vaes',
  /** A folder: the checkpoints of the run being trained, one folder a run, deleted once its row is written (experimentRunCheckpoints.ts). */
  running: 'running',
} as const;
export const EXPERIMENT_FILES: readonly string[] = Object.values(EXPERIMENT_FILE);

/** Every file name a training run or an experiment writes into its directory. */
export const RUN_FILE_NAMES: readonly string[] = [
  ...Object.values(FILES),
  METRICS_FILE,
  PREDICTIONS_FILE,
  PROGRESS_FILE,
  ...Object.values(PLOT_FILES),
  ...EXPERIMENT_FILES,
];

/** A file a run writes, or a temporary one it left while writing it, or the folder explain writes beside them. */
export function isRunFile(name: string): boolean {
  return name === EXPLAIN_DIR || RUN_FILE_NAMES.some((n) => name === n || isTemporaryOf(name, n)) || isLockFile(name);
}

/** The entries of `dir`, leaving out the lock file, sorted (for messages that read the same every time). */
export function entriesOf(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !isLockFile(f))
    .sort();
}

/** Names for a message: all of them, or the first six and how many more. */
export const listed = (names: readonly string[]): string => (names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')} and ${names.length - 6} more`);

/**
 * The rule every command that writes into a folder keeps: a folder holding
 * anything that is not its own (`isOwn`: by default what a run writes) is
 * refused with `lead` and `advice` and left exactly as it was. Returns the
 * folder's entries (lock left out); none when it does not exist.
 */
export function refuseForeign(dir: string, lead: string, advice: string, isOwn: (name: string) => boolean = isRunFile): string[] {
  if (!existsSync(dir)) return [];
  const entries = entriesOf(dir);
  const foreign = entries.filter((f) => !isOwn(f));
  if (foreign.length > 0) throw new UsageError(`${lead} holds files that are not a simplechrome run's (${listed(foreign)}); nothing was changed: ${advice}`);
  return entries;
}

export interface OutDirectoryOptions {
  /** Replace a directory that holds a run (swapped in at the first checkpoint). */
  readonly overwrite: boolean;
  /** The run continues the one in the directory (--resume): it writes in place. */
  readonly resume: boolean;
}

/**
 * What a replacing run left beside `out` (`.NAME.new-PID`, its staging
 * directory, and `.NAME.old-PID`, the earlier run while the two are swapped),
 * judged by the lock each holds, not by the PID in its name: on a shared
 * filesystem that PID may be another machine's. Only a staging directory whose
 * lock names a process of this host that has stopped, and that never got its
 * first checkpoint swapped in, is removed. One whose process is alive, runs on
 * another host, or holds no readable lock is left as it is and named, with
 * how to clear it. A run that died between the two renames of the swap leaves
 * the earlier run in `.old` and the new one in `.new`: both are kept and named.
 * Called only once this run holds the lock on `out` and goes ahead.
 */
function tidyLeftovers(out: string): string[] {
  const notes: string[] = [];
  for (const { pid, fresh, old } of swapLeftovers(out)) {
    // The earlier run in `.old` holds the lock the replacing run took on `out` before it renamed it.
    const holder = lockHolder(fresh) ?? lockHolder(old);
    if (holder?.state !== 'dead') {
      const who = holder === undefined ? `a run that left no readable lock (process ${pid} of some host)` : `a run of process ${holder.pid} on host ${holder.host}`;
      for (const d of [fresh, old].filter((p) => existsSync(p))) {
        notes.push(`note: ${d} belongs to ${who} (it replaces ${out}); it is left as it is. If no run is going on there, delete ${d} yourself`);
      }
    } else if (existsSync(old) && !existsSync(fresh)) {
      notes.push(
        `note: process ${pid} stopped after it had replaced the run in ${out} with its own, before it removed the earlier run: ` +
          `that is in ${old}, left as it is; delete it if you do not need it`,
      );
    } else if (existsSync(old)) {
      notes.push(
        `note: process ${pid} stopped while it replaced the run in ${out}: the earlier run is in ${old}, the replacing one in ${fresh}; ` +
          'move the one to keep back to that name',
      );
    } else if (existsSync(fresh)) {
      rmSync(fresh, { recursive: true, force: true });
      notes.push(`note: removed ${fresh}, left by a replacing run (process ${pid}) that stopped before it replaced ${out}; the run there was left as it was`);
    }
  }
  return notes;
}

/** The staging (`.NAME.new-PID`) and earlier-run (`.NAME.old-PID`) folders that replacing runs left beside `out`, by PID. */
function swapLeftovers(out: string): { readonly pid: number; readonly fresh: string; readonly old: string }[] {
  const target = resolve(out);
  const parent = dirname(target);
  const base = basename(target);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(new|old)-(\\d+)$`);
  const pids = new Set<number>();
  for (const name of names) {
    const m = pattern.exec(name);
    if (m !== null) pids.add(Number(m[2]));
  }
  return [...pids].sort((a, b) => a - b).map((pid) => ({ pid, fresh: join(parent, `.${base}.new-${pid}`), old: join(parent, `.${base}.old-${pid}`) }));
}

/**
 * `out` is not there, but a replacing run stopped between the two renames of its swap left the earlier run in
 * `.OUT.old-PID` (and its own in `.OUT.new-PID`): the message that names both and how to restore either, led by
 * `lead`; undefined when there is no such run.
 */
function brokenSwapMessage(out: string, lead: string): string | undefined {
  const kept = swapLeftovers(out).filter((l) => existsSync(l.old));
  if (kept.length === 0) return undefined;
  const lines = kept.map(
    ({ pid, fresh, old }) =>
      `a run (process ${pid}) that replaced ${out} stopped between the two renames of its swap: the earlier run is in ${old}` +
      (existsSync(fresh) ? `, the replacing one (which had written its first checkpoint) in ${fresh}` : ''),
  );
  const { fresh, old } = kept[0] as { fresh: string; old: string };
  const keepNew = existsSync(fresh) ? `mv ${fresh} ${out} to continue the replacing run (then --resume ${out}), or ` : '';
  return `${lead}; ${lines.join('; ')}. Nothing was changed. Move the one to keep back: ${keepNew}mv ${old} ${out} to keep the earlier run`;
}

/**
 * The directory a run writes into, locked for this process. `dir` is where
 * files go now: `target`, or a staging directory beside it until `saved()`
 * swaps it in. `saved()` after every checkpoint; `finish()` on success;
 * `abandon()` on failure (it removes what the run created, if it kept nothing).
 */
export class OutDirectory {
  private staging: string | undefined;
  private stagingLock: RunLock | undefined;
  private done = false;

  private constructor(
    readonly target: string,
    private readonly lock: RunLock,
    /** The directory did not exist before this run. */
    private readonly created: boolean,
    /** Notes for stderr (a replaced run, a stale lock taken over). */
    readonly notes: readonly string[],
    /** A resumed run's directory holds checkpoints from the start; they are never removed. */
    private kept: boolean,
  ) {}

  get dir(): string {
    return this.staging ?? this.target;
  }

  /** True once the run has written a checkpoint (or an experiment row) that is kept on failure. */
  get hasKept(): boolean {
    return this.kept;
  }

  static open(out: string, o: OutDirectoryOptions): OutDirectory {
    const what = `--out ${out}`;
    let created = false;
    if (existsSync(out)) {
      if (!statSync(out).isDirectory()) throw new UsageError(`${what} is a file, not a directory; choose a directory for the run's files`);
      // Refused before the lock is taken, so that a refused --out (a user's folder, `/`) gets not even a lock file
      // for a moment; checked again below with the lock held, against a run that started meanwhile.
      if (!o.resume) OutDirectory.refuseUnlessOurs(out, what, o.overwrite);
    } else if (o.resume) {
      throw new UsageError(brokenSwapMessage(out, `--resume ${out}: no such directory`) ?? `--resume ${out}: no such directory`);
    } else {
      // A new run here would take the name that one of the two kept runs must be moved back to.
      const broken = brokenSwapMessage(out, `${what} is not there, but the runs that were there are kept beside it`);
      if (broken !== undefined) throw new UsageError(broken);
      try {
        mkdirSync(out, { recursive: true });
      } catch (e) {
        throw new Error(`${what}: cannot create the directory: ${(e as Error).message}`);
      }
      created = true;
    }
    let lock: RunLock;
    try {
      lock = RunLock.acquire(out, o.resume ? `--resume ${out}` : what);
    } catch (e) {
      if (created) rmSync(out, { recursive: true, force: true });
      throw e;
    }
    const notes: string[] = [];
    if (lock.tookOverFrom !== undefined) notes.push(takeoverNote(out, lock.tookOverFrom));
    const dir = new OutDirectory(out, lock, created, notes, o.resume);
    try {
      const replaces = !o.resume && OutDirectory.refuseUnlessOurs(out, what, o.overwrite);
      // Only now, with the lock held and the run going ahead, is anything beside --out tidied: a refused run changes nothing.
      notes.push(...tidyLeftovers(out));
      if (o.resume) {
        // Left by a writer that was killed mid-write; the lock says no one is writing now.
        for (const f of entriesOf(out)) if (RUN_FILE_NAMES.some((n) => isTemporaryOf(f, n))) rmSync(join(out, f), { force: true });
      } else if (replaces) {
        dir.stage();
        notes.push(`note: ${out} holds an earlier run; this run replaces it once it has written its first checkpoint (until then the earlier run stays as it is)`);
      }
      return dir;
    } catch (e) {
      // Refused: the directory's files are left exactly as they were.
      lock.release();
      throw e;
    }
  }

  /** Refuses what a new run may not write into; true when it holds a run that --overwrite replaces. */
  private static refuseUnlessOurs(out: string, what: string, overwrite: boolean): boolean {
    const entries = refuseForeign(
      out,
      `${what} is not empty and`,
      `choose a new or empty directory${overwrite ? ' (--overwrite replaces only a directory that holds a run)' : ''}`,
    );
    if (entries.length === 0) return false;
    if (!overwrite) {
      throw new UsageError(
        `${what} already holds a run (${listed(entries)}); nothing was changed. ` +
          `Continue it with --resume ${out}, replace it with --overwrite, or choose another --out`,
      );
    }
    return true;
  }

  private stage(): void {
    const target = resolve(this.target);
    const staging = join(dirname(target), `.${basename(target)}.new-${process.pid}`);
    // One of this host's stopped runs under this name was tidied away; what is still there is a live run's or
    // another host's with the same PID, and is not ours to remove.
    try {
      mkdirSync(staging);
    } catch (e) {
      throw new Error(`${this.target}: cannot stage the replacing run in ${staging} (${(e as Error).message}); nothing was changed`);
    }
    this.staging = staging;
    this.stagingLock = this.lock.copyInto(staging);
    testPause('swap-staged');
  }

  /** After each checkpoint: the first one swaps a staged directory in place of the earlier run. */
  saved(): void {
    this.kept = true;
    const staging = this.staging;
    if (staging === undefined) return testPause('checkpoint-saved');
    const target = resolve(this.target);
    const old = join(dirname(target), `.${basename(target)}.old-${process.pid}`);
    testPause('swap-before-renames');
    renameSync(target, old);
    testPause('swap-between-renames');
    try {
      renameSync(staging, target);
    } catch (e) {
      renameSync(old, target);
      throw new Error(`${this.target}: could not replace the earlier run (${(e as Error).message}); it is unchanged, and this run's files are in ${staging}`);
    }
    this.staging = undefined;
    this.stagingLock?.movedTo(target);
    testPause('swap-before-removing-old');
    rmSync(old, { recursive: true, force: true });
    testPause('checkpoint-saved');
  }

  /** The run ended well: release the lock. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    (this.stagingLock ?? this.lock).release();
  }

  /**
   * The run failed or was interrupted. When it kept nothing, removes what it
   * created (the staging directory; the --out it made), leaving any earlier
   * run untouched. Returns a sentence for the message (undefined when it kept
   * a checkpoint: the caller names it).
   */
  abandon(): string | undefined {
    if (this.done) return undefined;
    this.done = true;
    if (this.kept) {
      (this.stagingLock ?? this.lock).release();
      return undefined;
    }
    if (this.staging !== undefined) {
      rmSync(this.staging, { recursive: true, force: true });
      this.staging = undefined;
      this.lock.release();
      return `the earlier run in ${this.target} is unchanged`;
    }
    // Only what a run writes is removed; anything else that appeared meanwhile stays.
    for (const f of readdirSync(this.target)) {
      // recursive: an experiment's vaes/ folder is one of a run's entries.
      if (isRunFile(f) && !isLockFile(f)) rmSync(join(this.target, f), { recursive: true, force: true });
    }
    this.lock.release();
    if (this.created) {
      try {
        rmdirSync(this.target);
        return `${this.target} was removed`;
      } catch {
        // Not empty: someone else's file is in it.
      }
    }
    return undefined;
  }
}
