// Regression targets from the RPKM table (expressionTargets.ts says which
// layouts take them from it): free of node:fs, so the page computes them from
// a table the user picked exactly as the command line does from disk.

import type { Dataset } from './dataset.ts';
import { type ExpressionTable, expressionColumn } from './expressionTableRows.ts';

/** The error for genes of `ds` without an expression value in `where`, naming the first few. */
export function missingError(ds: Dataset, missing: readonly string[], where: string): Error {
  const shown = missing.slice(0, 5).join(', ');
  return new Error(
    `--target expression: ${missing.length} of ${ds.genes} genes of ${ds.cell} have no expression value in ${where}: ` +
      `${shown}${missing.length > 5 ? ', …' : ''}`,
  );
}

/** log10(RPKM + 1) per gene of `ds` from the cell's column of the RPKM table, matched by Ensembl id or its last 6 digits. */
export function rpkmTargets(ds: Dataset, layout: string, table: ExpressionTable): Float32Array {
  if (!table.cells.includes(ds.cell)) {
    throw new Error(
      `--target expression: the ${layout} layout has no expression values, and the RPKM table ${table.source} that would provide them ` +
        `has no column for cell "${ds.cell}" (it has ${table.cells[0]} … ${table.cells[table.cells.length - 1]}, ${table.cells.length} cells)`,
    );
  }
  const rpkm = expressionColumn(table, ds.cell);
  // DeepChrome's GeneID is the Ensembl id's last 6 digits; two ids sharing them would make it ambiguous.
  const rowOfShort = new Map<string, number>();
  const ambiguous = new Set<string>();
  for (const [ensg, row] of table.rowOf) {
    const short = ensg.slice(-6);
    const before = rowOfShort.get(short);
    if (before !== undefined && rpkm[before] !== rpkm[row]) ambiguous.add(short);
    rowOfShort.set(short, before ?? row);
  }
  const out = new Float32Array(ds.genes);
  const missing: string[] = [];
  ds.geneIds.forEach((id, g) => {
    if (ambiguous.has(id)) throw new Error(`--target expression: gene ${id} of ${ds.cell} names several genes of ${table.source} with different RPKM`);
    const row = table.rowOf.get(id) ?? rowOfShort.get(id);
    if (row === undefined) missing.push(id);
    else out[g] = Math.log10((rpkm[row] as number) + 1);
  });
  if (missing.length > 0) throw missingError(ds, missing, table.source);
  return out;
}
