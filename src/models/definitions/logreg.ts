import { defineModel } from '../definition.ts';
import { logregSpec } from '../modelSpec.ts';

export const logregDefinition = defineModel({
  name: 'logreg',
  summary: 'logistic regression on the flattened window, fit to convergence (L-BFGS), L2 penalty chosen by validation AUROC',
  input: 'window',
  phases: ['linear-fit'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes, l2) => logregSpec([sizes.bins, sizes.marks], l2),
  baseline: 'window',
});
