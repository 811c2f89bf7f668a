import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isWritableDirectory, userCacheDir } from '../../data/cache.ts';
import { isCheckout, PACKAGE_ROOT } from '../../util/packageRoot.ts';
import { writeSynthetic } from '../../../datasets/generateSynthetic.ts';

// Where data comes from when the user names none: the real E003 sample that
// sits beside a checkout in ../shared/datasets, else a synthetic demo set
// generated once (labelled as such everywhere). The demo set goes into a
// checkout's datasets/synthetic/; an installed package's folder may be
// read-only and is npm's to replace, so there, and in a checkout whose
// datasets/ cannot be written, it goes to the user's cache.

export const SHARED_DATASETS = join(dirname(PACKAGE_ROOT), 'shared', 'datasets', '/');
export const DEFAULT_REAL_SAMPLE = `${SHARED_DATASETS}derived_deepchrome_format/E003_sample600`;
export const DEFAULT_ANNOTATION = `${SHARED_DATASETS}labels_rpkm_shallowchrome/GeneFile_tss_windows.txt.gz`;
export const DEFAULT_EXPRESSION_TABLE = `${SHARED_DATASETS}labels_rpkm_shallowchrome/rpkm_19802genes_x_56cells.csv.gz`;

export interface DataChoice {
  readonly path: string;
  readonly synthetic: boolean;
}

/** Where the synthetic demo set lives, and why there when it is not the checkout's datasets/synthetic. */
export function syntheticHome(packageRoot: string = PACKAGE_ROOT): { dir: string; why: string | undefined } {
  const datasets = join(packageRoot, 'datasets');
  if (isCheckout(packageRoot) && isWritableDirectory(datasets)) return { dir: join(datasets, 'synthetic'), why: undefined };
  const dir = join(userCacheDir(), 'synthetic');
  const why = isCheckout(packageRoot)
    ? `${datasets} cannot be written, so the demo set is kept in ${dir}`
    : `simplechrome is installed as a package (in ${packageRoot}, which it leaves as npm wrote it), so the demo set is kept in ${dir}`;
  return { dir, why };
}

export async function chooseData(data: string | undefined, log: (line: string) => void): Promise<DataChoice> {
  if (data !== undefined) return { path: data, synthetic: /synthetic/i.test(data) };
  // Only a checkout has ../shared beside it; an installed package's parent is npm's node_modules.
  const lookedFor = isCheckout() ? `${DEFAULT_REAL_SAMPLE}.*.csv.gz` : undefined;
  if (lookedFor !== undefined && existsSync(`${DEFAULT_REAL_SAMPLE}.train.csv.gz`)) {
    log(`data: no --data given; using the real Roadmap E003 sample (600 genes) at ${lookedFor}`);
    return { path: DEFAULT_REAL_SAMPLE, synthetic: false };
  }
  const home = syntheticHome();
  const cellDir = join(home.dir, 'SYNTHETIC');
  if (!existsSync(join(cellDir, 'classification', 'test.csv'))) {
    if (home.why !== undefined) log(`data: ${home.why}`);
    try {
      await writeSynthetic(home.dir, { genes: 2000, seed: 1 });
    } catch (e) {
      throw new Error(
        `no --data given, and the synthetic demo set could not be written to ${home.dir} (${(e as Error).message}); ` +
          'pass --data <cell directory>, or set XDG_CACHE_HOME to a writable folder',
      );
    }
  }
  log(
    `data: no --data given${lookedFor !== undefined ? ` and no real data found (looked for ${lookedFor})` : ''}, so this runs on SYNTHETIC demo data ` +
      `(${cellDir}); its numbers mean nothing. Get the real Roadmap data as ${join(PACKAGE_ROOT, 'datasets', 'README.md')} explains ` +
      'and pass --data <cell directory>.',
  );
  return { path: cellDir, synthetic: true };
}
