import type { RunSettings } from '../../train/runSettings.ts';
import type { CliOptions } from './args.ts';

// The command line's options, turned into the settings of one training run
// (src/train/runSettings.ts).

/** The command-line options that decide what one training run does. */
export const RUN_SETTING_KEYS = ['model', 'target', 'trainSize', 'epochs', 'vaeEpochs', 'batch', 'vaeBatch', 'lr', 'latent', 'beta', 'sigma', 'neighbors', 'k', 'seed', 'jointWeight', 'alpha', 'm2Init'] as const;

/** The run settings among a command line's options, with the neighbour sources given. */
export function pickRunSettings(o: CliOptions, sources: { readonly annotation: string; readonly expressionTable: string }): RunSettings {
  const picked = Object.fromEntries(RUN_SETTING_KEYS.map((k) => [k, o[k]])) as Pick<CliOptions, (typeof RUN_SETTING_KEYS)[number]>;
  return { ...picked, ...sources };
}
