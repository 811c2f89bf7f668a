// The gene annotation read from disk (geneAnnotationRows.ts parses it, from
// disk here or from a page's File).

import { pathOf } from './expressionTable.ts';
import { type GeneAnnotation, readGeneAnnotationWith } from './geneAnnotationRows.ts';
import { readLines } from './lineReader.ts';

export type { GeneAnnotation } from './geneAnnotationRows.ts';

/** Reads a TSS window file (plain or .gz). Throws DataError `file:line: what` on any bad row. */
export function readGeneAnnotation(source: string | URL): Promise<GeneAnnotation> {
  return readGeneAnnotationWith(readLines, pathOf(source));
}
