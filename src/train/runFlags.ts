import type { TrainingDefaults } from '../models/definition.ts';
import { MODEL_NAMES, trainingDefaults } from '../models/registry.ts';
import { RUN_DEFAULTS, type RunSettings } from './runSettings.ts';
import { TARGETS } from './target.ts';

// Each run setting's flag and the one parser of its value. The command line
// parses what a user types with it, and a checkpoint's stored settings are read
// back with it (by the command line and by the page alike), so a stored run
// passes exactly the checks a typed one does.

/** A run setting whose value is wrong; the message names the flag and the value. */
export class SettingError extends Error {
  override name = 'SettingError';
}

export type RunKey = keyof Omit<RunSettings, 'annotation' | 'expressionTable'>;

export function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new SettingError(`${flag} needs a positive integer, got "${v}"`);
  return n;
}

export function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new SettingError(`${flag} needs a positive number, got "${v}"`);
  return n;
}

/** A comma-separated list of numbers >= 0, none twice (each is a model the run trains and compares). */
function weightList(flag: string, v: string): number[] {
  const values = v.split(',').map((p) => {
    const n = Number(p);
    if (p.trim() === '' || !Number.isFinite(n) || n < 0) throw new SettingError(`${flag} needs numbers >= 0, separated by commas; got "${v}"`);
    return n;
  });
  if (new Set(values).size !== values.length) throw new SettingError(`${flag} ${v} names a value twice`);
  return values;
}

export function oneOf<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) throw new SettingError(`${flag} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v as T;
}

export const NEIGHBOR_KINDS = ['spatial', 'functional'] as const;

interface RunFlag<K extends RunKey> {
  readonly flag: string;
  readonly parse: (v: string, flag: string) => RunSettings[K];
  /** The values it accepts, for a setting that is one of a few (the page offers them as a list). */
  readonly choices?: readonly string[];
  /** How the flag spells the setting's undefined value (--train-size all, --clip off). */
  readonly unset?: string;
}

export const SIGMA_KINDS = ['logvar', 'softplus'] as const;
export const M2_INITS = ['pretrained', 'random'] as const;

/** Every run setting's flag and parser, in the order a checkpoint stores them. */
export const RUN_FLAGS: { readonly [K in RunKey]: RunFlag<K> } = {
  model: { flag: '--model', parse: (v, f) => oneOf(f, v, MODEL_NAMES), choices: MODEL_NAMES },
  target: { flag: '--target', parse: (v, f) => oneOf(f, v, TARGETS), choices: TARGETS },
  trainSize: { flag: '--train-size', parse: (v, f) => (v === 'all' ? undefined : positiveInt(f, v)), unset: 'all' },
  epochs: { flag: '--epochs', parse: (v, f) => positiveInt(f, v) },
  vaeEpochs: { flag: '--vae-epochs', parse: (v, f) => positiveInt(f, v) },
  batch: { flag: '--batch', parse: (v, f) => positiveInt(f, v) },
  vaeBatch: { flag: '--vae-batch', parse: (v, f) => positiveInt(f, v) },
  lr: { flag: '--lr', parse: (v, f) => positiveNumber(f, v) },
  clip: {
    flag: '--clip',
    parse: (v, f) => {
      if (v === 'off') return undefined;
      const n = Number(v);
      // The limit is an f32 on the GPU: one that rounds to 0 or to infinity there would zero or never clip.
      if (v.trim() === '' || !Number.isFinite(n) || !(Math.fround(n) > 0) || !Number.isFinite(Math.fround(n))) {
        throw new SettingError(`${f} needs the largest gradient norm, a positive number (or off), got "${v}"`);
      }
      return n;
    },
    unset: 'off',
  },
  latent: { flag: '--latent', parse: (v, f) => positiveInt(f, v) },
  beta: {
    flag: '--beta',
    parse: (v, f) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new SettingError(`${f} needs a number >= 0, got "${v}"`);
      return n;
    },
  },
  sigma: { flag: '--sigma', parse: (v, f) => oneOf(f, v, SIGMA_KINDS), choices: SIGMA_KINDS },
  neighbors: { flag: '--neighbors', parse: (v, f) => oneOf(f, v, NEIGHBOR_KINDS), choices: NEIGHBOR_KINDS },
  k: { flag: '--k', parse: (v, f) => positiveInt(f, v) },
  seed: {
    flag: '--seed',
    parse: (v, f) => {
      if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) throw new SettingError(`${f} needs an integer in [0, 4294967295], got "${v}"`);
      return Number(v);
    },
  },
  jointWeight: { flag: '--joint-weight', parse: (v, f) => weightList(f, v) },
  alpha: { flag: '--alpha', parse: (v, f) => weightList(f, v) },
  m2Init: { flag: '--m2-init', parse: (v, f) => oneOf(f, v, M2_INITS), choices: M2_INITS },
};

export const RUN_KEYS = Object.keys(RUN_FLAGS) as RunKey[];

/** Settings newer than some stored runs: a file without one was written before it existed, and it reads back
 * as the default, which is what that run did (a classifier before --target; λ's default before vae-joint; no clip
 * before --clip). A run with --clip off stores none either: JSON has no undefined. */
export const ADDED_LATER: ReadonlySet<string> = new Set<RunKey>(['target', 'jointWeight', 'alpha', 'clip']);

/** Settings whose default changed when they were added: a file without one reads back as what its run did then
 * (--m2-init: vae-m2 trained from random weights, for --vae-epochs epochs, before it started from the VAE). */
export const ABSENT_MEANS: Readonly<Partial<Record<RunKey, string>>> = { m2Init: 'random' };

/** Settings split off an older one: a file without one was written when the older setting decided both, so it
 * reads back as that setting's stored value (--vae-batch: before it, --batch sized the VAE's minibatch too). */
export const SPLIT_FROM: Readonly<Partial<Record<RunKey, RunKey>>> = { vaeBatch: 'batch' };

/** The settings a model definition may give its own default for. */
const TRAINING_DEFAULT_KEYS = ['lr', 'batch', 'epochs', 'clip'] as const satisfies readonly (keyof TrainingDefaults & RunKey)[];

/** `s` with its model's own training defaults (src/models/definition.ts TrainingDefaults) wherever the user gave no
 * value (`given` false), the command line's default where the model has none, and each setting split off an older
 * one following it unless given (a model's batch is its VAE's too). */
export function withModelDefaults<S extends Omit<RunSettings, 'annotation' | 'expressionTable'>>(s: S, given: (key: RunKey) => boolean): S {
  const own = trainingDefaults(s.model);
  const out: Record<string, unknown> = { ...s };
  for (const key of TRAINING_DEFAULT_KEYS) if (!given(key)) out[key] = own[key] ?? RUN_DEFAULTS[key];
  for (const [key, older] of Object.entries(SPLIT_FROM) as [RunKey, RunKey][]) if (!given(key)) out[key] = out[older];
  return out as S;
}

/** The stored value of `key`, or for a setting split off an older one, the older one's (SPLIT_FROM), or for one
 * whose default changed, what its absence means (ABSENT_MEANS). A list (--joint-weight 0,1,10) is given back as
 * the command line spells it. */
export function storedValue(s: Readonly<Record<string, unknown>>, key: string): unknown {
  const older = SPLIT_FROM[key as RunKey];
  const v = s[key] === undefined && older !== undefined ? s[older] : (s[key] ?? ABSENT_MEANS[key as RunKey]);
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number') ? v.join(',') : v;
}

/** The run settings a checkpoint stored, each parsed as its flag would be (`file` names the checkpoint in errors);
 * a setting added since the file was written reads back as its default. */
export function restoreRunSettings(
  raw: Readonly<Record<string, unknown>>,
  file: string,
  sources: { readonly annotation: string; readonly expressionTable: string },
): RunSettings {
  const settings: Record<string, unknown> = { ...sources };
  for (const key of RUN_KEYS) {
    const v = key === 'trainSize' ? (raw.trainSize === null || raw.trainSize === undefined ? 'all' : raw.trainSize) : storedValue(raw, key);
    if (v === undefined && ADDED_LATER.has(key)) {
      settings[key] = RUN_DEFAULTS[key];
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number') throw new SettingError(`${file}: stored settings have no valid "${key}" (${JSON.stringify(v)})`);
    try {
      settings[key] = RUN_FLAGS[key].parse(String(v), RUN_FLAGS[key].flag);
    } catch (e) {
      if (e instanceof SettingError) throw new SettingError(`${file}: stored settings are invalid: ${e.message}`);
      throw e;
    }
  }
  return settings as unknown as RunSettings;
}
