import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

// Opening a file the user named, for reading, without ever blocking on what
// is not a file. Opening a FIFO for reading waits, in the kernel, until
// something writes to it; in a synchronous open no signal handler runs
// meanwhile, so Ctrl-C and SIGTERM did nothing. The file is opened with
// O_NONBLOCK (which returns at once for a FIFO and changes nothing for a
// regular file) and its type is checked on the open descriptor (no window in
// which the name could be swapped for something else); anything but a
// regular file is refused by name.

const READ_NONBLOCKING = constants.O_RDONLY | constants.O_NONBLOCK;

/** What `s` is when it is not a regular file ("a FIFO (named pipe)"), or undefined for a regular file. */
export function notRegularFile(s: Stats): string | undefined {
  if (s.isFile()) return undefined;
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isDirectory()) return 'a directory';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/** `path` is not a regular file: `what` says what it is, for messages that name the path themselves. */
export class NotRegularFileError extends Error {
  override name = 'NotRegularFileError';
  readonly what: string;
  constructor(
    readonly path: string,
    kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
    this.what = `is ${kind}, not a regular file`;
  }
}

/** Opens a regular file for reading; NotRegularFileError for a FIFO, directory or device, without waiting on it. */
export async function openRegularFile(path: string): Promise<FileHandle> {
  const handle = await open(path, READ_NONBLOCKING);
  try {
    const kind = notRegularFile(await handle.stat());
    if (kind !== undefined) throw new NotRegularFileError(path, kind);
    return handle;
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** openRegularFile for the few synchronous readers; returns the descriptor. */
export function openRegularFileSync(path: string): number {
  const fd = openSync(path, READ_NONBLOCKING);
  try {
    const kind = notRegularFile(fstatSync(fd));
    if (kind !== undefined) throw new NotRegularFileError(path, kind);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The text of a regular file, read synchronously (small files: a plan, a sources list); NotRegularFileError for a FIFO or device, never waited on. */
export function readRegularTextSync(path: string): string {
  const fd = openRegularFileSync(path);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
