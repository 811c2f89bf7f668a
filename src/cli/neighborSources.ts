import type { Dataset } from '../data/dataset.ts';
import { readExpressionTable } from '../data/expressionTable.ts';
import { readGeneAnnotation } from '../data/geneAnnotation.ts';
import { type Neighbors, functionalNeighbors, spatialNeighbors } from '../data/neighbors.ts';
import type { RunSettings } from './runModel.ts';

// vae-mlp-neighbors' neighbour genes from the annotation or expression table
// on disk; runModel takes them as a hook so that it stays free of node:fs.

export async function neighborsFor(ds: Dataset, s: RunSettings): Promise<Neighbors> {
  if (s.neighbors === 'spatial') return spatialNeighbors(ds.geneIds, await readGeneAnnotation(s.annotation), s.k);
  return functionalNeighbors(ds.geneIds, await readExpressionTable(s.expressionTable), { k: s.k, targetCell: ds.cell });
}
