import { Conv1d } from '../nn/conv1d.ts';
import { ConvTranspose1d } from '../nn/convTranspose1d.ts';
import { Dense } from '../nn/dense.ts';
import type { Layer } from '../nn/layer.ts';
import { ParameterStore } from '../nn/parameters.ts';
import { Reshape } from '../nn/reshape.ts';

export interface VaeConfig {
  readonly bins: number;
  readonly marks: number;
  readonly latent?: number;
  readonly channels?: readonly [number, number];
  readonly kernelSize?: number;
  /** Negative slope of the LeakyReLUs (SimpleChrome: 0.5). */
  readonly leak?: number;
  /** Extra input columns of the encoder heads and of the decoder (vae-m2: the one-hot label); default 0. */
  readonly condition?: number;
}

export interface VaeModel {
  readonly store: ParameterStore;
  readonly inputShape: readonly [number, number];
  readonly latent: number;
  /** x [bins, marks] → h [bins·c2] */
  readonly encoder: readonly Layer[];
  readonly mu: Dense;
  readonly logvar: Dense;
  /** z [latent] → reconstruction [bins, marks] in (−1, 1) */
  readonly decoder: readonly Layer[];
}

/** SimpleChrome's VAE: conv 5→32 k5 same, LeakyReLU(0.5); conv 32→64 k5 same, LeakyReLU;
 * flatten; dense → mu and logvar. Decoder: dense → bins·64, LeakyReLU, reshape,
 * transposed conv 64→64 k5, LeakyReLU, 64→32 k5, LeakyReLU, 32→marks k1, tanh.
 * Given a `store`, the VAE is declared into it (vae-joint puts a head after it, see vaeJoint.ts). */
export function vaeModel(config: VaeConfig, store = new ParameterStore()): VaeModel {
  const { bins, marks } = config;
  const latent = config.latent ?? 10;
  const [c1, c2] = config.channels ?? [32, 64];
  const k = config.kernelSize ?? 5;
  const leaky = { kind: 'leaky_relu', alpha: config.leak ?? 0.5 } as const;
  const pad = Math.floor((k - 1) / 2);
  if (k % 2 === 0) throw new Error(`vae: kernel size must be odd so the transposed convs keep ${bins} bins, got ${k}`);
  const flat = bins * c2;
  const condition = config.condition ?? 0;
  const encoder: Layer[] = [
    new Conv1d(store, 'enc.conv1', bins, marks, c1, k, 'same', leaky),
    new Conv1d(store, 'enc.conv2', bins, c1, c2, k, 'same', leaky),
    new Reshape('enc.flatten', [bins, c2], [flat]),
  ];
  const mu = new Dense(store, 'enc.mu', flat + condition, latent);
  const logvar = new Dense(store, 'enc.logvar', flat + condition, latent);
  const decoder: Layer[] = [
    new Dense(store, 'dec.fc', latent + condition, flat, leaky),
    new Reshape('dec.unflatten', [flat], [bins, c2]),
    new ConvTranspose1d(store, 'dec.deconv1', bins, c2, c2, k, pad, leaky),
    new ConvTranspose1d(store, 'dec.deconv2', bins, c2, c1, k, pad, leaky),
    new ConvTranspose1d(store, 'dec.deconv3', bins, c1, marks, 1, 0, { kind: 'tanh' }),
  ];
  return { store, inputShape: [bins, marks], latent, encoder, mu, logvar, decoder };
}
