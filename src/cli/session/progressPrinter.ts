import { describeSelection } from '../../train/target.ts';
import type { EpochAt, Progress } from '../../train/runModel.ts';

// The progress of training on stderr: a line per finished epoch, and within an
// epoch that has run longer than a few seconds, how far it has got. On a
// terminal that is a bar rewritten in place; in a file or a pipe (a cluster
// job's log) a plain line at most every LINE_EVERY_MS, so logs stay short.
// --quiet prints nothing, and then the GPU is not asked for step reports.

/** An epoch shorter than this shows only its line. */
const SHOW_AFTER_MS = 3000;
const BAR_EVERY_MS = 250;
const LINE_EVERY_MS = 10_000;
const BAR_WIDTH = 24;

export interface PrinterOptions {
  /** Where the text goes (default: stderr). */
  readonly write?: (text: string) => void;
  /** Whether that is a terminal (default: stderr's isTTY). */
  readonly tty?: boolean;
  /** The terminal's width, to keep the bar on one line (default: stderr's columns). */
  readonly columns?: number;
  /** Milliseconds (default: performance.now); tests drive it. */
  readonly now?: () => number;
}

const QUIET: Progress = { epoch: () => {}, vaeEpoch: () => {} };

/** "12 s", "3 min 4 s": how long something took or has left. */
export function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** "  mlp epoch 3 of 10: 824 of 2740 steps (30%), 12 s, about 28 s left", with a bar after the epoch on a terminal.
 * "epoch 3 of 10", not the "epoch   3/10" of a finished epoch's line: whoever watches a log for finished epochs
 * (a script, a test's interruptWhen) does not mistake an unfinished one for one. */
export function stepsLine(at: EpochAt, done: number, total: number, elapsedMs: number, bar: boolean): string {
  const share = total > 0 ? done / total : 1;
  const filled = Math.round(share * BAR_WIDTH);
  const left = done > 0 ? (elapsedMs * (total - done)) / done : undefined;
  return (
    `  ${at.model} epoch ${at.epoch} of ${at.epochs}` +
    (bar ? `  [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]  ` : ': ') +
    `${done} of ${total} steps (${Math.floor(100 * share)}%), ${seconds(elapsedMs)}` +
    (left !== undefined ? `, about ${seconds(left)} left` : '')
  );
}

export function progressPrinter(quiet: boolean, options: PrinterOptions = {}): Progress {
  if (quiet) return QUIET;
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const tty = options.tty ?? process.stderr.isTTY === true;
  const columns = options.columns ?? process.stderr.columns;
  const now = options.now ?? (() => performance.now());
  let epochStart = 0;
  let shownAt = Number.NEGATIVE_INFINITY;
  let barShown = false;
  /** An epoch's line; a bar on the terminal is cleared first, so the line takes its place. */
  const line = (text: string): void => {
    write(`${barShown ? '\r\x1b[K' : ''}${text}\n`);
    barShown = false;
  };
  return {
    vaeEpoch: (r, epochs) =>
      line(
        `  vae epoch ${String(r.epoch).padStart(3)}/${epochs}  loss ${r.loss.toFixed(5)}  ` +
          `mse ${r.reconstruction.toFixed(5)}  kl ${r.kl.toFixed(3)}  ${r.genesPerSecond.toFixed(0)} genes/s`,
      ),
    epoch: (model, r, epochs) =>
      line(
        `  ${model} epoch ${String(r.epoch).padStart(3)}/${epochs}  loss ${r.trainLoss.toFixed(4)}  ` +
          (r.elbo ? `elbo ${r.elbo.loss.toFixed(5)} (mse ${r.elbo.reconstruction.toFixed(5)})  ` : '') +
          `valid ${describeSelection(r.valid)}  ${r.genesPerSecond.toFixed(0)} genes/s`,
      ),
    steps: (at, done, total) => {
      const t = now();
      if (done === 0) {
        epochStart = t;
        shownAt = Number.NEGATIVE_INFINITY;
        return;
      }
      const elapsed = t - epochStart;
      // In a log, the epoch's own line follows the last step (after the validation pass) and says more.
      if ((done === total && !tty) || elapsed < SHOW_AFTER_MS || t - shownAt < (tty ? BAR_EVERY_MS : LINE_EVERY_MS)) return;
      shownAt = t;
      const text = stepsLine(at, done, total, elapsed, tty);
      if (!tty) {
        write(`${text}\n`);
        return;
      }
      write(`\r${columns !== undefined && columns > 1 ? text.slice(0, columns - 1) : text}\x1b[K`);
      barShown = true;
    },
  };
}
