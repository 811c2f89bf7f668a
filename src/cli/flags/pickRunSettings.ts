import type { RunSettings } from '../../train/runSettings.ts';
import type { CliOptions } from './args.ts';
import { RUN_KEYS, type RunKey } from '../../train/runFlags.ts';

// The command line's options, turned into the settings of one training run
// (src/train/runSettings.ts).


/** The run settings among a command line's options, with the neighbour sources given. */
export function pickRunSettings(o: CliOptions, sources: { readonly annotation: string; readonly expressionTable: string }): RunSettings {
  const picked = Object.fromEntries(RUN_KEYS.map((k) => [k, o[k]])) as Pick<CliOptions, RunKey>;
  return { ...picked, ...sources };
}
