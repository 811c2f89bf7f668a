// A failed write named in words: which file, and what the system said, so a
// full disk reads as a full disk and not as a bare errno.

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the filesystem is read-only',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'its directory does not exist',
  EIO: 'an input/output error from the device',
};

export function writeFailureReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined && REASONS[code] !== undefined) return `${REASONS[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

/** An error for `path` that could not be written; keeps the original as its cause. */
export class WriteFailedError extends Error {
  override name = 'WriteFailedError';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`${path}: could not be written: ${writeFailureReason(cause)}`, { cause });
  }
}
