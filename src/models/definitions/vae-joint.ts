import { VAE_SETTINGS, defineModel } from '../definition.ts';
import { jointSpec, vaeSpec } from '../modelSpec.ts';

export const vaeJointDefinition = defineModel({
  name: 'vae-joint',
  summary: "semi-supervised: vae-mlp's VAE and MLP trained on together (BCE + λ·ELBO, --joint-weight)",
  input: 'window+vae',
  phases: ['vae-pretraining', 'joint'],
  settings: [...VAE_SETTINGS, 'jointWeight'],
  predictsExpression: true,
  costlyInExperiment: "it trains the VAE's conv encoder on every classifier step: hours a run on E116 on a software adapter",
  // Reads the window: the VAE's encoder is part of the classifier, and latentWidth is its latent size.
  classifierSpec: (sizes) => jointSpec(vaeSpec(sizes.bins, sizes.marks, sizes.latentWidth())),
});
