import { defineModel } from '../definition.ts';
import { expressionPriorBuilder } from '../expressionPrior.ts';
import { logregSpec } from '../modelSpec.ts';

export const expressionPriorDefinition = defineModel({
  name: 'expression-prior',
  summary: "logistic regression on the gene's mean and sd of log10(RPKM+1) over the other cells of the 56-cell table; no marks",
  input: 'derived',
  phases: ['linear-fit'],
  settings: [],
  predictsExpression: true,
  classifierSpec: (sizes, l2) => logregSpec([sizes.derivedWidth()], l2),
  features: expressionPriorBuilder,
  sources: ['expressionTable'],
  baseline: 'outside',
  // Its features do not read the window at all (J = 0): explain gives it zero attributions.
  affineInWindow: true,
  outsideInputs: "the gene's expression in the other cells (mean, sd and the missing indicator of log10(RPKM + 1))",
});
