import { unlinkSync } from 'node:fs';

// Temporary files that are being written right now (a file is written under a
// temporary name and renamed into place). When the process is stopped by a
// signal, the handler removes them, so an interrupted write leaves no debris.

const live = new Set<string>();

export function trackTemporary(path: string): void {
  live.add(path);
}

export function forgetTemporary(path: string): void {
  live.delete(path);
}

/** Removes every temporary file still being written (synchronously: it runs in a signal handler). */
export function removeTemporaries(): void {
  for (const path of live) {
    try {
      unlinkSync(path);
    } catch {
      // Already renamed into place or removed.
    }
  }
  live.clear();
}
