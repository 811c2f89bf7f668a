import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isClassScores, selectionName, selectionScore } from '../../train/target.ts';
import type { EpochRecord, Scores } from '../../train/trainClassifier.ts';
import type { VaeEpochRecord } from '../../train/trainVae.ts';
import type { Progress, ResumedPhase } from '../../train/runModel.ts';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { WriteFailedError } from '../../util/writeFailure.ts';
import { PROGRESS_FILE } from '../session/runDirectory.ts';

// progress.jsonl: one JSON object per finished epoch, appended (and fsynced)
// as the run goes, so that a run that crashed or was stopped still shows its
// curve, and one still running can be followed (tail -f, or re-read into a
// plot). A line is written right after the epoch's checkpoint. A process
// killed mid-write can leave a torn last line: readers skip a line that does
// not parse. A resumed run first cuts the file back to the checkpoint it
// continues from (the epochs it trains again would otherwise appear twice),
// then restores any finished epoch the file lacks from the checkpoint's own
// history (a stop between the checkpoint and its line), marked fromCheckpoint.

interface LineCommon {
  readonly epoch: number;
  /** The epochs this phase trains to. */
  readonly epochs: number;
  readonly seconds: number;
  readonly genesPerSecond: number;
  /** When the line was written (ISO 8601); absent on a line restored from a checkpoint. */
  readonly time?: string;
  /** Restored from the checkpoint's history by a resumed run: the epoch finished, its line had not been written. */
  readonly fromCheckpoint?: true;
}

export interface VaeProgressLine extends LineCommon {
  readonly phase: 'vae';
  readonly model: 'vae';
  readonly loss: number;
  readonly reconstruction: number;
  readonly kl: number;
}

export interface ClassifierProgressLine extends LineCommon {
  readonly phase: 'classifier';
  /** The model, as the epoch lines on stderr name it (a searched weight's value or a linear model's penalty added). */
  readonly model: string;
  readonly trainLoss: number;
  readonly elbo?: EpochRecord['elbo'];
  /** Every validation score of the epoch (AUROC, AUPR, accuracy, loss; or MSE, Pearson, Spearman, loss). */
  readonly valid: Scores;
  /** The score that picks the best epoch, and its name: validation AUROC, or Pearson for --target expression. */
  readonly validMetric: 'AUROC' | 'Pearson';
  /** null when it is undefined (a constant prediction has no Pearson). */
  readonly validScore: number | null;
}

export type ProgressLine = VaeProgressLine | ClassifierProgressLine;

function vaeLine(r: VaeEpochRecord, epochs: number): VaeProgressLine {
  const { epoch, loss, reconstruction, kl, seconds, genesPerSecond } = r;
  return { phase: 'vae', model: 'vae', epoch, epochs, loss, reconstruction, kl, seconds, genesPerSecond };
}

function classifierLine(model: string, r: EpochRecord, epochs: number): ClassifierProgressLine {
  const score = selectionScore(r.valid);
  return {
    phase: 'classifier',
    model,
    epoch: r.epoch,
    epochs,
    trainLoss: r.trainLoss,
    ...(r.elbo ? { elbo: r.elbo } : {}),
    valid: r.valid,
    validMetric: selectionName(isClassScores(r.valid) ? 'class' : 'expression'),
    validScore: Number.isFinite(score) ? score : null,
    seconds: r.seconds,
    genesPerSecond: r.genesPerSecond,
  };
}

const isLine = (v: unknown): v is ProgressLine =>
  typeof v === 'object' && v !== null && ((v as ProgressLine).phase === 'vae' || (v as ProgressLine).phase === 'classifier') && Number.isInteger((v as ProgressLine).epoch);

/** The lines of a progress file that parse, in order: a torn last line (a process killed mid-write) is left out. */
export function parseProgressLines(text: string): ProgressLine[] {
  const lines: ProgressLine[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const v: unknown = JSON.parse(raw);
      if (isLine(v)) lines.push(v);
    } catch {
      // A torn line: the epoch it was to record is in the checkpoint (and restored on resume) or was never kept.
    }
  }
  return lines;
}

/** progress.jsonl of the run directory `dir`; [] when there is none. */
export function readProgressLog(dir: string): ProgressLine[] {
  const path = join(dir, PROGRESS_FILE);
  return existsSync(path) ? parseProgressLines(readFileSync(path, 'utf8')) : [];
}

/** Where a resumed run continues from: the epochs its checkpoints hold. */
export interface ResumePoint {
  readonly vaeEpoch: number;
  readonly classifierEpoch: number;
  /** The model's name: a continued classifier's lines carry it (lines labelled otherwise, a searched weight's or a
   * linear model's penalty's, are all trained again). */
  readonly model: string;
}

/** The lines a run resumed at `from` keeps: the epochs its checkpoints hold; every other one is trained again. */
export function keptOnResume(lines: readonly ProgressLine[], from: ResumePoint): ProgressLine[] {
  return lines.filter((l) => (l.phase === 'vae' ? l.epoch <= from.vaeEpoch : l.model === from.model && l.epoch <= from.classifierEpoch));
}

const text = (lines: readonly ProgressLine[]): string => lines.map((l) => `${JSON.stringify(l)}\n`).join('');

/** The progress log of one run directory; `dir()` is where the run writes now (a staged directory moves). */
export class ProgressLog {
  private lines: ProgressLine[];

  private constructor(
    private readonly dir: () => string,
    lines: ProgressLine[],
  ) {
    this.lines = lines;
  }

  /** A new run's log (the file appears with the first epoch). */
  static fresh(dir: () => string): ProgressLog {
    return new ProgressLog(dir, []);
  }

  /** A resumed run's log: the file cut back to the checkpoints it continues from (rewritten atomically, and only
   * when that changes it: a torn last line, epochs to be trained again). */
  static async resumed(dir: () => string, from: ResumePoint): Promise<ProgressLog> {
    const path = join(dir(), PROGRESS_FILE);
    const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
    const kept = keptOnResume(parseProgressLines(before), from);
    if (text(kept) !== before) await writeFileAtomically(path, text(kept));
    return new ProgressLog(dir, kept);
  }

  /** `inner` (the printer), with every finished epoch appended to the log before `inner` sees it. */
  around(inner: Progress): Progress {
    return {
      vaeEpoch: (r, epochs) => {
        this.append([{ ...vaeLine(r, epochs), time: new Date().toISOString() }]);
        inner.vaeEpoch(r, epochs);
      },
      epoch: (model, r, epochs) => {
        this.append([{ ...classifierLine(model, r, epochs), time: new Date().toISOString() }]);
        inner.epoch(model, r, epochs);
      },
      resumed: (from) => {
        this.restore(from);
        inner.resumed?.(from);
      },
      ...(inner.steps ? { steps: inner.steps.bind(inner) } : {}),
    };
  }

  /** The finished epochs of a resumed phase that the file lacks, from the checkpoint's history. */
  private restore(from: ResumedPhase): void {
    const has = new Set(this.lines.filter((l) => l.phase === from.phase && (from.phase === 'vae' || l.model === from.model)).map((l) => l.epoch));
    const missing: ProgressLine[] =
      from.phase === 'vae'
        ? from.history.filter((r) => !has.has(r.epoch)).map((r) => vaeLine(r, from.epochs))
        : from.history.filter((r) => !has.has(r.epoch)).map((r) => classifierLine(from.model, r, from.epochs));
    this.append(missing.map((l) => ({ ...l, fromCheckpoint: true as const })));
  }

  /** One write of whole lines, then fsync: a crash loses at most the line being written. */
  private append(lines: readonly ProgressLine[]): void {
    if (lines.length === 0) return;
    const path = join(this.dir(), PROGRESS_FILE);
    try {
      const fd = openSync(path, 'a');
      try {
        writeSync(fd, text(lines));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw new WriteFailedError(path, e);
    }
    this.lines.push(...lines);
  }
}
