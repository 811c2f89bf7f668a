import { NEIGHBOR_SETTINGS, VAE_SETTINGS, type ModelSetting } from '../models/definition.ts';
import { MODEL_NAMES, type ModelName, isLinear, isSemiSupervisedVae, predictsExpression, takesSetting } from '../models/registry.ts';
import { inWords } from '../util/inWords.ts';
import type { RunKey } from './runFlags.ts';
import type { RunSettings } from './runSettings.ts';

// Which run settings apply to which models, asked by the command line (src/cli/flags/flagScope.ts, with the
// flags' names) and by the API (src/api/core.ts, with the settings' names). A setting given for a model that
// would ignore it is refused, never dropped: `k: 4` on an mlp run would otherwise look like a choice that shaped
// the result.

export interface ScopeQuestion {
  /** The models the settings go to (one run's, or an experiment's). */
  readonly models: readonly ModelName[];
  /** The settings the user gave, as opposed to the defaults. */
  readonly given: readonly RunKey[];
  readonly m2Init: RunSettings['m2Init'];
  readonly target: RunSettings['target'];
  /** The models in words, e.g. "--model mlp". */
  readonly what: string;
  /** A setting as the user spells it: its flag on the command line, its name in the API. */
  readonly nameOf: (key: RunKey) => string;
}

/** The models whose definitions (src/models/definitions/) list `setting` as one they read. */
const taking = (setting: ModelSetting) => (m: ModelName): boolean => takesSetting(m, setting);
/** The models that have a VAE of some kind: they take one of its settings. */
const hasVae = (m: ModelName): boolean => VAE_SETTINGS.some((s) => takesSetting(m, s));

/** Why the first given setting the models would not read does not apply, or undefined when each applies. */
export function settingOutOfScope(q: ScopeQuestion): string | undefined {
  const { models, what, nameOf } = q;
  const given = <K extends RunKey>(keys: readonly K[]): K[] => keys.filter((k) => q.given.includes(k));
  for (const key of given(VAE_SETTINGS)) {
    if (models.some(taking(key))) continue;
    // A chosen model with a VAE that does not take this setting is vae-m2, whose sigma is always a log-variance.
    if (models.some(hasVae)) return `${nameOf(key)} applies to the VAE of the ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} models; vae-m2's encoder always has a log-variance head`;
    return `${nameOf(key)} applies to the VAE of the ${inWords(MODEL_NAMES.filter(hasVae), 'and')} models; ${what} has no VAE`;
  }
  if (models.every(isSemiSupervisedVae) && q.m2Init === 'random' && q.given.includes('epochs')) {
    return `${nameOf('epochs')} does not apply to ${what} ${nameOf('m2Init')} random: with no pretrained VAE, vae-m2 trains ${nameOf('vaeEpochs')} epochs, each a pass over the unlabeled genes`;
  }
  for (const key of given(['alpha', 'm2Init'] as const)) {
    if (!models.some(taking(key))) return `${nameOf(key)} applies to ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} only; ${what} does not train it`;
  }
  if (q.given.includes('clip') && models.every(isLinear)) {
    return `${nameOf('clip')} limits the gradient of each Adam step; ${what} is fit by full-batch L-BFGS to convergence, as ${inWords(MODEL_NAMES.filter(isLinear), 'and')} are, and takes no clip`;
  }
  const cannot = models.filter((m) => !predictsExpression(m));
  if (q.target === 'expression' && cannot.length > 0) {
    return `${nameOf('target')} expression does not apply to ${inWords(cannot, 'and')}: its label is a latent class of two values; ${inWords(MODEL_NAMES.filter(predictsExpression), 'and')} predict expression`;
  }
  if (!models.some(taking('jointWeight')) && q.given.includes('jointWeight')) {
    return `${nameOf('jointWeight')} weighs the ELBO in the loss of ${inWords(MODEL_NAMES.filter(taking('jointWeight')), 'and')}; ${what} does not train a VAE with its classifier`;
  }
  for (const key of given(NEIGHBOR_SETTINGS)) {
    if (!models.some(taking(key))) return `${nameOf(key)} applies to the ${inWords(MODEL_NAMES.filter(taking(key)), 'and')} models only; ${what} uses no neighbours`;
  }
  return undefined;
}
