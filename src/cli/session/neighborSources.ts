import { readExpressionTable } from '../../data/expressionTable.ts';
import { readGeneAnnotation } from '../../data/geneAnnotation.ts';
import { runSources } from '../../train/runSources.ts';

// The sources on disk that some models read besides the window: neighbour
// genes (vae-mlp-neighbors, logreg-neighbors) from the annotation or the
// expression table, and the expression table itself (expression-prior).
// runModel takes them as hooks so that it stays free of node:fs.

/** Every source a run's hooks take from disk. */
export const DISK_SOURCES = runSources({ annotation: readGeneAnnotation, expressionTable: readExpressionTable });
