import type { ExpressionTable } from '../data/expressionTable.ts';
import { toEnsemblId } from '../data/neighbors.ts';
import type { DerivedFeatures, FeatureContext } from './derivedFeatures.ts';

// expression-prior: logistic regression on how much a gene is expressed in the
// OTHER cells of the 56-cell RPKM table, and no histone marks: the baseline
// for models that see other cells' expression (vae-mlp-neighbors with
// functional neighbours picks neighbours by it). The run's own cell's column
// is always left out (it is the label); a cell not in the table is an error,
// since then nothing says which column to leave out.
//
// Features per gene, over the c other cells' log10(RPKM + 1):
//   mean     their mean;
//   sd       their standard deviation (population, divided by c);
//   missing  1 when the gene is not in the table (or its id is not an Ensembl
//            id), else 0; such a gene's mean and sd are 0. With the indicator
//            the model gives missing genes their own intercept, which is what
//            imputing the training genes' mean would give a linear model, and
//            nothing is fitted outside the model, so predict on another cell
//            needs nothing but the table. metrics.json counts them.
// Labels are never read here: a test gene's features come from other cells only.

export const EXPRESSION_PRIOR_WIDTH = 3;

export interface ExpressionPrior {
  readonly features: Float32Array;
  /** Dataset gene ids not found in the table. */
  readonly missing: readonly string[];
  /** How many cells' columns were averaged. */
  readonly otherCells: number;
}

/** [genes, 3]: mean, sd and the missing indicator of each gene's log10(RPKM + 1) over every cell but `cell`. */
export function expressionPriorFeatures(geneIds: readonly string[], table: ExpressionTable, cell: string): ExpressionPrior {
  const own = table.cells.indexOf(cell);
  if (own < 0) {
    throw new Error(
      `expression-prior: cell "${cell}" is not in ${table.source} (cells: ${table.cells.join(', ')}); its own column must be left out of the features, so the cell has to be one of the table's`,
    );
  }
  const nc = table.cells.length;
  const c = nc - 1;
  if (c < 2) throw new Error(`expression-prior: ${table.source} has ${c} cell(s) besides ${cell}; a standard deviation needs at least 2`);
  const out = new Float32Array(geneIds.length * EXPRESSION_PRIOR_WIDTH);
  const missing: string[] = [];
  geneIds.forEach((id, g) => {
    const ensembl = toEnsemblId(id);
    const row = ensembl === undefined ? undefined : table.rowOf.get(ensembl);
    if (row === undefined) {
      missing.push(id);
      out[g * EXPRESSION_PRIOR_WIDTH + 2] = 1;
      return;
    }
    let sum = 0;
    let sq = 0;
    for (let j = 0; j < nc; j++) {
      if (j === own) continue;
      const v = Math.log10((table.rpkm[row * nc + j] as number) + 1);
      sum += v;
      sq += v * v;
    }
    const mean = sum / c;
    out[g * EXPRESSION_PRIOR_WIDTH] = mean;
    out[g * EXPRESSION_PRIOR_WIDTH + 1] = Math.sqrt(Math.max(0, sq / c - mean * mean));
  });
  return { features: out, missing, otherCells: c };
}

export async function expressionPriorBuilder(c: FeatureContext): Promise<DerivedFeatures> {
  const p = expressionPriorFeatures(c.ds.geneIds, await c.expressionTable(), c.ds.cell);
  return { features: p.features, width: EXPRESSION_PRIOR_WIDTH, counts: { missingGenes: p.missing.length, otherCells: p.otherCells } };
}
