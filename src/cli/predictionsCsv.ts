import type { Dataset } from '../data/dataset.ts';

// predictions.csv, as a run, `predict` and the page all write it: one row per
// gene (in the order given) with its label and probability to 6 digits.

export function predictionsCsv(ds: Dataset, genes: ArrayLike<number>, probabilities: ArrayLike<number>): string {
  const lines = ['gene_id,label,probability'];
  for (let i = 0; i < genes.length; i++) {
    const g = genes[i] as number;
    lines.push(`${ds.geneIds[g]},${ds.labels[g]},${(probabilities[i] as number).toPrecision(6)}`);
  }
  return `${lines.join('\n')}\n`;
}
