import { DEFAULTS } from '../src/cli/flags/args.ts';
import { DEFAULT_REAL_SAMPLE } from '../src/cli/session/dataSource.ts';
import type { Progress } from '../src/train/runModel.ts';
import type { RunSettings } from '../src/train/runSettings.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { applyNormalization, fitNormalization } from '../src/data/normalize.ts';
import { settingsOf } from '../src/cli/session/session.ts';

// The real E003 sample (../shared/datasets), normalised as the command line
// does, and short-run settings for the tests that train on it.

export const quiet: Progress = { epoch: () => {}, vaeEpoch: () => {} };

export async function e003(): Promise<Dataset> {
  const loaded = await loadCell(DEFAULT_REAL_SAMPLE, { cache: false });
  return applyNormalization(loaded.dataset, fitNormalization(loaded.dataset, 'log1p-max'));
}

export const settings: RunSettings = { ...settingsOf(DEFAULTS), model: 'mlp', epochs: 3, vaeEpochs: 1, seed: 7 };
