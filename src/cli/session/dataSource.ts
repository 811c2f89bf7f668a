import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeSynthetic } from '../../../datasets/generateSynthetic.ts';

// Where data comes from when the user names none: the real E003 sample that
// sits beside a checkout in ../shared/datasets, else a synthetic demo set
// generated once into datasets/synthetic/ (labelled as such everywhere).

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SHARED_DATASETS = fileURLToPath(new URL('../../../../shared/datasets/', import.meta.url));
export const DEFAULT_REAL_SAMPLE = `${SHARED_DATASETS}derived_deepchrome_format/E003_sample600`;
export const DEFAULT_ANNOTATION = `${SHARED_DATASETS}labels_rpkm_shallowchrome/GeneFile_tss_windows.txt.gz`;
export const DEFAULT_EXPRESSION_TABLE = `${SHARED_DATASETS}labels_rpkm_shallowchrome/rpkm_19802genes_x_56cells.csv.gz`;
const SYNTHETIC_DIR = `${REPO}datasets/synthetic`;

export interface DataChoice {
  readonly path: string;
  readonly synthetic: boolean;
}

export async function chooseData(data: string | undefined, log: (line: string) => void): Promise<DataChoice> {
  if (data !== undefined) return { path: data, synthetic: /synthetic/i.test(data) };
  if (existsSync(`${DEFAULT_REAL_SAMPLE}.train.csv.gz`)) {
    log(`data: no --data given; using the real Roadmap E003 sample (600 genes) at ${DEFAULT_REAL_SAMPLE}.*.csv.gz`);
    return { path: DEFAULT_REAL_SAMPLE, synthetic: false };
  }
  const cellDir = `${SYNTHETIC_DIR}/SYNTHETIC`;
  if (!existsSync(`${cellDir}/classification/test.csv`)) {
    await writeSynthetic(SYNTHETIC_DIR, { genes: 2000, seed: 1 });
  }
  log(
    'data: no --data given and no real data found, so this runs on SYNTHETIC demo data ' +
      `(${cellDir}); its numbers mean nothing. Get the real Roadmap data as datasets/README.md explains ` +
      'and pass --data <cell directory>.',
  );
  return { path: cellDir, synthetic: true };
}
