import { NEIGHBOR_SETTINGS, VAE_SETTINGS, defineModel } from '../definition.ts';
import { mlpSpec } from '../modelSpec.ts';

export const vaeMlpNeighborsDefinition = defineModel({
  name: 'vae-mlp-neighbors',
  summary: "MLP on a gene's latent and its neighbours' (SimpleChrome)",
  input: 'latent+neighbors',
  phases: ['vae-pretraining', 'classifier'],
  settings: [...VAE_SETTINGS, ...NEIGHBOR_SETTINGS],
  predictsExpression: true,
  // The latent width given is already the gene's and its neighbours' together (src/train/runModel.ts).
  classifierSpec: (sizes) => mlpSpec([sizes.latentWidth()]),
  outsideInputs: "the neighbour genes' latent means",
});
