import type { ClassifierSpec, VaeSpec } from '../models/modelSpec.ts';
import type { Executor } from '../plan/executor.ts';
import type { ClassifierPlan } from './classifierPlan.ts';
import type { ClassifierState } from './trainClassifier.ts';
import type { VaeState } from './trainVae.ts';
import type { VaePlan } from './vaePlan.ts';

// Where a run hands its checkpoints as it trains. Declared here, by the run
// that calls it, so that training does not depend on the checkpoint format:
// src/checkpoint's CheckpointWriter implements it (files in a run directory,
// or memory in the page).

export interface CheckpointSink {
  /** After each VAE epoch: the VAE's weights, moments and counters, read from `exec`. */
  saveVae(exec: Executor, vp: VaePlan, spec: VaeSpec, state: VaeState): Promise<void>;
  /** After each classifier epoch: the latest epoch, and the best one too when `improved`. */
  saveClassifier(exec: Executor, cp: ClassifierPlan, spec: ClassifierSpec, state: ClassifierState, improved: boolean): Promise<void>;
}
