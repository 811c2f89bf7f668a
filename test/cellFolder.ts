import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATASETS } from '../src/cli/session/dataSource.ts';

// A folder of cells in the DeepChrome layout (as the zenodo archive unpacks),
// made of links to the real E003 and E123 samples in ../shared/datasets.

export function sampleCellFolder(root: string): string {
  const folder = join(root, 'roadmap');
  for (const cell of ['E003', 'E123']) {
    const dir = join(folder, cell, 'classification');
    mkdirSync(dir, { recursive: true });
    for (const split of ['train', 'valid', 'test']) {
      const sample = join(SHARED_DATASETS, 'derived_deepchrome_format', `${cell}_sample600.${split}.csv.gz`);
      if (!existsSync(sample)) throw new Error(`missing real data ${sample} (see ../shared/datasets/README.md)`);
      symlinkSync(sample, join(dir, `${split}.csv.gz`));
    }
  }
  return folder;
}
