import { NEIGHBOR_SETTINGS, defineModel } from '../definition.ts';
import { logregNeighborsFeatures } from '../logregNeighbors.ts';
import { logregSpec } from '../modelSpec.ts';

export const logregNeighborsDefinition = defineModel({
  name: 'logreg-neighbors',
  summary: "logistic regression on the gene's window and its --k neighbours' windows (--neighbors, as vae-mlp-neighbors)",
  input: 'derived',
  phases: ['linear-fit'],
  settings: NEIGHBOR_SETTINGS,
  predictsExpression: true,
  classifierSpec: (sizes, l2) => logregSpec([sizes.derivedWidth()], l2),
  features: logregNeighborsFeatures,
  baseline: 'outside',
  // The gene's window is the first slot of its features, the neighbours' windows the rest.
  affineInWindow: true,
  outsideInputs: "the neighbour genes' windows",
});
