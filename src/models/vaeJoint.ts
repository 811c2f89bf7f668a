import type { Layer } from '../nn/layer.ts';
import type { Model } from '../nn/model.ts';
import { ParameterStore } from '../nn/parameters.ts';
import { mlpModel } from './mlp.ts';
import { type VaeConfig, type VaeModel, vaeModel } from './vae.ts';

// vae-joint: SimpleChrome's VAE and an MLP head on its latent mean, in one
// parameter store so that one Adam dispatch trains both (the joint step of
// jointPlan.ts). The VAE is declared first, so its parameters sit at the
// offsets a standalone VAE's store gives them: the first `vaeTotal` elements of
// the flat buffer are a VAE checkpoint's buffer, in both directions (a pretrained
// VAE is copied in; `encode` reads the fine-tuned encoder back out).

export interface JointModel {
  readonly store: ParameterStore;
  readonly vae: VaeModel;
  /** Latent mean [latent] → one logit: the MLP's layers. */
  readonly head: readonly Layer[];
  /** Elements of the flat buffer the VAE occupies (padding included): the head starts here. */
  readonly vaeTotal: number;
  /** Window [bins, marks] → encoder → latent mean → head → logit: what predict runs. */
  readonly classifier: Model;
}

export function jointModel(vae: VaeConfig, hidden: readonly number[]): JointModel {
  const store = new ParameterStore();
  const v = vaeModel(vae, store);
  const vaeTotal = store.total;
  const head = mlpModel({ inputShape: [v.latent], hidden }, store).layers;
  const classifier: Model = { store, layers: [...v.encoder, v.mu, ...head], inputShape: v.inputShape };
  return { store, vae: v, head, vaeTotal, classifier };
}
