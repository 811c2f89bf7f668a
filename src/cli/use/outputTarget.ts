import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ATTENTION_FILES } from '../../checkpoint/attentionFiles.ts';
import { FILES } from '../../checkpoint/runCheckpoint.ts';
import { UsageError } from '../flags/args.ts';
import { METRICS_FILE, RUN_FILE_NAMES } from '../session/runDirectory.ts';

// Where `predict` and `encode` may write: never onto their inputs. Refused
// before any work is done: a directory, a file of a training run (its
// checkpoints, metrics, plots), or one of the data's files, also when reached
// through another name (a symlink, a hard link).

function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** A directory that a training run wrote: it holds a checkpoint or metrics.json. */
function holdsRun(dir: string): boolean {
  try {
    const names = readdirSync(dir);
    return names.includes(METRICS_FILE) || Object.values(FILES).some((f) => names.includes(f));
  } catch {
    return false;
  }
}

/** Refuses an --out that is a directory or a file of a run (the model's or another's); `example` names a good file. */
export function checkOutputName(command: string, out: string, modelDir: string, example: string): void {
  const what = `${command} --out ${out}`;
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UsageError(`${what} is a directory; give a file name, e.g. ${join(out, example)}`);
  }
  const dir = dirname(out);
  if (RUN_FILE_NAMES.includes(basename(out)) && (sameFile(dir, modelDir) || holdsRun(dir))) {
    throw new UsageError(`${what} is one of the files of the training run in ${dir}; nothing was written: write the output elsewhere`);
  }
  for (const f of Object.values(FILES)) {
    if (sameFile(out, join(modelDir, f))) throw new UsageError(`${what} is the model's ${f} (through another name); nothing was written: write the output elsewhere`);
  }
}

/** Refuses an --out that is one of the files the data was read from (or its cache). */
export function checkNotAnInput(command: string, out: string, inputs: readonly string[]): void {
  const hit = inputs.find((f) => sameFile(out, f));
  if (hit !== undefined) throw new UsageError(`${command} --out ${out} is one of the data's files (${hit}); nothing was written: write the output elsewhere`);
}

/** Where predict --attention writes its maps: beside --out, under names the user did not give, so a file there
 * (earlier maps, anything) is refused rather than replaced, before any work is done. */
export function attentionTargets(out: string): { readonly marks: string; readonly bins: string } {
  const targets = { marks: join(dirname(out), ATTENTION_FILES.marks), bins: join(dirname(out), ATTENTION_FILES.bins) };
  for (const f of Object.values(targets)) {
    if (sameFile(out, f)) throw new UsageError(`predict --out ${out} is the name of an attention file --attention writes beside it; nothing was written: give the predictions another name`);
  }
  for (const f of Object.values(targets)) {
    if (existsSync(f)) throw new UsageError(`predict --attention: ${f} exists; nothing was written: move it away, or give --out in another folder`);
  }
  return targets;
}
