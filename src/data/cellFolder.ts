import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

// A folder of many cells in the DeepChrome layout, as zenodo record 2652278
// unpacks: E003/classification/{train,valid,test}.csv, E004/..., one folder
// per cell. The experiment runs each; a single cell is loaded by loadCell.

export interface CellEntry {
  readonly cell: string;
  readonly path: string;
}

const isDirectory = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/** The cells under `path` (sorted by name) when it is such a folder; undefined when it is a cell itself or anything else. */
export function cellsInFolder(path: string): CellEntry[] | undefined {
  if (!isDirectory(path) || isDirectory(join(path, 'classification'))) return undefined;
  const cells = readdirSync(path)
    .filter((name) => !name.startsWith('.') && isDirectory(join(path, name, 'classification')))
    .sort()
    .map((cell) => ({ cell, path: join(path, cell) }));
  return cells.length > 0 ? cells : undefined;
}
