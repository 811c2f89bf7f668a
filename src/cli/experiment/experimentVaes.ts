import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathUnder } from '../../util/pathUnder.ts';
import { FILES, type RunInfo, RunCheckpoints, readVaeCheckpoint } from '../../checkpoint/runCheckpoint.ts';
import { LATENTS_FILE, readLatentsFile, writeLatentsFile } from './latentsFile.ts';
import { SHARED_VAE_MODEL } from '../../models/registry.ts';
import type { RunHooks, VaeLatents } from '../../train/runModel.ts';
import { EXPERIMENT_FILE } from '../session/runDirectory.ts';
import { type LoadedData, dataInfoOf } from '../session/session.ts';

// The experiment keeps each VAE it trains, one folder per (cell, seed) under
// vaes/: a checkpoint after every epoch while it trains, then the latents
// file its runs read. An experiment stopped mid-VAE continues from the last
// epoch, and one stopped after it never trains that VAE again: on E116 one
// VAE is half an hour on a software adapter, and a sweep spans several
// sittings. Once the latents are written the checkpoint (weights and Adam's
// moments) is deleted: the latents file holds what the runs need, vae-joint's
// starting weights included, at a third of the size.

const VAES_DIR = EXPERIMENT_FILE.vaes;

export function vaeFolder(experimentDir: string, cell: string, seed: number): string {
  // The cell's name comes from the data's files: the folder it names must stay inside vaes/.
  const vaes = join(experimentDir, VAES_DIR);
  if (pathUnder(vaes, `${cell}-seed${seed}`) === undefined) throw new Error(`cell name ${JSON.stringify(cell)} would put its VAE outside ${vaes}`);
  return join(vaes, `${cell}-seed${seed}`);
}

/** What a stored VAE must have been trained with: the settings key runModel shares VAEs by, and the data. */
export const vaeIdentity = (settingsKey: string, fingerprint: string): string => `${settingsKey}|data ${fingerprint}`;

/** Where the experiment writes, and what it is told after each checkpoint (its directory then keeps what it
 * wrote on failure, and a staged directory may be swapped in: `dir()` is asked again afterwards). */
export interface ExperimentTarget {
  dir(): string;
  saved(): void;
}

/** Checkpoints into `folder()` of the experiment's directory, which follow that directory when a staged one is
 * swapped in at the first of them. */
export function checkpointsIn(out: ExperimentTarget, folder: () => string, info: RunInfo): RunCheckpoints {
  const checkpoints = new RunCheckpoints(folder(), info);
  checkpoints.onSaved = () => {
    out.saved();
    checkpoints.relocate(folder());
  };
  return checkpoints;
}

/** The stored VAE of (cell, seed), or a VAE trained now with a checkpoint after every epoch in its folder. */
export async function storedOrTrainedVae(
  out: ExperimentTarget,
  seed: number,
  data: LoadedData,
  settingsKey: string,
  train: (hooks: RunHooks) => Promise<VaeLatents>,
  latentWidth: number,
  note: (line: string) => void,
): Promise<{ vae: VaeLatents; trained: boolean }> {
  const cell = data.dataset.cell;
  const dir = vaeFolder(out.dir(), cell, seed);
  // The normalization decides the VAE's inputs as much as the raw data does.
  const identity = vaeIdentity(`${settingsKey}|${data.normalization.scheme}`, data.fingerprint);
  const latentsPath = join(dir, LATENTS_FILE);
  if (existsSync(latentsPath)) {
    note(`experiment: ${cell}, seed ${seed}: the VAE trained earlier, from ${latentsPath}`);
    return { vae: await readLatentsFile(latentsPath, identity), trained: false };
  }
  mkdirSync(dir, { recursive: true });
  const checkpoints = checkpointsIn(out, () => vaeFolder(out.dir(), cell, seed), {
    // The identity decides the run: a checkpoint of other settings or data in this folder is refused by its id.
    runId: `vae-${cell}-seed${seed}-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`,
    modelName: SHARED_VAE_MODEL,
    settings: { identity },
    normalization: data.normalization,
    data: dataInfoOf(data),
  });
  const checkpointPath = checkpoints.path('vae');
  let resume: RunHooks['resume'];
  if (existsSync(checkpointPath)) {
    const from = await readVaeCheckpoint(checkpointPath);
    if (from.info.runId !== checkpoints.info.runId) {
      throw new Error(`${checkpointPath}: a VAE checkpoint of other settings or data (${from.info.runId}); this experiment's is ${checkpoints.info.runId}. Move the folder away to train it again`);
    }
    note(`experiment: ${cell}, seed ${seed}: continuing the VAE from ${checkpointPath} (epoch ${from.state.epoch})`);
    resume = { vae: from };
  }
  const vae = await train({ checkpoints, ...(resume ? { resume } : {}) });
  const folder = vaeFolder(out.dir(), cell, seed);
  await writeLatentsFile(join(folder, LATENTS_FILE), cell, latentWidth, vae, identity);
  rmSync(join(folder, FILES.vae), { force: true });
  return { vae, trained: true };
}
