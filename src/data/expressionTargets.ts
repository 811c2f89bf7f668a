// Regression targets, log10(RPKM + 1) per gene, for `--target expression`.
// They are read beside the dataset rather than kept in it (and in its cache),
// so classification reads exactly what it always read.
//   gcmerge   the genes table's own log10_rpkm_plus1 column (GC-MERGE ships it)
//   others    the cell's column of the RPKM table (ShallowChrome's 56-cell table,
//             rpkm_19802genes_x_56cells.csv.gz), as log10(RPKM + 1); genes are
//             matched by Ensembl id, or by its last 6 digits (DeepChrome's GeneID)
// Every gene of the dataset must have a value: a missing one is an error that
// names it, never a gene silently dropped or set to 0.

import { DataError, type Dataset } from './dataset.ts';
import { type ExpressionTable, forEachLine, readExpressionTable } from './expressionTable.ts';
import { missingError, rpkmTargets } from './rpkmTargets.ts';
import { GCMERGE_GENES_FILE } from './gcmerge.ts';

export const GCMERGE_EXPRESSION_COLUMN = 'log10_rpkm_plus1';

/** log10(RPKM + 1) per gene of `ds`, in dataset order. `table` is the RPKM table for layouts other than gcmerge. */
export async function expressionTargets(ds: Dataset, layout: string, table: string): Promise<Float32Array> {
  if (layout === 'gcmerge') {
    const genes = ds.source.find((f) => GCMERGE_GENES_FILE.test(f));
    if (genes === undefined) throw new Error(`--target expression: ${ds.cell} came from no GC-MERGE genes file (sources: ${ds.source.join(', ')})`);
    return fromGcMergeGenes(ds, genes);
  }
  let rpkm: ExpressionTable;
  try {
    rpkm = await readExpressionTable(table);
  } catch (e) {
    throw new Error(
      `--target expression: the ${layout} layout has no expression values; they come from the RPKM table ${table}, which could not be read: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return rpkmTargets(ds, layout, rpkm);
}

async function fromGcMergeGenes(ds: Dataset, file: string): Promise<Float32Array> {
  const valueOf = new Map<string, number>();
  let idAt = -1;
  let valueAt = -1;
  await forEachLine(file, (line, n) => {
    const f = line.split(',');
    if (n === 1) {
      idAt = f.indexOf('gene_id');
      valueAt = f.indexOf(GCMERGE_EXPRESSION_COLUMN);
      if (valueAt < 0) {
        throw new DataError(file, 1, `--target expression needs a ${GCMERGE_EXPRESSION_COLUMN} column, and the header has none (columns: ${f.join(', ')})`);
      }
      return;
    }
    const text = (f[valueAt] ?? '').trim();
    const v = Number(text);
    if (text === '' || !Number.isFinite(v) || v < 0) throw new DataError(file, n, `${GCMERGE_EXPRESSION_COLUMN} is "${text}", expected a number >= 0`);
    valueOf.set((f[idAt] ?? '').trim(), v);
  });
  const out = new Float32Array(ds.genes);
  const missing: string[] = [];
  ds.geneIds.forEach((id, g) => {
    const v = valueOf.get(id);
    if (v === undefined) missing.push(id);
    else out[g] = v;
  });
  if (missing.length > 0) throw missingError(ds, missing, `${file} (${GCMERGE_EXPRESSION_COLUMN})`);
  return out;
}
