import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isTemporaryOf, writeFileAtomically } from '../../util/atomicFile.ts';
import { fileSha256 } from '../../util/fileSha256.ts';
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
  /** File name → SHA-256 of the bytes collect wrote. */
  readonly files: Readonly<Record<string, string>>;
}

/** The files this plan's collect wrote into `root`, by name and hash; none when it wrote none (or another plan did). */
function collectedBy(root: string, planId: string): Readonly<Record<string, string>> {
  try {
    const c = JSON.parse(readFileSync(join(root, COLLECTED_FILE), 'utf8')) as Partial<Collected>;
    return c.planId === planId && typeof c.files === 'object' && c.files !== null ? c.files : {};
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
  return entries.filter((name) => RUN_FILE_NAMES.includes(name) && (collected[name] === undefined || collected[name] !== fileSha256(join(root, name))));
}

/** Records the files collect has just written into `root`, so a later collect of this plan may replace them. */
export async function recordCollected(root: string, planId: string, files: readonly string[]): Promise<void> {
  const hashes: Record<string, string> = {};
  for (const f of files) {
    const h = fileSha256(join(root, f));
    if (h !== undefined) hashes[f] = h;
  }
  const record: Collected = { planId, files: hashes };
  await writeFileAtomically(join(root, COLLECTED_FILE), `${JSON.stringify(record, null, 2)}\n`);
}
