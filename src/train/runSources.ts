import type { ExpressionTable } from '../data/expressionTableRows.ts';
import type { GeneAnnotation } from '../data/geneAnnotationRows.ts';
import { functionalNeighbors, spatialNeighbors } from '../data/neighbors.ts';
import type { RunHooks } from './runModel.ts';

// The run's hooks for the files some models read besides the window (neighbour
// genes from the annotation or the expression table; the table itself), from
// whatever reads a named file: the disk for the command line
// (src/cli/session/neighborSources.ts), the files a user picked for the page.

export interface SourceReaders {
  /** The gene annotation (TSS windows) named by the run's `annotation` setting. */
  readonly annotation: (name: string) => Promise<GeneAnnotation>;
  /** The 56-cell RPKM table named by the run's `expressionTable` setting. */
  readonly expressionTable: (name: string) => Promise<ExpressionTable>;
}

export type SourceHooks = Required<Pick<RunHooks, 'neighbors' | 'expressionTable'>>;

export function runSources(read: SourceReaders): SourceHooks {
  return {
    neighbors: async (ds, s) =>
      s.neighbors === 'spatial'
        ? spatialNeighbors(ds.geneIds, await read.annotation(s.annotation), s.k)
        : functionalNeighbors(ds.geneIds, await read.expressionTable(s.expressionTable), { k: s.k, targetCell: ds.cell }),
    expressionTable: (s) => read.expressionTable(s.expressionTable),
  };
}
