import type { Dataset } from '../../data/dataset.ts';
import { type ExpressionTable, readExpressionTable } from '../../data/expressionTable.ts';
import { readGeneAnnotation } from '../../data/geneAnnotation.ts';
import { type Neighbors, functionalNeighbors, spatialNeighbors } from '../../data/neighbors.ts';
import type { RunSettings } from '../../train/runSettings.ts';

// The sources on disk that some models read besides the window: neighbour
// genes (vae-mlp-neighbors, logreg-neighbors) from the annotation or the
// expression table, and the expression table itself (expression-prior).
// runModel takes them as hooks so that it stays free of node:fs.

export async function neighborsFor(ds: Dataset, s: RunSettings): Promise<Neighbors> {
  if (s.neighbors === 'spatial') return spatialNeighbors(ds.geneIds, await readGeneAnnotation(s.annotation), s.k);
  return functionalNeighbors(ds.geneIds, await readExpressionTable(s.expressionTable), { k: s.k, targetCell: ds.cell });
}

export function expressionTableFor(s: RunSettings): Promise<ExpressionTable> {
  return readExpressionTable(s.expressionTable);
}

/** Every source a run's hooks take from disk. */
export const DISK_SOURCES = { neighbors: neighborsFor, expressionTable: expressionTableFor } as const;
