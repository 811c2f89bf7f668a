// Neighbor genes for the neighbor models: each gene of a dataset gets a fixed
// number of other genes of the same dataset (as dataset row indices), so a
// model can gather their features next to the gene's own.
//
// Spatial: the k nearest genes on each side by TSS on the same chromosome
// (lower and higher coordinate, see geneAnnotation.ts for the strand caveat).
// Functional: the k genes whose expression over the other cell types has the
// highest Pearson correlation (of log1p RPKM; or Spearman, on ranks) with the
// gene's own (highest r, not |r|: an anti-correlated gene is not a neighbor).
// The target cell's column is dropped first, so its expression, which is the
// label, cannot leak in through the neighbors. All pairs are compared exactly,
// n²/2 dot products of length 55: about 8–10 s of CPU for all 19,802 genes.
//
// Only genes present in the dataset count. "Self" means the same Ensembl gene:
// a gene listed twice (the real data has 7 such) is never its own neighbor.
// A gene with fewer than k neighbors (chromosome ends, genes missing from the
// annotation or table, constant expression) has its empty slots masked; those
// slots hold the gene's own row so that a gather that ignores the mask still
// reads inside the dataset.

import type { ExpressionTable } from './expressionTable.ts';
import type { GeneAnnotation } from './geneAnnotation.ts';

export interface Neighbors {
  readonly kind: 'spatial' | 'functional';
  readonly k: number;
  /** Slots per gene: 2k for spatial, k for functional. */
  readonly width: number;
  /**
   * [genes, width] dataset row indices. Spatial: slots 0..k−1 are the left side
   * (slot k−1 nearest), slots k..2k−1 the right side (slot k nearest). Functional:
   * best correlation first.
   */
  readonly index: Int32Array;
  /** [genes, width], 1 = a real neighbor, 0 = padding. */
  readonly mask: Uint8Array;
  /** [genes, width]: |TSS distance| in bp (spatial) or the correlation (functional); 0 in padding. */
  readonly score: Float64Array;
  /** Dataset gene ids that got no neighbors at all (not in the annotation/table, or constant expression). */
  readonly unmatched: readonly string[];
}

/**
 * The Ensembl id of a dataset gene id: DeepChrome's numeric ids are the last
 * 6 digits (130749 → ENSG00000130749); AttentiveChrome/GC-MERGE ids start with
 * the Ensembl id, possibly followed by a version or `_SYMBOL…`.
 */
export function toEnsemblId(id: string): string | undefined {
  if (/^\d{1,6}$/.test(id)) return `ENSG${id.padStart(11, '0')}`;
  const m = /^(ENSG\d{11})(?![0-9])/.exec(id);
  return m === null ? undefined : m[1];
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`neighbors: k must be a positive integer, got ${k}`);
}

/** Dataset rows grouped by Ensembl id, first row first; ids without one go to `unmatched`. */
function groupRows(geneIds: readonly string[]): { ids: string[]; rows: number[][]; unmatched: string[] } {
  const at = new Map<string, number>();
  const ids: string[] = [];
  const rows: number[][] = [];
  const unmatched: string[] = [];
  geneIds.forEach((raw, row) => {
    const id = toEnsemblId(raw);
    if (id === undefined) {
      unmatched.push(raw);
      return;
    }
    let u = at.get(id);
    if (u === undefined) {
      u = ids.length;
      at.set(id, u);
      ids.push(id);
      rows.push([]);
    }
    rows[u]!.push(row);
  });
  return { ids, rows, unmatched };
}

function emptyNeighbors(kind: Neighbors['kind'], k: number, width: number, genes: number) {
  const index = new Int32Array(genes * width);
  for (let g = 0; g < genes; g++) index.fill(g, g * width, (g + 1) * width);
  return { kind, k, width, index, mask: new Uint8Array(genes * width), score: new Float64Array(genes * width) };
}

/** k genes on each side by TSS on the same chromosome; `geneIds` are the dataset's, in row order. */
export function spatialNeighbors(geneIds: readonly string[], annotation: GeneAnnotation, k: number): Neighbors {
  checkK(k);
  const width = 2 * k;
  const out = emptyNeighbors('spatial', k, width, geneIds.length);
  const { ids, rows, unmatched } = groupRows(geneIds);

  const byChrom = new Map<string, number[]>();
  ids.forEach((id, u) => {
    const a = annotation.indexOf.get(id);
    if (a === undefined) {
      for (const row of rows[u]!) unmatched.push(geneIds[row]!);
      return;
    }
    const chr = annotation.chrom[a]!;
    let list = byChrom.get(chr);
    if (list === undefined) byChrom.set(chr, (list = []));
    list.push(u);
  });
  const tssOf = (u: number): number => annotation.tss[annotation.indexOf.get(ids[u]!)!]!;

  for (const list of byChrom.values()) {
    // Equal TSSs are ordered by Ensembl id so the result does not depend on row order.
    list.sort((a, b) => tssOf(a) - tssOf(b) || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
    for (let p = 0; p < list.length; p++) {
      const u = list[p]!;
      const here = tssOf(u);
      for (const row of rows[u]!) {
        const base = row * width;
        for (let d = 1; d <= k; d++) {
          if (p - d >= 0) {
            const v = list[p - d]!;
            out.index[base + k - d] = rows[v]![0]!;
            out.mask[base + k - d] = 1;
            out.score[base + k - d] = here - tssOf(v);
          }
          if (p + d < list.length) {
            const v = list[p + d]!;
            out.index[base + k - 1 + d] = rows[v]![0]!;
            out.mask[base + k - 1 + d] = 1;
            out.score[base + k - 1 + d] = tssOf(v) - here;
          }
        }
      }
    }
  }
  return { ...out, unmatched };
}

export interface FunctionalOptions {
  readonly k: number;
  /**
   * The cell whose labels are being predicted; its column is left out. null uses
   * every column, which is only right when the target cell is not in the table.
   */
  readonly targetCell: string | null;
  /** 'pearson' (default): Pearson of log1p RPKM. 'spearman': Pearson of ranks (ties get the mean rank). */
  readonly method?: 'pearson' | 'spearman';
}

/** Rows of `values` ([n, c]) centred and scaled to unit length in place; false where a row is constant. */
function standardizeRows(values: Float64Array, n: number, c: number): Uint8Array {
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let mean = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < c; j++) {
      const v = values[o + j]!;
      mean += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    mean /= c;
    // Constant rows are told apart exactly; rounding in the mean would leave a tiny, meaningless variance.
    if (!(hi > lo)) {
      values.fill(0, o, o + c);
      continue;
    }
    let ss = 0;
    for (let j = 0; j < c; j++) {
      const d = values[o + j]! - mean;
      values[o + j] = d;
      ss += d * d;
    }
    if (ss > 0 && Number.isFinite(ss)) {
      const inv = 1 / Math.sqrt(ss);
      for (let j = 0; j < c; j++) values[o + j]! *= inv;
      ok[i] = 1;
    } else {
      values.fill(0, o, o + c);
    }
  }
  return ok;
}

function rankInPlace(v: Float64Array, o: number, c: number, order: number[]): void {
  for (let j = 0; j < c; j++) order[j] = j;
  order.sort((a, b) => v[o + a]! - v[o + b]!);
  const ranks = new Float64Array(c);
  for (let s = 0; s < c; ) {
    let e = s + 1;
    while (e < c && v[o + order[e]!] === v[o + order[s]!]) e++;
    const r = (s + e - 1) / 2 + 1;
    for (let t = s; t < e; t++) ranks[order[t]!] = r;
    s = e;
  }
  v.set(ranks, o);
}

/**
 * Exact top-k of every row against all others by dot product of unit rows.
 * Each pair is computed once and offered to both genes; tiles of 128 rows
 * keep the working set in cache, and a 2 × 4 register tile lets each loaded
 * element serve four (or two) products, about 1.5× faster than one row at a
 * time in V8. Every dot product sums over the columns in the same order, so
 * the numbers do not depend on the tiling. Order: higher correlation first,
 * then lower row.
 */
function topKByDot(z: Float64Array, n: number, c: number, ok: Uint8Array, k: number) {
  const best = new Float64Array(n * k).fill(-Infinity);
  const bestIdx = new Int32Array(n * k).fill(-1);
  const offer = (i: number, j: number, r: number): void => {
    const o = i * k;
    const last = o + k - 1;
    if (r < best[last]! || (r === best[last]! && j > bestIdx[last]!)) return;
    let p = last;
    while (p > o && (r > best[p - 1]! || (r === best[p - 1]! && j < bestIdx[p - 1]!))) {
      best[p] = best[p - 1]!;
      bestIdx[p] = bestIdx[p - 1]!;
      p--;
    }
    best[p] = r;
    bestIdx[p] = j;
  };
  const pair = (i: number, j: number, r: number): void => {
    if (ok[i] === 1 && ok[j] === 1) {
      offer(i, j, r);
      offer(j, i, r);
    }
  };
  const dot = (a: number, b: number): number => {
    let s = 0;
    for (let t = 0; t < c; t++) s += z[a + t]! * z[b + t]!;
    return s;
  };
  const B = 128;
  for (let i0 = 0; i0 < n; i0 += B) {
    const i1 = Math.min(n, i0 + B);
    for (let j0 = i0; j0 < n; j0 += B) {
      const j1 = Math.min(n, j0 + B);
      let i = i0;
      for (; i + 1 < i1; i += 2) {
        if (ok[i] === 0 && ok[i + 1] === 0) continue;
        const oi = i * c;
        const oh = oi + c;
        if (j0 === i0) pair(i, i + 1, dot(oi, oh));
        let j = Math.max(j0, i + 2);
        for (; j + 3 < j1; j += 4) {
          const a = j * c;
          const b = a + c;
          const d = b + c;
          const e = d + c;
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let r0 = 0;
          let r1 = 0;
          let r2 = 0;
          let r3 = 0;
          for (let t = 0; t < c; t++) {
            const x = z[oi + t]!;
            const y = z[oh + t]!;
            const za = z[a + t]!;
            const zb = z[b + t]!;
            const zd = z[d + t]!;
            const ze = z[e + t]!;
            s0 += x * za;
            s1 += x * zb;
            s2 += x * zd;
            s3 += x * ze;
            r0 += y * za;
            r1 += y * zb;
            r2 += y * zd;
            r3 += y * ze;
          }
          pair(i, j, s0);
          pair(i, j + 1, s1);
          pair(i, j + 2, s2);
          pair(i, j + 3, s3);
          pair(i + 1, j, r0);
          pair(i + 1, j + 1, r1);
          pair(i + 1, j + 2, r2);
          pair(i + 1, j + 3, r3);
        }
        for (; j < j1; j++) {
          const a = j * c;
          pair(i, j, dot(oi, a));
          pair(i + 1, j, dot(oh, a));
        }
      }
      // An odd last row of the tile.
      if (i < i1 && ok[i] === 1) {
        for (let j = Math.max(j0, i + 1); j < j1; j++) pair(i, j, dot(i * c, j * c));
      }
    }
  }
  return { best, bestIdx };
}

/** The k genes whose expression over the other cells correlates best with each gene's. */
export function functionalNeighbors(
  geneIds: readonly string[],
  table: ExpressionTable,
  options: FunctionalOptions,
): Neighbors {
  const { k, targetCell } = options;
  const method = options.method ?? 'pearson';
  checkK(k);
  if (method !== 'pearson' && method !== 'spearman') throw new Error(`neighbors: unknown method "${String(method)}"`);
  const nc = table.cells.length;
  let skip = -1;
  if (targetCell !== null) {
    skip = table.cells.indexOf(targetCell);
    if (skip < 0) {
      throw new Error(
        `neighbors: target cell "${targetCell}" is not in ${table.source} (cells: ${table.cells.join(', ')}); pass targetCell: null to use every column`,
      );
    }
  }
  const columns: number[] = [];
  for (let c = 0; c < nc; c++) if (c !== skip) columns.push(c);
  const c = columns.length;
  if (c < 3) throw new Error(`neighbors: ${c} expression columns left after dropping ${targetCell}; a correlation needs at least 3`);

  const out = emptyNeighbors('functional', k, k, geneIds.length);
  const { ids, rows, unmatched } = groupRows(geneIds);
  const present: number[] = [];
  for (let u = 0; u < ids.length; u++) {
    if (table.rowOf.has(ids[u]!)) present.push(u);
    else for (const row of rows[u]!) unmatched.push(geneIds[row]!);
  }
  const n = present.length;
  const z = new Float64Array(n * c);
  const order: number[] = new Array<number>(c);
  for (let i = 0; i < n; i++) {
    const t = table.rowOf.get(ids[present[i]!]!)!;
    for (let j = 0; j < c; j++) z[i * c + j] = Math.log1p(table.rpkm[t * nc + columns[j]!]!);
    if (method === 'spearman') rankInPlace(z, i * c, c, order);
  }
  const ok = standardizeRows(z, n, c);
  const { best, bestIdx } = topKByDot(z, n, c, ok, k);

  for (let i = 0; i < n; i++) {
    const mine = rows[present[i]!]!;
    if (ok[i] === 0) {
      for (const row of mine) unmatched.push(geneIds[row]!);
      continue;
    }
    for (const row of mine) {
      for (let s = 0; s < k; s++) {
        const j = bestIdx[i * k + s]!;
        if (j < 0) continue;
        out.index[row * k + s] = rows[present[j]!]![0]!;
        out.mask[row * k + s] = 1;
        out.score[row * k + s] = best[i * k + s]!;
      }
    }
  }
  return { ...out, unmatched };
}

/** Each gene's row of `rows` ([genes, width]) followed by its neighbours' rows, zeros where a slot is padding:
 * [genes, (1 + n.width) · width]. vae-mlp-neighbors appends latents this way, logreg-neighbors windows. */
export function withNeighbors(rows: Float32Array, width: number, n: Neighbors): Float32Array {
  const genes = rows.length / width;
  const slots = 1 + n.width;
  const out = new Float32Array(genes * slots * width);
  for (let g = 0; g < genes; g++) {
    out.set(rows.subarray(g * width, (g + 1) * width), g * slots * width);
    for (let j = 0; j < n.width; j++) {
      if (n.mask[g * n.width + j] !== 1) continue;
      const h = n.index[g * n.width + j] as number;
      out.set(rows.subarray(h * width, (h + 1) * width), (g * slots + 1 + j) * width);
    }
  }
  return out;
}
