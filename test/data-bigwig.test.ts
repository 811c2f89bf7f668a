import { BigWig } from '@gmod/bbi';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBigWigCell } from '../src/data/bigwig.ts';
import { openTrack } from '../src/data/bigwigTracks.ts';
import { binsPerWindow, windowStart, type Anchor, type BinSummary } from '../src/data/bigwigWindows.ts';
import { MARKS, type Dataset } from '../src/data/dataset.ts';
import { readGcMerge } from '../src/data/gcmerge.ts';
import { readTssTable } from '../src/data/tssTable.ts';

// Real data (../shared/datasets, see its README). Missing data fails this file; it never skips.
const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const E116 = join(DATA, 'bigwig_E116');
const ENCODE = join(DATA, 'encode_bigwig', 'ENCFF826FLP.bw');
for (const p of [E116, ENCODE, join(DATA, 'gcmerge_E116')]) {
  if (!existsSync(p)) throw new Error(`real data not found at ${p}: these tests need ../shared/datasets (see its README.md)`);
}

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-bigwig-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('E116 from bigWig tracks equals the GC-MERGE reader', () => {
  it('features, mask, labels, gene order and split, value for value, on all 16,699 genes', async () => {
    const [fromTracks, fromGcMerge] = await Promise.all([
      readBigWigCell(
        { tracks: E116, genes: join(E116, 'E116_genes_tss.bed'), expression: join(E116, 'E116_expression.tsv') },
        { bin: 10_000, flank: 10, labels: { column: 'label_binary' } },
      ),
      readGcMerge(join(DATA, 'gcmerge_E116')),
    ]);
    expect(fromGcMerge.genes).toBe(16_699);
    expect(fromTracks.cell).toBe('E116');
    expect([fromTracks.genes, fromTracks.bins, fromTracks.marks]).toEqual([fromGcMerge.genes, fromGcMerge.bins, fromGcMerge.marks]);
    expect(fromTracks.geneIds).toEqual(fromGcMerge.geneIds);
    expect(equalArrays(fromTracks.labels, fromGcMerge.labels)).toBe(true);
    expect(equalArrays(fromTracks.split, fromGcMerge.split)).toBe(true);
    expect(firstDifference(fromTracks.features, fromGcMerge.features)).toBe(-1);
    expect(fromGcMerge.binMask).toBeDefined();
    expect(firstDifference(fromTracks.binMask as Uint8Array, fromGcMerge.binMask as Uint8Array)).toBe(-1);
    expect(fromTracks.notes).toContain('labels from column label_binary');
  });

  it('labels from the median of log10_rpkm_plus1 agree with label_binary for most genes (the same rule, ties aside)', async () => {
    const ds = await readBigWigCell(
      { tracks: E116, genes: join(E116, 'E116_genes_tss.bed'), expression: join(E116, 'E116_expression.tsv') },
      { bin: 10_000, flank: 0, valueColumn: 'log10_rpkm_plus1' },
    );
    const gc = await readGcMerge(join(DATA, 'gcmerge_E116'), { flank: 0 });
    let same = 0;
    for (let g = 0; g < ds.genes; g++) if (ds.labels[g] === gc.labels[g]) same++;
    expect(same / ds.genes).toBeGreaterThan(0.95);
    expect(ds.notes?.some((n) => n.startsWith('label 1 when log10_rpkm_plus1 >'))).toBe(true);
  });
});

describe('expression tables as published', () => {
  it('a wide CSV (ShallowChrome\'s RPKM of 56 cells): the E116 column by name, median labels, identical repeats ignored', async () => {
    const ds = await readBigWigCell(
      { tracks: E116, genes: join(E116, 'E116_genes_tss.bed'), expression: join(DATA, 'labels_rpkm_shallowchrome', 'rpkm_19802genes_x_56cells.csv.gz') },
      { bin: 10_000, flank: 0, valueColumn: 'E116' },
    );
    expect(ds.genes).toBe(16_699);
    expect(ds.notes).toContain('label 1 when E116 > 1.746 (its 0.5 quantile over the 19795 genes of the table)');
    expect(ds.notes?.some((n) => n.startsWith('the expression table lists 7 gene(s) again with the same value'))).toBe(true);
    expect(ds.notes?.some((n) => n.startsWith('3096 gene(s) of the expression table are not in the gene table'))).toBe(true);
  });
});

describe('100 bp windows of a real ENCODE track (ENCFF826FLP, chr22)', () => {
  const CHR22 = 51_304_566;
  // Spread over chr22, plus the edges where windows run off the chromosome.
  const positions = [0, 17, 99, 5_000, 16_102_262, 16_102_300, 16_102_347, CHR22 - 1, CHR22 - 70, CHR22 - 5_000];
  for (let i = 0; i < 40; i++) positions.push(16_050_000 + Math.floor(((i * 2654435761) % 1000003) * 35.2));
  const strands = positions.map((_, i) => (i % 3 === 0 ? '-' : i % 3 === 1 ? '+' : '.'));

  let genes = '';
  let expression = '';
  beforeAll(async () => {
    genes = join(root, 'chr22.bed');
    expression = join(root, 'chr22.expr.tsv');
    await writeFile(genes, positions.map((p, i) => `chr22\t${p}\t${p + 1}\tg${i}\t0\t${strands[i]}\n`).join(''));
    await writeFile(expression, ['gene_id\tvalue', ...positions.map((_, i) => `g${i}\t${i}`)].join('\n'));
  });

  const tracks = MARKS.map((m) => `${m}=${ENCODE}`);

  for (const [anchor, summary] of [['tss', 'mean0'], ['grid', 'mean'], ['grid', 'sum']] as const) {
    it(`anchor ${anchor}, summary ${summary}: every bin equals a per-base sum of the file's intervals`, async () => {
      const shape = { bin: 100, flank: 50, anchor: anchor as Anchor };
      const ds = await readBigWigCell({ tracks, genes, expression }, { ...shape, summary, testChromosomes: ['chr22'], validChromosomes: [] });
      expect(ds.genes).toBe(positions.length);
      expect(ds.bins).toBe(binsPerWindow(shape));
      const bw = new BigWig({ path: ENCODE });
      let nonzero = 0;
      let masked = 0;
      for (let g = 0; g < ds.genes; g++) {
        const tss = positions[g] as number;
        const strand = strands[g] as '+' | '-' | '.';
        const start = windowStart(shape, tss, strand);
        const expected = await perBaseWindow(bw, start, ds.bins, shape.bin, CHR22, summary);
        if (strand === '-') {
          expected.values.reverse();
          expected.mask.reverse();
        }
        for (let b = 0; b < ds.bins; b++) {
          const at = `gene ${g} (TSS ${tss}, ${strand}) bin ${b}`;
          expect(maskAt(ds, g, b), at).toBe(expected.mask[b]);
          if (expected.mask[b] === 0) masked++;
          if ((expected.values[b] as number) > 0) nonzero++;
          for (let k = 0; k < MARKS.length; k++) {
            expect(ds.features[(g * ds.bins + b) * MARKS.length + k], at).toBe(Math.fround(expected.values[b] as number));
          }
        }
      }
      // The windows hold real signal, and some run off chr22's ends.
      expect(nonzero).toBeGreaterThan(500);
      expect(masked).toBeGreaterThan(50);
    });
  }

  it('a bin that is exactly one interval holds its value; the TSS is in the window on the transcribed side', async () => {
    // chr22:16102262-16102347 = 4.91 (one interval of 85 bases).
    await writeFile(join(root, 'one.bed'), 'chr22\t16102262\t16102263\tplus\t0\t+\nchr22\t16102346\t16102347\tminus\t0\t-\n');
    await writeFile(join(root, 'one.tsv'), 'plus\t1\nminus\t0\n');
    const ds = await readBigWigCell(
      { tracks, genes: join(root, 'one.bed'), expression: join(root, 'one.tsv') },
      { bin: 85, flank: 1, anchor: 'tss', summary: 'mean0', testChromosomes: ['chr22'], validChromosomes: [] },
    );
    const v = (g: number, b: number): number => ds.features[(g * ds.bins + b) * MARKS.length] as number;
    // Bin 1 of each gene is the first 85 transcribed bases: the interval, read 5'→3' on either strand.
    expect(v(0, 1)).toBeCloseTo(4.9101, 4);
    expect(v(1, 1)).toBeCloseTo(4.9101, 4);
    expect(v(0, 0)).toBe(0);
    expect(ds.notes?.some((n) => n.includes('1 minus-strand gene(s) are reversed'))).toBe(true);
  });
});

describe('a track read in many range queries', () => {
  it('gives the same intervals when its reader is renewed after every read (as it is after 32 MB, to drop the package\'s cache)', async () => {
    const [kept, renewed] = await Promise.all([openTrack({ mark: 'H3K4me3', path: ENCODE }), openTrack({ mark: 'H3K4me3', path: ENCODE }, 1)]);
    try {
      for (let start = 16_000_000; start < 51_000_000; start += 2_500_000) {
        const [a, b] = await Promise.all([kept.intervals('chr22', start, start + 400_000), renewed.intervals('chr22', start, start + 400_000)]);
        expect(b.starts.length).toBe(a.starts.length);
        expect(firstDifference(b.starts, a.starts)).toBe(-1);
        expect(firstDifference(b.ends, a.ends)).toBe(-1);
        expect(firstDifference(b.values, a.values)).toBe(-1);
      }
    } finally {
      kept.close();
      renewed.close();
    }
  });
});

describe('window geometry', () => {
  it('grid: the TSS bin ± flank; tss: flank bins each side, mirrored around the TSS base on −', () => {
    const grid = { bin: 100, flank: 2, anchor: 'grid' as const };
    const tss = { bin: 100, flank: 2, anchor: 'tss' as const };
    expect(binsPerWindow(grid)).toBe(5);
    expect(binsPerWindow(tss)).toBe(4);
    expect(windowStart(grid, 12_345, '+')).toBe(12_100);
    expect(windowStart(grid, 12_345, '-')).toBe(12_100);
    expect(windowStart(grid, 50, '+')).toBe(-200);
    expect(windowStart(tss, 12_345, '+')).toBe(12_145);
    // On −, read right to left, the TSS base 12,345 opens the downstream half as on +: the window is [12,146, 12,546).
    expect(windowStart(tss, 12_345, '-')).toBe(12_146);
  });
});

describe('gene tables', () => {
  it('GTF and GFF3: TSS from the start on + and the end on −, 0-based; BED gene bodies likewise', async () => {
    const gtf = join(root, 'a.gtf');
    await writeFile(
      gtf,
      [
        '#!genome-build GRCh37',
        'chr1\tHAVANA\tgene\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; gene_name "DDX11L1";',
        'chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; transcript_id "x";',
        'chr1\tHAVANA\tgene\t14404\t29570\t.\t-\t.\tgene_id "ENSG00000227232.5"; gene_name "WASH7P";',
      ].join('\n'),
    );
    const t = await readTssTable(gtf);
    expect(t.ids).toEqual(['ENSG00000223972.5', 'ENSG00000227232.5']);
    expect(Array.from(t.tss)).toEqual([11868, 29569]);
    expect(t.strands).toEqual(['+', '-']);
    expect(Array.from(t.lines)).toEqual([2, 4]);

    const gff = join(root, 'a.gff3');
    await writeFile(
      gff,
      [
        '##gff-version 3',
        '1\tensembl\tgene\t11869\t14409\t.\t+\t.\tID=gene:ENSG00000223972;Name=DDX11L1',
        '1\tensembl\tncRNA_gene\t14404\t29570\t.\t-\t.\tID=gene:ENSG00000227232;gene_id=ENSG00000227232',
        '1\tensembl\texon\t14404\t14501\t.\t-\t.\tParent=transcript:ENST1',
      ].join('\n'),
    );
    const f = await readTssTable(gff);
    expect(f.ids).toEqual(['ENSG00000223972', 'ENSG00000227232']);
    expect(Array.from(f.tss)).toEqual([11868, 29569]);

    // Versioned GTF ids meet an unversioned expression table (Roadmap's RPKM), on a real track.
    const gtf22 = join(root, 'chr22.gtf');
    await writeFile(
      gtf22,
      [
        'chr22\tX\tgene\t20000001\t20005000\t.\t+\t.\tgene_id "ENSG00000000001.3";',
        'chr22\tX\tgene\t30000001\t30005000\t.\t-\t.\tgene_id "ENSG00000000002.7";',
        'chr22\tX\tgene\t40000001\t40005000\t.\t+\t.\tgene_id "ENSG00000000009.1";',
      ].join('\n'),
    );
    await writeFile(join(root, 'unversioned.tsv'), 'gene_id\tE116\nENSG00000000001\t5\nENSG00000000002\t0.5\nENSG00000000004\t1\n');
    const joined = await readBigWigCell(
      { tracks: MARKS.map((m) => `${m}=${ENCODE}`), genes: gtf22, expression: join(root, 'unversioned.tsv') },
      { bin: 100, flank: 2, testChromosomes: ['chr22'], validChromosomes: [] },
    );
    expect(joined.geneIds).toEqual(['ENSG00000000001.3', 'ENSG00000000002.7']);
    expect(Array.from(joined.labels)).toEqual([1, 0]);
    expect(joined.notes).toContain('left out 1 gene(s) of the gene table with no expression value: ENSG00000000009.1');
    expect(joined.notes).toContain('1 gene(s) of the expression table are not in the gene table: ENSG00000000004');

    const bed = join(root, 'bodies.bed');
    await writeFile(bed, 'track name=genes\nchr1\t11868\t14409\tA\t0\t+\nchr1\t14403\t29570\tB\t0\t-\nchr1\t100\t200\tC\n');
    const b = await readTssTable(bed);
    expect(Array.from(b.tss)).toEqual([11868, 29569, 100]);
    expect(b.strands).toEqual(['+', '-', '.']);
  });
});

function maskAt(ds: Dataset, g: number, b: number): number {
  return ds.binMask === undefined ? 1 : (ds.binMask[g * ds.bins + b] as number);
}

/**
 * The expected bins, from the file's intervals (bbi's object API) expanded to
 * one value per base: independent of the reader's interval sweep.
 */
async function perBaseWindow(bw: BigWig, start: number, n: number, bin: number, chromLength: number, summary: BinSummary): Promise<{ values: number[]; mask: number[] }> {
  const lo = Math.max(start, 0);
  const hi = Math.min(start + n * bin, chromLength);
  const base = new Float64Array(n * bin);
  const has = new Uint8Array(n * bin);
  if (hi > lo) {
    const feats = (await bw.getFeatures('chr22', lo, hi)) as { start: number; end: number; score: number }[];
    for (const f of feats) {
      for (let p = Math.max(f.start, lo); p < Math.min(f.end, hi); p++) {
        base[p - start] = f.score;
        has[p - start] = 1;
      }
    }
  }
  const values: number[] = [];
  const mask: number[] = [];
  for (let b = 0; b < n; b++) {
    let sum = 0;
    let covered = 0;
    let onChrom = 0;
    for (let i = b * bin; i < (b + 1) * bin; i++) {
      const p = start + i;
      if (p < 0 || p >= chromLength) continue;
      onChrom++;
      if (has[i] === 1) {
        sum += base[i] as number;
        covered++;
      }
    }
    values.push(onChrom === 0 ? 0 : summary === 'sum' ? sum : summary === 'mean0' ? sum / onChrom : covered > 0 ? sum / covered : 0);
    mask.push(onChrom > 0 && covered > 0 ? 1 : 0);
  }
  return { values, mask };
}

function equalArrays(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  return a.length === b.length && firstDifference(a, b) === -1;
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
