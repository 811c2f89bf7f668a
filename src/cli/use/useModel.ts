import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DataInfo } from '../../checkpoint/checkpointFormat.ts';
import { datasetFingerprint } from '../../checkpoint/fingerprint.ts';
import {
  type ClassifierCheckpoint,
  FILES,
  type VaeCheckpoint,
  readClassifierCheckpoint,
  readVaeCheckpoint,
} from '../../checkpoint/runCheckpoint.ts';
import { fineTunedVae, modelWindow } from '../../checkpoint/checkpointFormat.ts';
import { encodeSafetensors } from '../../checkpoint/safetensors.ts';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { marksMismatch, type Dataset } from '../../data/dataset.ts';
import { loadCell } from '../../data/loadCell.ts';
import { type NormalizationStats, applyNormalization } from '../../data/normalize.ts';
import { expressionTargets } from '../../data/expressionTargets.ts';
import { type UseOptions, UsageError } from '../flags/args.ts';
import { checkNotAnInput, checkOutputName } from './outputTarget.ts';
import { MODEL_NAMES, type ModelName, trainsJointly, usesNeighbors, usesVae as registryUsesVae } from '../../models/registry.ts';
import { usesVae } from '../run/resume.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { type TrainedModel, latentMeans, nonFiniteOutputs, predictOutputs, predictWith } from '../../train/predictWith.ts';
import { inWords } from '../../util/inWords.ts';
import { expressionPredictionsCsv, predictionsCsv } from '../../train/predictionsCsv.ts';
import { scoresBySplit } from '../../train/splitScores.ts';
import { predictionsOf } from '../../train/target.ts';
import { scoreSummary } from './predictSummary.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import type { Device } from '../../train/runModel.ts';
import { err, settingsOf, tellCache } from '../session/session.ts';
import { restoreSettings } from '../flags/storedSettings.ts';
import { deviceFor } from '../run/trainRun.ts';
import { COMMAND_TO_TYPE } from '../flags/commandName.ts';
import { csvTextField } from '../../util/csvField.ts';

// `predict` and `encode`: a trained run directory applied to the genes of
// another cell. The data is normalised with the statistics stored in the
// checkpoint (fitted on the training cell's training genes), never refitted,
// and goes through the same plans training used: the VAE plan's encode
// segment, the classifier plan's predict segment.

export interface ModelDirectory extends TrainedModel<ClassifierCheckpoint, VaeCheckpoint> {
  readonly dir: string;
  /** The data the model trained on, as its checkpoint records it (cell, path, fingerprint). */
  readonly trainedOn: DataInfo;
}

export async function readModelDirectory(dir: string, need: 'classifier' | 'vae'): Promise<ModelDirectory> {
  if (!existsSync(dir)) throw new UsageError(`--model ${dir}: no such directory`);
  const bestPath = join(dir, FILES.best);
  const vaePath = join(dir, FILES.vae);
  const classifier = existsSync(bestPath) ? await readClassifierCheckpoint(bestPath, 'best') : undefined;
  const info = classifier?.info ?? (existsSync(vaePath) ? (await readVaeCheckpoint(vaePath)).info : undefined);
  if (!info) throw new Error(`--model ${dir}: no ${FILES.best} (a training run writes it after its first epoch)`);
  if (need === 'classifier' && !classifier) throw new Error(`--model ${dir}: no ${FILES.best}; predict needs a trained classifier`);
  let vae: VaeCheckpoint | undefined;
  if (usesVae(info.modelName) || need === 'vae') {
    if (!existsSync(vaePath)) {
      throw new Error(
        need === 'vae' && !usesVae(info.modelName)
          ? `--model ${dir}: a ${info.modelName} model has no VAE; encode needs a ${inWords(MODEL_NAMES.filter(registryUsesVae), 'or')} run`
          : `--model ${dir}: a ${info.modelName} model needs ${FILES.vae}, which is missing`,
      );
    }
    vae = await readVaeCheckpoint(vaePath);
    if (vae.info.runId !== info.runId) throw new Error(`--model ${dir}: ${FILES.best} and ${FILES.vae} come from different runs`);
    if (classifier && trainsJointly(info.modelName)) vae = fineTunedVae(vae, classifier);
    const planned = Number(info.settings.vaeEpochs);
    if (vae.state.epoch < planned) {
      throw new Error(`--model ${dir}: ${FILES.vae} holds a VAE stopped after ${vae.state.epoch} of ${planned} epochs; resume the run first (${COMMAND_TO_TYPE} --resume ${dir})`);
    }
  }
  const settings = settingsOf(restoreSettings(info.settings, classifier?.file ?? vaePath));
  return {
    dir,
    ...(classifier ? { classifier } : {}),
    ...(vae ? { vae } : {}),
    modelName: info.modelName,
    settings,
    normalization: info.normalization,
    trainedOn: info.data,
  };
}

export interface UseData {
  /** Normalised with the model's statistics. */
  readonly ds: Dataset;
  /** As read: what the fingerprint and the expression values are taken of. */
  readonly raw: Dataset;
  readonly layout: string;
}

/** The new cell's data, read and normalised with the model's statistics; its shape must be the model's.
 * `out` (the output file) must not be one of the files read. */
export async function dataFor(o: { readonly command: string; readonly data: string; readonly out: string | undefined }, m: ModelDirectory, bins: number, marks: number): Promise<UseData> {
  const path = o.data;
  if (!existsSync(path) && !existsSync(`${path}.train.csv.gz`) && !existsSync(`${path}.train.csv`)) {
    throw new UsageError(`--data ${path}: no such file or directory`);
  }
  const loaded = await loadCell(path);
  tellCache(loaded.cache);
  const raw = loaded.dataset;
  if (o.out !== undefined) checkNotAnInput(o.command, o.out, [...raw.source, ...(loaded.cache.file !== undefined ? [loaded.cache.file] : [])]);
  const mismatch = marksMismatch(m.normalization.marks, raw.marks);
  if (mismatch) throw new Error(`--data ${path}: the model in ${m.dir}: ${mismatch}`);
  if (raw.bins !== bins || raw.marks.length !== marks) {
    throw new Error(`--data ${path}: ${raw.cell} has ${raw.bins} bins × ${raw.marks.length} marks per gene, the model in ${m.dir} takes ${bins} × ${marks}`);
  }
  return { ds: applyNormalization(raw, m.normalization), raw, layout: loaded.layout };
}

/** Probabilities for every gene of `ds` (already normalised), in dataset order. */
export function predictProbabilities(m: ModelDirectory, ds: Dataset, device: Device): Promise<Float32Array> {
  return predictWith(m, ds, device, DISK_SOURCES);
}

async function writeOutput(out: string | undefined, text: string): Promise<void> {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomically(out, text);
}

/** What the predictions are scored against: the labels, or log10(RPKM + 1); `why` there is none. */
interface Observed {
  readonly values?: ArrayLike<number>;
  readonly why?: string;
}

/** The cell's observed log10(RPKM + 1), read as training reads it, or why there is none (a cell the RPKM table lacks). */
async function observedExpression(m: ModelDirectory, data: UseData): Promise<Observed> {
  try {
    return { values: await expressionTargets(data.raw, data.layout, m.settings.expressionTable) };
  } catch (e) {
    return { why: e instanceof Error ? e.message : String(e) };
  }
}

async function predictCommand(o: UseOptions): Promise<number> {
  if (o.out !== undefined) checkOutputName('predict', o.out, o.modelDir, 'predictions.csv');
  const m = await readModelDirectory(o.modelDir, 'classifier');
  const { bins, marks } = modelWindow(m);
  const data = await dataFor(o, m, bins, marks);
  const { ds } = data;
  const target = m.settings.target;
  const trainedOn = m.trainedOn.cell;
  const choice = await deviceFor(o.device);
  try {
    if (!o.quiet) {
      err(
        `predict: ${m.modelName} trained on ${trainedOn} (${o.modelDir}) on ${ds.cell}, ${ds.genes} genes; ` +
          `normalization ${m.normalization.scheme} as fitted on ${trainedOn}'s ${m.normalization.trainGenes} training genes; ${o.device.toUpperCase()}: ${choice.name}`,
      );
    }
    const outputs = await predictOutputs(m, ds, choice.device, DISK_SOURCES);
    const overflow = nonFiniteOutputs(outputs, ds);
    if (overflow !== undefined) throw new Error(`predict: the model in ${o.modelDir} (${m.modelName}, run ${m.classifier?.info.runId}) ${overflow}: nothing was written`);
    const predicted = predictionsOf(target, outputs);
    const all = Uint32Array.from({ length: ds.genes }, (_, g) => g);
    const observed: Observed = target === 'expression' ? await observedExpression(m, data) : { values: ds.labels };
    await writeOutput(
      o.out,
      target === 'expression' ? expressionPredictionsCsv(ds, all, predicted, observed.values) : predictionsCsv(ds, all, predicted),
    );
    if (!o.quiet) {
      if (observed.values) {
        const against = target === 'expression' ? `${ds.cell}'s log10(RPKM + 1)` : `${ds.cell}'s labels`;
        const scores = scoresBySplit(target, ds, observed.values, outputs);
        for (const line of scoreSummary({ data: m.trainedOn, settings: m.settings }, ds, datasetFingerprint(data.raw), scores, against)) err(line);
      } else {
        err(`predict: not scored: no observed expression for ${ds.cell} (${observed.why}); the table has the predictions only`);
      }
      err(`predict: ${ds.genes} genes${target === 'expression' ? ', predicted log10(RPKM + 1)' : ''}${o.out !== undefined ? `; wrote ${o.out}` : ''}`);
    }
    return 0;
  } finally {
    choice.release();
  }
}

async function encodeCommand(o: UseOptions): Promise<number> {
  checkOutputName('encode', o.out as string, o.modelDir, 'latents.csv');
  const m = await readModelDirectory(o.modelDir, 'vae');
  const vae = m.vae as VaeCheckpoint;
  const { ds } = await dataFor(o, m, vae.spec.bins, vae.spec.marks);
  const choice = await deviceFor(o.device);
  try {
    const Z = vae.spec.latent;
    const mu = await latentMeans(ds, vae, m.settings, choice.device);
    const out = o.out as string;
    await mkdir(dirname(out), { recursive: true });
    if (out.endsWith('.safetensors')) {
      await writeFileAtomically(
        out,
        encodeSafetensors(
          [
            { name: 'latent_mean', shape: [ds.genes, Z], data: mu },
            { name: 'label', shape: [ds.genes], data: Uint8Array.from(ds.labels) },
            { name: 'split', shape: [ds.genes], data: Uint8Array.from(ds.split) },
          ],
          {
            format: 'simplechrome-latents-1',
            cell: ds.cell,
            model: o.modelDir,
            trained_on: m.trainedOn.cell,
            gene_ids: JSON.stringify(ds.geneIds),
            split_codes: JSON.stringify({ train: 0, valid: 1, test: 2 }),
          },
        ),
      );
    } else {
      const lines = [['gene_id', 'label', ...Array.from({ length: Z }, (_, j) => `z${j + 1}`)].join(',')];
      for (let g = 0; g < ds.genes; g++) {
        const row = Array.from(mu.subarray(g * Z, (g + 1) * Z), (v) => v.toPrecision(7));
        lines.push([csvTextField(ds.geneIds[g] as string), String(ds.labels[g]), ...row].join(','));
      }
      await writeFileAtomically(out, `${lines.join('\n')}\n`);
    }
    if (!o.quiet) err(`encode: ${ds.genes} genes of ${ds.cell} → ${Z} latent means each (VAE trained on ${m.trainedOn.cell}); wrote ${out}`);
    return 0;
  } finally {
    choice.release();
  }
}

export async function useModel(o: UseOptions): Promise<number> {
  return o.command === 'predict' ? predictCommand(o) : encodeCommand(o);
}
