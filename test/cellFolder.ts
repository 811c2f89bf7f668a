import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SHARED_DATASETS } from '../src/cli/session/dataSource.ts';

// A folder of cells in the DeepChrome layout (as the zenodo archive unpacks),
// made of the real E003 and E123 samples in ../shared/datasets: links to them,
// or with `genes`, the first that many genes of each split (for tests whose
// point is not the data, where a VAE epoch over all 400 would cost minutes).

export function sampleCellFolder(root: string, genes?: number): string {
  const folder = join(root, 'roadmap');
  for (const cell of ['E003', 'E123']) {
    const dir = join(folder, cell, 'classification');
    mkdirSync(dir, { recursive: true });
    for (const split of ['train', 'valid', 'test']) {
      const sample = join(SHARED_DATASETS, 'derived_deepchrome_format', `${cell}_sample600.${split}.csv.gz`);
      if (!existsSync(sample)) throw new Error(`missing real data ${sample} (see ../shared/datasets/README.md)`);
      if (genes === undefined) symlinkSync(sample, join(dir, `${split}.csv.gz`));
      else writeFileSync(join(dir, `${split}.csv`), firstGenes(sample, genes));
    }
  }
  return folder;
}

/** The rows of a DeepChrome split's first `genes` genes (a gene's rows are consecutive, one per bin). */
function firstGenes(file: string, genes: number): string {
  const ids: string[] = [];
  const kept = gunzipSync(readFileSync(file)).toString('latin1').trim().split('\n').filter((line) => {
    const id = line.slice(0, line.indexOf(','));
    if (ids[ids.length - 1] !== id) ids.push(id);
    return ids.length <= genes;
  });
  return `${kept.join('\n')}\n`;
}
