import { isAbsolute, relative, resolve, sep } from 'node:path';

// A path read from a file (a plan's entry folder, a cell's name) decides where
// files are written; whoever edited that file must not be able to send them
// anywhere else. The path is resolved against its root and kept only when it
// names something strictly inside it.

/** `path` resolved against `root`, or undefined when it is absolute, the root itself, or leads out of it. */
export function pathUnder(root: string, path: string): string | undefined {
  if (isAbsolute(path)) return undefined;
  const full = resolve(root, path);
  const rel = relative(resolve(root), full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return full;
}
