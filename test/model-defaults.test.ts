import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli/flags/args.ts';
import { runSettingsOf } from '../src/api/core.ts';
import { MODEL_NAMES, trainingDefaults } from '../src/models/registry.ts';
import { RUN_DEFAULTS } from '../src/train/runSettings.ts';

// A model may bring its own training defaults (its definition's trainingDefaults: attentivechrome's are its public
// code's lr, batch, epochs and clip). A training run takes them where the user typed nothing, on the command line
// and in the API alike; a typed value wins; an experiment (one protocol for every model) and a resumed run (its
// stored settings) are left as they are.

const own = MODEL_NAMES.filter((m) => Object.keys(trainingDefaults(m)).length > 0);
const sources = { annotation: '', expressionTable: '' };

describe("a model's own training defaults", () => {
  it('exist for at least one model, so the checks below can fail', () => {
    expect(own.length).toBeGreaterThan(0);
  });

  for (const m of own) {
    const d = trainingDefaults(m);
    it(`${m}: train takes them where nothing was typed, and a typed value wins`, () => {
      const o = parseArgs(['train', '--model', m]);
      for (const [k, v] of Object.entries(d)) expect(o[k as keyof typeof o], k).toBe(v);
      if (d.batch !== undefined) expect(o.vaeBatch).toBe(d.batch);
      const typed = parseArgs(['train', '--model', m, '--lr', '0.003', '--batch', '7']);
      expect([typed.lr, typed.batch]).toEqual([0.003, 7]);
    });

    it(`${m}: the API takes them too, and a given value wins`, () => {
      const s = runSettingsOf({ model: m }, [], sources);
      for (const [k, v] of Object.entries(d)) expect(s[k as keyof typeof s], k).toBe(v);
      expect(runSettingsOf({ model: m, lr: 0.003 }, [], sources).lr).toBe(0.003);
    });

    it(`${m}: an experiment and a resumed run keep the protocol's or the stored settings`, () => {
      const e = parseArgs(['experiment', '--models', m]);
      expect([e.lr, e.batch, e.epochs, e.clip]).toEqual([RUN_DEFAULTS.lr, RUN_DEFAULTS.batch, RUN_DEFAULTS.epochs, RUN_DEFAULTS.clip]);
      const r = parseArgs(['train', '--resume', 'runs/somewhere']);
      expect([r.lr, r.batch, r.epochs, r.clip]).toEqual([RUN_DEFAULTS.lr, RUN_DEFAULTS.batch, RUN_DEFAULTS.epochs, RUN_DEFAULTS.clip]);
    });
  }

  it('a model without its own defaults takes the command line\'s', () => {
    const plain = MODEL_NAMES.find((m) => Object.keys(trainingDefaults(m)).length === 0);
    expect(plain).toBeDefined();
    const o = parseArgs(['train', '--model', plain as string]);
    expect([o.lr, o.batch, o.epochs, o.clip]).toEqual([RUN_DEFAULTS.lr, RUN_DEFAULTS.batch, RUN_DEFAULTS.epochs, RUN_DEFAULTS.clip]);
  });
});
