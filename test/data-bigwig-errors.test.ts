import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBigWigCell, type BigWigSources } from '../src/data/bigwig.ts';
import { DataError, MARKS } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';

// Every bad input of a bigWig-backed cell is a DataError that names the file
// (and line, for the tables) and says what was found; the sources are never
// changed.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const ENCODE = join(DATA, 'encode_bigwig', 'ENCFF826FLP.bw');
const E116 = join(DATA, 'bigwig_E116');
if (!existsSync(ENCODE) || !existsSync(E116)) throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-bigwig-errors-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));
const freshDir = (): Promise<string> => mkdtemp(join(root, 'case-'));

const ENCODE_TRACKS = MARKS.map((m) => `${m}=${ENCODE}`);
const ONE_CHROMOSOME = { testChromosomes: ['chr22'], validChromosomes: [] } as const;

async function tables(dir: string, bed: string, expr = 'a\t1\nb\t2\nc\t3\n'): Promise<{ genes: string; expression: string }> {
  const genes = join(dir, 'genes.bed');
  const expression = join(dir, 'expr.tsv');
  await writeFile(genes, bed);
  await writeFile(expression, expr);
  return { genes, expression };
}

async function rejection(sources: BigWigSources, opts = {}): Promise<DataError> {
  const before = await snapshot(sources);
  const e = await readBigWigCell(sources, { bin: 100, flank: 5, ...ONE_CHROMOSOME, ...opts }).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DataError);
  expect(await snapshot(sources)).toEqual(before);
  return e as DataError;
}

/** The bytes of the tables: nothing of the user's may change. */
async function snapshot(s: BigWigSources): Promise<string[]> {
  return Promise.all([s.genes, s.expression].map(async (p) => (existsSync(p) ? (await readFile(p)).toString('base64') : '')));
}

describe('bigWig cell errors', () => {
  it('chromosome names that do not match (chr22 in the track, 22 in the gene table) name both', async () => {
    const t = await tables(await freshDir(), '22\t20000000\t20000001\ta\t0\t+\n22\t30000000\t30000001\tb\t0\t-\n');
    const e = await rejection({ tracks: ENCODE_TRACKS, ...t }, { testChromosomes: ['22'] });
    expect(e.file).toBe(ENCODE);
    expect(e.message).toContain("chromosome names do not match the gene table");
    expect(e.message).toContain('the track names chr22');
    expect(e.message).toContain('the gene table names 22');
    expect(e.message).toContain('add the "chr" prefix');
  });

  it('a directory whose bigWigs name no mark names them; any set of marks is read, in one order', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'E116_input.bw'), 'x');
    await writeFile(join(dir, 'sample.bw'), 'x');
    const genes = join(E116, 'E116_genes_tss.bed');
    const expression = join(E116, 'E116_expression.tsv');
    const e = await rejection({ tracks: dir, genes, expression });
    expect(e.message).toContain('no track names a mark (a histone mark such as H3K27me3, H3K36me3, H3K4me1, H3K4me3, H3K9me3 or H3K27ac, or DNase, ATAC): E116_input.bw, sample.bw');
    // Four of the five: read as four marks, in DeepChrome's order whatever the order given.
    const four = ['H3K9me3', 'H3K4me1', 'H3K27me3', 'H3K36me3'].map((m) => `${m}=${join(E116, `E116_${m}.10kb.bw`)}`);
    const ds = await readBigWigCell({ tracks: four, genes, expression }, { bin: 10000, flank: 1 });
    expect(ds.marks).toEqual(['H3K27me3', 'H3K36me3', 'H3K4me1', 'H3K9me3']);
    expect(ds.features.length).toBe(ds.genes * 3 * 4);
  });

  it('a file that names no mark, or two tracks for one mark', async () => {
    const t = await tables(await freshDir(), 'chr22\t20000000\t20000001\ta\n');
    const e = await rejection({ tracks: [ENCODE], ...t });
    expect(e.message).toContain(`cannot tell the mark from the file name`);
    expect(e.message).toContain(`pass it as MARK=${ENCODE}`);
    const twice = await rejection({ tracks: [...ENCODE_TRACKS, `h3k4me3=${ENCODE}`], ...t });
    expect(twice.message).toContain('a second track for H3K4me3');
  });

  it('a gene on a chromosome no track covers: file:line of its first gene', async () => {
    const t = await tables(await freshDir(), 'chr22\t20000000\t20000001\ta\t0\t+\nchrX\t1000000\t1000001\tb\t0\t+\nchrX\t2000000\t2000001\tc\t0\t-\n');
    const e = await rejection({ tracks: ENCODE_TRACKS, ...t });
    expect(e.file).toBe(t.genes);
    expect(e.line).toBe(2);
    expect(e.message).toContain('gene b is on chrX, which no track covers (2 gene(s) on chrX; the tracks cover chr22)');
  });

  it('a truncated bigWig, an empty one, a text file and a bigBed', async () => {
    const dir = await freshDir();
    const t = await tables(dir, 'chr22\t20000000\t20000001\ta\n');
    const whole = await readFile(ENCODE);
    const cases: [string, Buffer, string][] = [
      ['cut.bw', whole.subarray(0, 100_000), 'truncated: the file is 100000 bytes but its header places an index at byte'],
      ['header-only.bw', whole.subarray(0, 40), 'truncated: 40 bytes, shorter than a bigWig header'],
      ['empty.bw', Buffer.alloc(0), 'empty file, expected a bigWig'],
      ['text.bw', Buffer.from('chr22\t0\t100\t1.5\n'), 'not a bigWig file'],
      ['a.bb', Buffer.from([0xeb, 0xf2, 0x89, 0x87, ...new Array(60).fill(0)]), 'a bigBed file, not a bigWig'],
    ];
    for (const [name, bytes, what] of cases) {
      const bad = join(dir, name);
      await writeFile(bad, bytes);
      const e = await rejection({ tracks: [...ENCODE_TRACKS.slice(1), `H3K27me3=${bad}`], ...t });
      expect(e.file, name).toBe(bad);
      expect(e.message, name).toContain(what);
      expect((await readFile(bad)).equals(bytes), name).toBe(true);
    }
  });

  it('empty and malformed gene table lines: file:line', async () => {
    const cases: [string, number, string][] = [
      ['chr22\t20000000\t20000001\ta\n\nchr22\t30000000\t30000001\tb\n', 2, 'blank line'],
      ['chr22\t20000000\t20000001\ta\nchr22\t30000000\n', 2, 'a BED line needs at least 4 tab-separated columns (chrom, start, end, gene id), found 2'],
      ['chr22\t2e7\t20000001\ta\n', 1, 'column 2 (start): "2e7" is not a non-negative integer'],
      ['chr22\t20000001\t20000001\ta\n', 1, 'end 20000001 is not after start 20000001'],
      ['chr22\t20000000\t20000001\ta\t0\tx\n', 1, 'column 6 (strand): "x", expected +, - or .'],
      ['chr22\t20000000\t20000001\ta\nchr22\t20000100\t20000101\ta\n', 2, 'gene a appears twice (first at line 1)'],
      ['chr22 20000000 20000001 a\n', 1, 'found 1'],
    ];
    for (const [bed, line, what] of cases) {
      const t = await tables(await freshDir(), bed);
      const e = await rejection({ tracks: ENCODE_TRACKS, ...t });
      expect(e.file, bed).toBe(t.genes);
      expect(e.line, bed).toBe(line);
      expect(e.message, bed).toContain(what);
    }
  });

  it('a gene table with no genes, and GTF lines without gene_id', async () => {
    const dir = await freshDir();
    const t = await tables(dir, '# nothing here\n');
    expect((await rejection({ tracks: ENCODE_TRACKS, ...t })).message).toContain('no genes');
    const gtf = join(dir, 'g.gtf');
    await writeFile(gtf, 'chr22\tx\tgene\t100\t200\t.\t+\t.\tgene_name "A";\n');
    const e = await rejection({ tracks: ENCODE_TRACKS, genes: gtf, expression: t.expression });
    expect(e.message).toBe(`${gtf}:1: gene row without a gene_id "…" attribute in column 9`);
  });

  it('expression tables: no gene in common, a missing label column, a value that is not a number', async () => {
    const dir = await freshDir();
    const bed = 'chr22\t20000000\t20000001\ta\nchr22\t30000000\t30000001\tb\n';
    let t = await tables(dir, bed, 'x\t1\ny\t2\n');
    expect((await rejection({ tracks: ENCODE_TRACKS, ...t })).message).toContain('no gene of the gene table');
    t = await tables(dir, bed, 'gene_id\tvalue\na\t1\nb\t2\n');
    const e = await rejection({ tracks: ENCODE_TRACKS, ...t }, { labels: { column: 'label' } });
    expect(e.message).toBe(`${t.expression}:1: no label column "label" in the header (columns: gene_id, value)`);
    t = await tables(dir, bed, 'gene_id\tvalue\na\t1\nb\t2\na\t3\n');
    expect((await rejection({ tracks: ENCODE_TRACKS, ...t })).message).toBe(`${t.expression}:4: gene a appears twice with different values (first at line 2)`);
    t = await tables(dir, bed, 'gene_id\tvalue\na\t1\nb\tNA\n');
    expect((await rejection({ tracks: ENCODE_TRACKS, ...t })).message).toBe(`${t.expression}:3: column 2 (value): "NA" is not a finite number`);
  });

  it('a TSS past the end of the tracks\' chromosome (another assembly)', async () => {
    const t = await tables(await freshDir(), 'chr22\t51304566\t51304567\ta\n');
    const e = await rejection({ tracks: ENCODE_TRACKS, ...t });
    expect(e.message).toContain('TSS 51304566 lies past the end of chr22 (51304566 bp in the tracks)');
    expect(e.line).toBe(1);
  });

  it('--data on bigWig sources: a directory without its tables, a foreign JSON, a sources file with a bad option', async () => {
    const dir = await freshDir();
    for (const m of MARKS) await symlink(join(E116, `E116_${m}.10kb.bw`), join(dir, `E116_${m}.10kb.bw`));
    const fail = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as DataError);
    let e = await fail(loadCell(dir, { cache: false }));
    expect(e).toBeInstanceOf(DataError);
    expect(e?.message).toBe(`${dir}: bigWig tracks but no gene table beside them: looked for bigWig tracks (*.bw) with one gene table (.bed/.gtf/.gff3) and one expression table (.tsv/.csv/.txt), or a bigWig sources file (*.json)`);
    const json = join(dir, 'package.json');
    await writeFile(json, '{"name": "x"}');
    e = await fail(loadCell(json, { cache: false }));
    expect(e?.message).toContain('not a bigWig sources file (expected "format": "simplechrome-bigwig-sources")');
    const sources = join(dir, 'bigwig-sources.json');
    const body = { format: 'simplechrome-bigwig-sources', version: 1, tracks: [dir], genes: join(E116, 'E116_genes_tss.bed'), expression: join(E116, 'E116_expression.tsv'), options: { bin: 0 } };
    await writeFile(sources, JSON.stringify(body));
    e = await fail(loadCell(sources, { cache: false }));
    expect(e?.message).toBe(`${sources}: options: "bin" must be an integer ≥ 1`);
    await writeFile(sources, JSON.stringify({ ...body, options: { flank: 1, binsize: 100 } }));
    e = await fail(loadCell(sources, { cache: false }));
    expect(e?.message).toContain('options: unknown option binsize');
    // The cell's name becomes part of folder names (runs/CELL-..., an experiment's vaes/CELL-seedN): it cannot lead elsewhere.
    await writeFile(sources, JSON.stringify({ ...body, options: { cell: '../../etc' } }));
    e = await fail(loadCell(sources, { cache: false }));
    expect(e?.message).toBe(`${sources}: options: "cell" must be a plain name (letters, digits, . _ -), not "../../etc"`);
  });
});
