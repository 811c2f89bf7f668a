import { defineModel } from '../definition.ts';
import { deepChromeSpec } from '../modelSpec.ts';

export const deepchromeDefinition = defineModel({
  name: 'deepchrome',
  summary: 'DeepChrome CNN (Singh et al. 2016)',
  input: 'window',
  phases: ['classifier'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes) => deepChromeSpec(sizes.bins, sizes.marks),
  baseline: 'window',
});
