import { VAE_SETTINGS, defineModel } from '../definition.ts';
import { mlpSpec } from '../modelSpec.ts';

export const vaeMlpDefinition = defineModel({
  name: 'vae-mlp',
  summary: "MLP on the VAE's latent means (SimpleChrome)",
  input: 'latent',
  phases: ['vae-pretraining', 'classifier'],
  settings: VAE_SETTINGS,
  predictsExpression: true,
  classifierSpec: (sizes) => mlpSpec([sizes.latentWidth()]),
});
