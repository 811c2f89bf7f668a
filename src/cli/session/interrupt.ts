import { removeTemporaries } from '../../util/temporaryFiles.ts';

// Ctrl-C (SIGINT) and SIGTERM: remove the temporary files being written,
// let the running command release its output directory and say what it kept
// (the checkpoint to resume from), then exit with 128 + the signal number.
// Installed by run.ts only, so tests that call main() keep the default.

type OnInterrupt = () => string | undefined;

const handlers = new Set<OnInterrupt>();

/** Registers what to undo and say if the process is interrupted now; returns the function that unregisters it. */
export function onInterrupt(handler: OnInterrupt): () => void {
  handlers.add(handler);
  return () => handlers.delete(handler);
}

/** Runs the registered handlers as a signal would (tests call it directly); returns the lines they said. */
export function runInterruptHandlers(): string[] {
  removeTemporaries();
  const lines: string[] = [];
  for (const h of [...handlers].reverse()) {
    try {
      const line = h();
      if (line !== undefined) lines.push(line);
    } catch (e) {
      lines.push(`while stopping: ${(e as Error).message}`);
    }
  }
  handlers.clear();
  return lines;
}

const NUMBER: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 2, SIGTERM: 15 };

export function installInterruptHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const lines = runInterruptHandlers();
      process.stderr.write(`\nsimplechrome: interrupted (${signal})${lines.length > 0 ? `\n${lines.join('\n')}` : ''}\n`);
      process.exit(128 + NUMBER[signal]);
    });
  }
}
