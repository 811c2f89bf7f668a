import { defineModel } from '../definition.ts';
import { mlpSpec } from '../modelSpec.ts';

export const mlpDefinition = defineModel({
  name: 'mlp',
  summary: 'MLP 256-128 on the flattened window',
  input: 'window',
  phases: ['classifier'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes) => mlpSpec([sizes.bins, sizes.marks]),
  baseline: 'window',
});
