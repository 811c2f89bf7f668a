import { defineModel } from '../definition.ts';
import { logregSpec } from '../modelSpec.ts';
import { tssLinearFeatures } from '../tssLinear.ts';

export const tssLinearDefinition = defineModel({
  name: 'tss-linear',
  summary: "logistic regression on 5 summaries per mark at the TSS (the TSS bin(s), means over 3 widening windows, the window's mean)",
  input: 'derived',
  phases: ['linear-fit'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes, l2) => logregSpec([sizes.derivedWidth()], l2),
  features: tssLinearFeatures,
  baseline: 'window',
  // Means of window bins: linear in the window.
  affineInWindow: true,
});
