import type { ClassifierSpec, VaeSpec } from '../models/modelSpec.ts';
import type { VaeModel } from '../models/vae.ts';
import type { Model } from '../nn/model.ts';
import type { ClassifierState } from './trainClassifier.ts';
import type { VaeState } from './trainVae.ts';

// What a run reads back from a stored model, to continue training it or to
// predict with it: the parts of a checkpoint (src/checkpoint's
// ClassifierCheckpoint and VaeCheckpoint carry them) that training uses.

export interface StoredClassifier {
  /** Names the checkpoint in errors. */
  readonly file: string;
  readonly spec: ClassifierSpec;
  readonly model: Model;
  /** Where its training left off. */
  readonly state: ClassifierState;
  /** Flat buffers in the model's layout. */
  readonly params: Float32Array;
  readonly adamM?: Float32Array;
  readonly adamV?: Float32Array;
  readonly best?: Float32Array;
}

export interface StoredVae {
  readonly file: string;
  readonly spec: VaeSpec;
  readonly model: VaeModel;
  readonly state: VaeState;
  readonly params: Float32Array;
  readonly adamM: Float32Array;
  readonly adamV: Float32Array;
}
