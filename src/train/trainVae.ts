import { ADAM_M, ADAM_V, GRADS, PARAMS } from '../nn/parameters.ts';
import type { Executor } from '../plan/executor.ts';
import { epochOrder, seededRandom } from '../util/random.ts';
import { divergence } from './trainClassifier.ts';
import { V, type VaePlan } from './vaePlan.ts';
import { runInSlices } from './runInSlices.ts';

// The VAE's epoch loop: one shuffled order upload, one submit of all steps and
// one read of the three loss sums per epoch; then one encode pass over every
// gene and one read of the latent means.

export interface VaeEpochRecord {
  readonly epoch: number;
  /** Means over the epoch's steps: total, reconstruction (MSE) and KL (before beta). */
  readonly loss: number;
  readonly reconstruction: number;
  readonly kl: number;
  readonly seconds: number;
  readonly genesPerSecond: number;
}

/** Where a VAE's training stands after a finished epoch: what the loop hands
 * `afterEpoch`, what vae.safetensors stores (src/checkpoint serialises it) and
 * what a resumed run continues from. The parameters, Adam's moments and the
 * step counter travel beside it. */
export interface VaeState {
  /** Epochs finished. */
  readonly epoch: number;
  /** The device step counter, epoch × steps per epoch (Adam's t). */
  readonly step: number;
  /** State of the host generator that shuffles each epoch, after this epoch's shuffle. */
  readonly rng: number;
  readonly history: readonly VaeEpochRecord[];
}

export interface VaeTrainConfig {
  readonly epochs: number;
  readonly seed: number;
  readonly onEpoch?: (r: VaeEpochRecord) => void;
  /** Within an epoch: `done` of its `total` steps have run (progress for someone watching a long epoch). */
  readonly onSteps?: (epoch: number, done: number, total: number) => void;
  /** Continue from a checkpoint: the caller has restored the parameters, moments and step counter. */
  readonly resume?: VaeState;
  /** Awaited after each finished epoch, before onEpoch. */
  readonly afterEpoch?: (state: VaeState) => Promise<void>;
}

export function initialiseVae(exec: Executor, vp: VaePlan, features: Float32Array, initialParams: Float32Array): void {
  exec.write(V.features, features);
  exec.write(PARAMS, initialParams);
  const zeros = new Float32Array(vp.model.store.total);
  for (const t of [GRADS, ADAM_M, ADAM_V]) exec.write(t, zeros);
  exec.write(V.step, [0]);
}

/** Uploads the features and a checkpoint's parameters, Adam moments and step counter. */
export function initialiseVaeFrom(
  exec: Executor,
  vp: VaePlan,
  features: Float32Array,
  state: { readonly params: Float32Array; readonly adamM: Float32Array; readonly adamV: Float32Array; readonly step: number },
): void {
  initialiseVae(exec, vp, features, state.params);
  exec.write(ADAM_M, state.adamM);
  exec.write(ADAM_V, state.adamV);
  exec.write(V.step, [state.step]);
}

export async function trainVae(exec: Executor, vp: VaePlan, genes: Uint32Array, config: VaeTrainConfig): Promise<VaeEpochRecord[]> {
  const { batch } = vp.config;
  const steps = Math.ceil(genes.length / batch);
  if (steps * batch !== vp.config.trainOrderLength) {
    throw new Error(`vae: plan built for a training order of ${vp.config.trainOrderLength}, data needs ${steps * batch}`);
  }
  const random = seededRandom(config.seed ^ 0x7ae);
  if (config.resume) random.restore(config.resume.rng);
  const history: VaeEpochRecord[] = [...(config.resume?.history ?? [])];
  for (let epoch = (config.resume?.epoch ?? 0) + 1; epoch <= config.epochs; epoch++) {
    const t0 = performance.now();
    exec.write(V.trainOrder, epochOrder(genes, vp.config.trainOrderLength, random));
    exec.write(V.trainCursor, [0]);
    exec.write(V.reportLoss, [0, 0, 0]);
    const onSteps = config.onSteps;
    await runInSlices(exec, steps, 'train', onSteps && ((done, total) => onSteps(epoch, done, total)));
    const loss = await exec.read(V.reportLoss);
    const seconds = (performance.now() - t0) / 1000;
    const record: VaeEpochRecord = {
      epoch,
      loss: (loss[0] as number) / steps,
      reconstruction: (loss[1] as number) / steps,
      kl: (loss[2] as number) / steps,
      seconds,
      genesPerSecond: (steps * batch) / seconds,
    };
    if (!Number.isFinite(record.loss)) throw await divergence(exec, V.stepLosses, 'VAE training', epoch, steps);
    history.push(record);
    await config.afterEpoch?.({ epoch, step: epoch * steps, rng: random.state(), history });
    config.onEpoch?.(record);
  }
  return history;
}

/** Latent means [genes, latent] of every gene of the plan, in one submit and one read. */
export async function encodeAll(exec: Executor, vp: VaePlan): Promise<Float32Array> {
  const { genes, encodeBatch } = vp.config;
  exec.write(V.encodeOrder, Uint32Array.from({ length: genes }, (_, i) => i));
  exec.write(V.encodeCursor, [0]);
  await exec.run(Math.ceil(genes / encodeBatch), 'encode');
  const report = await exec.read(V.report);
  const Z = vp.model.latent;
  return Float32Array.from(report.subarray(vp.latentsOffset, vp.latentsOffset + genes * Z));
}
