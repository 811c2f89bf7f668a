import type { ClassifierSpec } from '../models/modelSpec.ts';
import type { CheckpointSink } from './checkpointSink.ts';
import type { StoredClassifier } from './storedModel.ts';
import type { TrainResult } from './trainClassifier.ts';

// A loss weight searched over several values (vae-m2's α, vae-joint's λ) trains one model per value, each as
// long as a plain run. Where a run's caller can keep files across a stop (the experiment's running/ folder), it
// hands the search this store: each value checkpoints its epochs, and a finished value's result is kept, so a
// resumed search trains neither a finished value again nor an unfinished one from its first epoch. Declared
// here, by the search that calls it; the caller decides where the files go.

/** One value's finished training: what the search compares and keeps. */
export interface TrainedValue {
  readonly result: TrainResult;
  readonly spec: ClassifierSpec;
  readonly parameters: number;
}

export interface WeightSearchStore {
  /** The value's training when an earlier sitting finished it. */
  finished(index: number, value: number): Promise<TrainedValue | undefined>;
  /** Where the value's epochs are checkpointed, and the checkpoint it continues from, if a stop left one. */
  value(index: number, value: number): Promise<{ readonly checkpoints: CheckpointSink; readonly resume?: StoredClassifier }>;
  /** The value finished: its result is kept, and its checkpoints are no longer needed. */
  keep(index: number, value: number, trained: TrainedValue): Promise<void>;
}
