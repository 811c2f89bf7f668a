import { Dense } from '../nn/dense.ts';
import type { Model } from '../nn/model.ts';
import { type VaeConfig, type VaeModel, vaeModel } from './vae.ts';

// The semi-supervised VAE of Kingma et al. 2014 ("M2"), the label y ∈ {0, 1}
// a latent variable beside z:
//   q(y|x)    the VAE encoder's conv trunk (shared), flatten, dense 128 + ReLU, dense → 1 logit
//   q(z|x,y)  the trunk's features with the one-hot y appended → dense heads mu and logvar
//   p(x|z,y)  SimpleChrome's decoder reading z with the one-hot y appended
// The trunk is shared so that what the unlabeled genes teach the encoder
// reaches the classifier directly, not only through the M2 term.

/** SimpleChrome's VAE sizes, all given (a checkpoint's spec writes every one), and the classifier head's. */
export type M2Config = Readonly<Required<Omit<VaeConfig, 'condition'>>> & {
  /** Hidden widths of the classifier head on the trunk's features. */
  readonly hidden: readonly number[];
};

/** The classes of y: the one-hot columns label_concat appends. */
export const M2_CLASSES = 2;

export interface M2Model extends Model {
  /** The generative half and q(z|x,y): heads and decoder take M2_CLASSES more inputs than SimpleChrome's. */
  readonly vae: VaeModel;
  /** q(y|x) on top of vae.encoder: dense layers, the last one to a logit. */
  readonly head: readonly Dense[];
}

/** One parameter store for everything; `layers` is q(y|x) alone (the trunk then the head), which is all predict runs. */
export function m2Model(c: M2Config): M2Model {
  const { hidden, ...sizes } = c;
  const vae = vaeModel({ ...sizes, condition: M2_CLASSES });
  const head: Dense[] = [];
  let width = c.bins * c.channels[1];
  hidden.forEach((h, i) => {
    head.push(new Dense(vae.store, `cls.fc${i + 1}`, width, h, { kind: 'relu' }));
    width = h;
  });
  head.push(new Dense(vae.store, 'cls.out', width, 1));
  return { store: vae.store, layers: [...vae.encoder, ...head], inputShape: [c.bins, c.marks], vae, head };
}
