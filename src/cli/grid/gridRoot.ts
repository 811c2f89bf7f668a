import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isTemporaryOf, writeFileAtomically } from '../../util/atomicFile.ts';
import { fileSha256 } from '../../util/fileSha256.ts';
import { testPause } from '../../util/testPause.ts';
import { isRunFile, RUN_FILE_NAMES, refuseForeign } from '../session/runDirectory.ts';

// What a plan's root may hold, by the rules of a run's --out (runDirectory.ts):
// the grid's own folders (entries/, logs/, slurm/), the plan file when it was
// put there, and the experiment's files that `collect` of this plan wrote. A
// record of those (their names and SHA-256, under the plan's identity) is how
// collect knows a file is its own: a file of the experiment's name that it did
// not write, or that was changed since, is never replaced.

/** Folders the grid writes in its root (entries by job, logs and slurm by slurm). */
const GRID_FOLDERS: readonly string[] = ['entries', 'logs', 'slurm'];
/** collect's record of the files it wrote into the root. */
export const COLLECTED_FILE = '.simplechrome-collected.json';

interface Collected {
  readonly planId: string;
  /** File name → the SHA-256 of the bytes collect wrote (a list while a collect is writing: the old file's and the new one's). */
  readonly files: Readonly<Record<string, string | readonly string[]>>;
}

/** The files this plan's collect wrote into `root`, by name and the hashes each may have; none when it wrote none (or another plan did). */
function collectedBy(root: string, planId: string): Readonly<Record<string, readonly string[]>> {
  try {
    const c = JSON.parse(readFileSync(join(root, COLLECTED_FILE), 'utf8')) as Partial<Collected>;
    if (c.planId !== planId || typeof c.files !== 'object' || c.files === null) return {};
    return Object.fromEntries(Object.entries(c.files).map(([name, h]) => [name, typeof h === 'string' ? [h] : Array.isArray(h) ? h.filter((x) => typeof x === 'string') : []]));
  } catch {
    return {};
  }
}

/**
 * Refuses a root that holds anything but the grid's own (with `lead` and
 * `advice`, nothing changed), and returns the run's files in it that this
 * plan's collect did not write, or that changed since: they are not the
 * grid's to replace.
 */
export function notCollectedHere(root: string, planId: string, planFile: string, lead: string, advice: string): string[] {
  const plan = resolve(planFile);
  const isOwn = (name: string): boolean =>
    isRunFile(name) ||
    GRID_FOLDERS.includes(name) ||
    name === COLLECTED_FILE ||
    isTemporaryOf(name, COLLECTED_FILE) ||
    (dirname(plan) === resolve(root) && (name === basename(plan) || isTemporaryOf(name, basename(plan))));
  const entries = refuseForeign(root, lead, advice, isOwn);
  const collected = collectedBy(root, planId);
  // A temporary file is what a writer killed mid-write left: not a file anyone kept, and never replaced by its name.
  return entries.filter((name) => RUN_FILE_NAMES.includes(name) && !(collected[name] ?? []).includes(fileSha256(join(root, name)) ?? ''));
}

const writeRecord = (root: string, record: Collected): Promise<void> => writeFileAtomically(join(root, COLLECTED_FILE), `${JSON.stringify(record, null, 2)}\n`);

/**
 * Writes `files` (name → text) into `root` as collect of this plan, each atomically. The record of them is written
 * first, naming for each file both the hash it has now and the one it is about to get: a collect stopped midway (a
 * full disk, a kill) leaves every file either as the last collect wrote it or as this one did, and the next collect
 * knows either as its own. Once all are written the record keeps only the new hashes (and those of files an earlier
 * collect wrote that this one did not).
 */
export async function writeCollected(root: string, planId: string, files: ReadonlyMap<string, string>): Promise<void> {
  const earlier = collectedBy(root, planId);
  const fresh = Object.fromEntries([...files].map(([name, text]) => [name, [createHash('sha256').update(text).digest('hex')]]));
  const during: Record<string, readonly string[]> = { ...earlier };
  for (const [name, [h]] of Object.entries(fresh)) during[name] = [...(earlier[name] ?? []), h as string];
  await writeRecord(root, { planId, files: during });
  for (const [name, text] of files) {
    await writeFileAtomically(join(root, name), text);
    testPause('collect-file-written');
  }
  await writeRecord(root, { planId, files: { ...earlier, ...fresh } });
}
