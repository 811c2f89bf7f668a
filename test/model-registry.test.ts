import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MODELS, UsageError, parseArgs } from '../src/cli/flags/args.ts';
import { HELP } from '../src/cli/flags/help.ts';
import { loadResumeSet } from '../src/cli/run/resume.ts';
import { type ClassifierSpec, buildClassifier, checkClassifierSpec } from '../src/models/modelSpec.ts';
import { readClassifierCheckpoint } from '../src/checkpoint/runCheckpoint.ts';
import { CHECKSUM_KEY, readSafetensors, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { DEFAULT_EXPERIMENT_MODELS, MODEL_NAMES, MODEL_REGISTRY, type ModelName, classifierSpecFor, isLinear, modelInfo } from '../src/models/registry.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// One list of models: every part asks the registry, and a name or an
// architecture it does not know is an error, never some other model.

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'registry-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const fail = (what: string): never => {
  throw new Error(what);
};

describe('the model registry', () => {
  it('is the list the command line, the help and the experiment use', () => {
    expect(MODELS).toEqual(MODEL_NAMES);
    // The experiment's default: every model but those whose definitions say a run costs hours.
    expect(parseArgs([]).models).toEqual(MODEL_NAMES.filter((m) => MODEL_REGISTRY[m].costlyInExperiment === undefined));
    expect(DEFAULT_EXPERIMENT_MODELS).toEqual(parseArgs([]).models);
    expect(MODEL_NAMES).toContain('logreg');
    for (const m of MODEL_NAMES) {
      expect(parseArgs(['--model', m]).model).toBe(m);
      expect(HELP).toContain(MODEL_REGISTRY[m].summary);
    }
    expect(HELP).toContain(`--model NAME          ${MODEL_NAMES.join(' | ')}`);
  });

  it('refuses an unknown model on the command line, naming the known ones', () => {
    expect(() => parseArgs(['--model', 'cnn'])).toThrow(new UsageError(`--model must be one of ${MODEL_NAMES.join(', ')}; got "cnn"`));
    expect(() => parseArgs(['--experiment', 'small-data', '--models', 'mlp,linear'])).toThrow(`--models must be one of ${MODEL_NAMES.join(', ')}; got "linear"`);
    expect(() => modelInfo('deepchrome2', 'checkpoint x')).toThrow(`checkpoint x: unknown model "deepchrome2"; known models are ${MODEL_NAMES.join(', ')}`);
  });

  it('builds for every model the classifier its entry says, and nothing for a forged name or architecture', () => {
    const input = { bins: 100, marks: 5, latentWidth: 30, derivedWidth: 25 };
    const expected: Record<ModelName, string> = {
      logreg: 'logreg',
      mlp: 'mlp',
      deepchrome: 'deepchrome',
      'vae-mlp': 'mlp',
      'vae-mlp-neighbors': 'mlp',
      'vae-joint': 'vae-joint',
      'vae-m2': 'vae-m2',
      'tss-linear': 'logreg',
      'expression-prior': 'logreg',
      'logreg-neighbors': 'logreg',
      'mark-means': 'logreg',
      attentivechrome: 'attentivechrome',
    };
    for (const m of MODEL_NAMES) {
      const spec = classifierSpecFor(m, input);
      expect(spec.architecture).toBe(expected[m]);
      expect(checkClassifierSpec(JSON.parse(JSON.stringify(spec)), fail)).toEqual(spec);
      expect(buildClassifier(spec).layers.length).toBeGreaterThan(0);
    }
    // logreg is one dense layer, no activation: 500 weights and a bias.
    const logreg = buildClassifier(classifierSpecFor('logreg', input));
    expect(logreg.store.count).toBe(501);
    expect(logreg.layers.map((l) => l.name)).toEqual(['flatten', 'out']);
    expect(() => classifierSpecFor('vae-mlp', { bins: 100, marks: 5 })).toThrow('vae-mlp: its classifier reads latents, and no latent width was given');
    // The linear baselines on derived features are logistic regression on the width their builder gives.
    expect(classifierSpecFor('tss-linear', input, 1e-3)).toEqual({ architecture: 'logreg', inputShape: [25], l2: 1e-3 });
    expect(() => classifierSpecFor('expression-prior', { bins: 100, marks: 5 })).toThrow('expression-prior: its classifier reads derived features, and no feature width was given');
    for (const m of MODEL_NAMES) expect(isLinear(m), m).toBe(MODEL_REGISTRY[m].input === 'derived' || m === 'logreg');
    expect(() => classifierSpecFor('cnn' as ModelName, input)).toThrow('model: unknown model "cnn"');
    const forged = { architecture: 'cnn', bins: 100, marks: 5 } as unknown as ClassifierSpec;
    expect(() => buildClassifier(forged)).toThrow('model: unknown architecture "cnn"');
    expect(() => checkClassifierSpec(forged, fail)).toThrow('model: architecture "cnn" is not logreg, mlp, deepchrome, vae-joint, vae-m2 or attentivechrome');
    expect(() => checkClassifierSpec({ architecture: 'logreg', inputShape: [100, 5], l2: -1 }, fail)).toThrow('model: bad logreg spec');
  });
});

describe('a checkpoint naming a model this version does not know', () => {
  it('is refused by resume and predict, and the directory is left as it was', async () => {
    const out = join(tmp(), 'run');
    const trained = await runMain(['--cpu', '--model', 'logreg', '--epochs', '1', '--quiet', '--out', out]);
    expect(trained.code, trained.stderr).toBe(0);
    const forge = async (file: string, edit: Record<string, string>) => {
      const f = await readSafetensors(join(out, file));
      const { [CHECKSUM_KEY]: _, ...meta } = f.metadata;
      const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
      await writeSafetensors(join(out, file), tensors, { ...meta, ...edit });
    };
    await forge('last.safetensors', { model_name: 'transformer' });
    await forge('best.safetensors', { model_name: 'deepchrome' });
    const before = snapshot(out);
    await expect(loadResumeSet(out)).rejects.toThrow(`model_name "transformer" is not a model this version knows (${MODEL_NAMES.join(', ')})`);
    const resumed = await runMain(['--resume', out]);
    expect(resumed.code).not.toBe(0);
    expect(resumed.stderr).toContain('model_name "transformer" is not a model this version knows');
    await expect(readClassifierCheckpoint(join(out, 'best.safetensors'), 'best')).rejects.toThrow('model_name deepchrome trains a deepchrome classifier, the file holds a logreg');
    const predicted = await runMain(['predict', '--model', out, '--data', join(out, 'nowhere'), '--cpu']);
    expect(predicted.code).not.toBe(0);
    expect(predicted.stderr).toContain('model_name deepchrome trains a deepchrome classifier, the file holds a logreg');
    expect(snapshot(out)).toEqual(before);
  });
});
