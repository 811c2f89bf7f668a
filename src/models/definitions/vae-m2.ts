import { defineModel } from '../definition.ts';
import { m2Spec } from '../modelSpec.ts';

export const vaeM2Definition = defineModel({
  name: 'vae-m2',
  summary: "semi-supervised VAE (Kingma et al. 2014, M2): the label a latent variable, on labeled and unlabeled genes, started from vae-mlp's pretrained VAE",
  input: 'window',
  phases: ['vae-pretraining', 'm2'],
  costlyInExperiment: 'it trains the whole VAE on every labeled and unlabeled gene each epoch, once per α: hours a run on E116 on a software adapter',
  // A VAE itself: its epochs, batch, latent width and KL weight are the VAE's flags; its encoder always has a
  // log-variance head, so --sigma does not apply.
  settings: ['vaeEpochs', 'vaeBatch', 'latent', 'beta', 'alpha', 'm2Init'],
  // Its label is itself a latent class of two values.
  predictsExpression: false,
  classifierSpec: (sizes) => m2Spec(sizes.bins, sizes.marks, sizes.latentWidth()),
});
