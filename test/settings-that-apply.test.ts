import { describe, expect, it } from 'vitest';
import { MODEL_SETTINGS } from '../src/models/definition.ts';
import { isLinear, MODEL_NAMES, takesSetting, usesNeighbors, derivedFeatures } from '../src/models/registry.ts';
import { RUN_DEFAULTS, settingsThatApply } from '../src/train/runSettings.ts';

// metrics.json records the settings a run's model reads, never a default it
// ignores: a reader would take --k on a vae-mlp run, or --epochs on a linear
// fit, for a choice that shaped the result.

const sources = { annotation: 'genes.gtf', expressionTable: 'rpkm.csv' };

describe('settingsThatApply', () => {
  it('keeps, for every model, the settings its definition reads and the general ones, and drops the rest', () => {
    for (const model of MODEL_NAMES) {
      const kept = Object.keys(settingsThatApply({ ...RUN_DEFAULTS, ...sources, model }));
      for (const setting of MODEL_SETTINGS) expect(kept.includes(setting), `${model} ${setting}`).toBe(takesSetting(model, setting));
      for (const general of ['model', 'target', 'trainSize', 'seed']) expect(kept, `${model} ${general}`).toContain(general);
      for (const loop of ['epochs', 'batch', 'lr', 'clip']) expect(kept.includes(loop), `${model} ${loop}`).toBe(!isLinear(model));
      const readsSources = usesNeighbors(model) || derivedFeatures(model) !== undefined;
      expect(kept.includes('annotation') && kept.includes('expressionTable'), `${model} sources`).toBe(readsSources);
    }
  });

  it('keeps the values as given', () => {
    const model = MODEL_NAMES.find((m) => takesSetting(m, 'k') && !isLinear(m));
    expect(model).toBeDefined();
    const s = { ...RUN_DEFAULTS, ...sources, model: model ?? RUN_DEFAULTS.model, k: 7, seed: 129 };
    expect(settingsThatApply(s)).toMatchObject({ k: 7, seed: 129, annotation: 'genes.gtf' });
  });

  it('drops --epochs from vae-m2 started from random weights, which trains --vae-epochs epochs', () => {
    const m2 = MODEL_NAMES.find((m) => takesSetting(m, 'm2Init'));
    expect(m2).toBeDefined();
    const base = { ...RUN_DEFAULTS, ...sources, model: m2 ?? RUN_DEFAULTS.model };
    expect(settingsThatApply({ ...base, m2Init: 'random' })).not.toHaveProperty('epochs');
    expect(settingsThatApply({ ...base, m2Init: 'pretrained' })).toHaveProperty('epochs');
  });
});
