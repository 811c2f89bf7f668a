import type { Dataset } from '../data/dataset.ts';

// predictions.csv, as a run, `predict` and the page all write it: one row per
// gene (in the order given) with its label and probability to 6 digits; for
// --target expression, its observed (when known) and predicted log10(RPKM + 1).

export function predictionsCsv(ds: Dataset, genes: ArrayLike<number>, probabilities: ArrayLike<number>): string {
  const lines = ['gene_id,label,probability'];
  for (let i = 0; i < genes.length; i++) {
    const g = genes[i] as number;
    lines.push(`${ds.geneIds[g]},${ds.labels[g]},${(probabilities[i] as number).toPrecision(6)}`);
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
  const lines = [observed ? 'gene_id,observed_log10_rpkm_plus1,predicted_log10_rpkm_plus1' : 'gene_id,predicted_log10_rpkm_plus1'];
  for (let i = 0; i < genes.length; i++) {
    const g = genes[i] as number;
    const p = (predicted[i] as number).toPrecision(6);
    lines.push(observed ? `${ds.geneIds[g]},${(observed[g] as number).toPrecision(6)},${p}` : `${ds.geneIds[g]},${p}`);
  }
  return `${lines.join('\n')}\n`;
}
