import { type Dataset, splitName } from '../data/dataset.ts';
import { csvTextField } from '../util/csvField.ts';

// predictions.csv, as a run, `predict` and the page all write it: one row per
// gene (in the order given) with its label and probability to 6 digits; for
// --target expression, its observed (when known) and predicted log10(RPKM + 1).
// The last column is the gene's split in the data (train, valid or test): a
// run writes its test genes, `predict` every gene, and the split says which of
// them a model could have fit. It comes last so that the columns before it
// keep the places they had before it existed. A gene id that a spreadsheet
// would take for a formula (=, +, -, @ first) is written with a leading ' (csvField.ts).

export function predictionsCsv(ds: Dataset, genes: ArrayLike<number>, probabilities: ArrayLike<number>): string {
  const lines = ['gene_id,label,probability,split'];
  for (let i = 0; i < genes.length; i++) {
    const g = genes[i] as number;
    lines.push(`${csvTextField(ds.geneIds[g] as string)},${ds.labels[g]},${(probabilities[i] as number).toPrecision(6)},${splitName(ds.split[g] as number)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The regression form; `observed` (per gene of `ds`) is left out for a cell whose expression is not known. */
export function expressionPredictionsCsv(
  ds: Dataset,
  genes: ArrayLike<number>,
  predicted: ArrayLike<number>,
  observed?: ArrayLike<number>,
): string {
  const lines = [observed ? 'gene_id,observed_log10_rpkm_plus1,predicted_log10_rpkm_plus1,split' : 'gene_id,predicted_log10_rpkm_plus1,split'];
  for (let i = 0; i < genes.length; i++) {
    const g = genes[i] as number;
    const p = (predicted[i] as number).toPrecision(6);
    const split = splitName(ds.split[g] as number);
    const id = csvTextField(ds.geneIds[g] as string);
    lines.push(observed ? `${id},${(observed[g] as number).toPrecision(6)},${p},${split}` : `${id},${p},${split}`);
  }
  return `${lines.join('\n')}\n`;
}
