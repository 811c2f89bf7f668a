import { defineModel } from '../definition.ts';
import { attentiveChromeSpec } from '../modelSpec.ts';

export const attentivechromeDefinition = defineModel({
  name: 'attentivechrome',
  summary: 'AttentiveChrome BiLSTMs + attention over bins and marks (Singh et al. 2017)',
  input: 'window',
  phases: ['classifier'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes) => attentiveChromeSpec(sizes.bins, sizes.marks),
});
