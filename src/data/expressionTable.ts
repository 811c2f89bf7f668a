// The expression table read from disk (expressionTableRows.ts parses it, from
// disk here or from a page's File).

import { fileURLToPath } from 'node:url';
import { type ExpressionTable, forEachLineWith, readExpressionTableWith } from './expressionTableRows.ts';
import { readLines } from './lineReader.ts';

export { type ExpressionTable, expressionColumn } from './expressionTableRows.ts';

export function pathOf(source: string | URL): string {
  return source instanceof URL ? fileURLToPath(source) : source;
}

/** Every line of a text file on disk, plain or gzip (expressionTableRows.ts forEachLineWith). */
export function forEachLine(source: string | URL, onLine: (line: string, lineNumber: number) => void): Promise<void> {
  return forEachLineWith(readLines, pathOf(source), onLine);
}

/** Reads the genes × cells RPKM table (plain or .gz). Throws DataError `file:line: what` on any bad row. */
export function readExpressionTable(source: string | URL): Promise<ExpressionTable> {
  return readExpressionTableWith(readLines, pathOf(source));
}
