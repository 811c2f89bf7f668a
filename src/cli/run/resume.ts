import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ClassifierCheckpoint,
  FILES,
  type RunInfo,
  type VaeCheckpoint,
  readClassifierCheckpoint,
  readVaeCheckpoint,
} from '../../checkpoint/runCheckpoint.ts';
import { modelInfo, pretrainsVae, usesVae as registryUsesVae } from '../../models/registry.ts';

// What a run directory holds to continue from: last.safetensors (the
// classifier phase), vae.safetensors (the VAE of the vae-* models), or both.

export interface ResumeSet {
  readonly dir: string;
  readonly info: RunInfo;
  /** The file the settings were taken from, for messages. */
  readonly from: string;
  readonly vae?: VaeCheckpoint;
  readonly classifier?: ClassifierCheckpoint;
}

/** Whether a checkpoint's model name trains a VAE; a name the registry does not know is an error, never a guess. */
export function usesVae(model: string, where = 'checkpoint'): boolean {
  return registryUsesVae(modelInfo(model, where).name);
}

export async function loadResumeSet(dir: string): Promise<ResumeSet> {
  if (!existsSync(dir)) throw new Error(`--resume ${dir}: no such directory`);
  const lastPath = join(dir, FILES.last);
  const vaePath = join(dir, FILES.vae);
  const classifier = existsSync(lastPath) ? await readClassifierCheckpoint(lastPath, 'last') : undefined;
  const vae = existsSync(vaePath) ? await readVaeCheckpoint(vaePath) : undefined;
  if (!classifier && !vae) {
    throw new Error(`--resume ${dir}: nothing to resume: no ${FILES.last} or ${FILES.vae} (a run writes them after its first finished epoch)`);
  }
  if (classifier && vae && classifier.info.runId !== vae.info.runId) {
    throw new Error(`--resume ${dir}: ${FILES.last} and ${FILES.vae} come from different runs (run ids ${classifier.info.runId} and ${vae.info.runId})`);
  }
  const info = (classifier ?? vae)?.info as RunInfo;
  // vae-m2 starts from a VAE it trains first, but its checkpoint holds the whole model: vae.safetensors is only
  // there while (or after) it pretrains, and never there for a run from random weights (--m2-init random).
  const startsFromVae = pretrainsVae(modelInfo(info.modelName, 'checkpoint').name) && vae !== undefined;
  if (usesVae(info.modelName) || startsFromVae) {
    if (!vae) throw new Error(`--resume ${dir}: a ${info.modelName} run needs ${FILES.vae}, which is missing`);
    const planned = Number(info.settings.vaeEpochs);
    if (classifier && vae.state.epoch < planned) {
      throw new Error(`--resume ${dir}: ${FILES.last} exists but ${FILES.vae} has only ${vae.state.epoch} of ${planned} VAE epochs`);
    }
    return { dir, info, from: classifier ? lastPath : vaePath, vae, ...(classifier ? { classifier } : {}) };
  }
  if (!classifier) throw new Error(`--resume ${dir}: a ${info.modelName} run resumes from ${FILES.last}, which is missing`);
  return { dir, info, from: lastPath, classifier };
}
