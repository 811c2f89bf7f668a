import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttentiveChrome } from '../src/data/attentiveChrome.ts';
import { DataError, MARKS } from '../src/data/dataset.ts';
import { readDeepChrome } from '../src/data/deepchrome.ts';
import { readGcMerge } from '../src/data/gcmerge.ts';
import { MAX_LINE_BYTES } from '../src/data/lineReader.ts';
import { loadCell, LOOKED_FOR } from '../src/data/loadCell.ts';

// Every bad input is a DataError "file:line: what is wrong", and the promise
// rejects: no reader returns a partial Dataset.

let root = '';
let n = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-errors-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = join(root, `case${n++}`);
  await mkdir(d, { recursive: true });
  return d;
}

async function expectDataError(p: Promise<unknown>, file: string, line: number | undefined, what: string | RegExp): Promise<DataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  const e = err as DataError;
  expect(e.file).toBe(file);
  expect(e.line).toBe(line);
  const prefix = line === undefined ? `${file}: ` : `${file}:${line}: `;
  if (typeof what === 'string') {
    expect(e.message).toBe(prefix + what);
  } else {
    expect(e.message.startsWith(prefix)).toBe(true);
    expect(e.message.slice(prefix.length)).toMatch(what);
  }
  return e;
}

/** DeepChrome rows of one gene: bins 1..bins, marks (bin, 0, 1, 2, 3), one label. */
function gene(id: string | number, bins = 3, label = 1): string[] {
  return Array.from({ length: bins }, (_, i) => `${id},${i + 1},${i + 1},0,1,2,3,${label}`);
}

const text = (rows: readonly string[]): string => `${rows.join('\n')}\n`;

/** A DeepChrome cell directory whose valid and test files are fine; returns the train file. */
async function cellWithTrain(train: string | Buffer, name = 'train.csv'): Promise<{ dir: string; file: string }> {
  const dir = await freshDir();
  await writeFile(join(dir, name), train);
  await writeFile(join(dir, 'valid.csv'), text(gene(100)));
  await writeFile(join(dir, 'test.csv'), text(gene(200)));
  return { dir, file: join(dir, name) };
}

async function deepChromeTrainError(rows: readonly string[], line: number | undefined, what: string | RegExp): Promise<void> {
  const { dir, file } = await cellWithTrain(text(rows));
  await expectDataError(readDeepChrome(dir), file, line, what);
}

describe('DeepChrome rows', () => {
  it('too few columns', () => deepChromeTrainError(['1,1,1,0,1,2,3,1', '1,2,0,0,0,0,1'], 2, 'expected 8 columns, found 7'));
  it('too many columns', () => deepChromeTrainError([...gene(1).slice(0, 2), '1,3,0,0,0,0,0,1,9'], 3, 'expected 8 columns, found 9'));
  it('non-numeric value', () => deepChromeTrainError(['1,1,1,0,1,2,3,1', '1,2,0,x1,0,0,0,1'], 2, 'column 4 (H3K36me3): "x1" is not a number'));
  it('empty value', () => deepChromeTrainError(['1,1,,0,1,2,3,1'], 1, 'column 3 (H3K27me3): empty field, expected a number'));
  it('NaN', () => deepChromeTrainError(['1,1,NaN,0,1,2,3,1'], 1, 'column 3 (H3K27me3): "NaN" is not allowed (NaN or infinite)'));
  it('Inf', () => deepChromeTrainError(['1,1,1,0,1,2,-inf,1'], 1, 'column 7 (H3K9me3): "-inf" is not allowed (NaN or infinite)'));
  it('a number too large for a double', () => deepChromeTrainError(['1,1,1,0,1e999,2,3,1'], 1, 'column 5 (H3K4me1): "1e999" is not a finite number'));
  it('negative count', () => deepChromeTrainError([...gene(1).slice(0, 1), '1,2,0,0,-2,0,0,1'], 2, 'column 5 (H3K4me1): negative count -2'));
  it('label not 0/1', () => deepChromeTrainError(['1,1,1,0,1,2,3,2'], 1, 'column 8 (label): label must be 0 or 1, found "2"'));
  it('label 0.5', () => deepChromeTrainError(['1,1,1,0,1,2,3,0.5'], 1, 'column 8 (label): label must be 0 or 1, found "0.5"'));
  it('label changes within a gene', () => deepChromeTrainError([...gene(1, 2, 1), '1,3,0,0,0,0,0,0'], 3, 'gene 1: label changes from 1 to 0 within the gene'));
  it('bin that is not an integer', () => deepChromeTrainError(['1,1.5,1,0,1,2,3,1'], 1, 'column 2 (BinID): expected an integer, found "1.5"'));
  it('gene id with a control byte', () =>
    deepChromeTrainError(['\u0001,1,1,0,1,2,3,1'], 1, 'column 1 (GeneID): gene id "\\u0001" contains the byte 0x01, which is not printable ASCII (character 1)'));
  it('gene id with a space inside', () => deepChromeTrainError(['12 3,1,1,0,1,2,3,1'], 1, 'column 1 (GeneID): gene id "12 3" contains a space (character 3)'));
  it('a count too large for float32 is above the limit on a mark\'s value (test/odd-values.test.ts holds the rest)', () =>
    deepChromeTrainError(['1,1,1e39,0,1,2,3,1'], 1, /^column 3 \(H3K27me3\): count 1e39 is above 1e\+9, the most a bin can hold/));
  it('tab-separated', () => deepChromeTrainError(gene(1).map((r) => r.replaceAll(',', '\t')), 1, 'the fields are separated by tabs; this layout is comma-separated (.csv)'));
  it('a header line', () =>
    deepChromeTrainError(
      ['GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H3K4me3,H3K9me3,label', ...gene(1)],
      1,
      'this looks like a header line ("GeneID,BinID,H3K27me3,H3K36me3,H3K4me1,H…"); DeepChrome files have none, every line is gene,bin,5 counts,label: remove it',
    ));
  it('a UTF-8 byte-order mark and spaces around the fields are accepted', async () => {
    const clean = await cellWithTrain(text([...gene(1), ...gene(2, 3, 0)]));
    const messy = await cellWithTrain(`\uFEFF${text([...gene(1), ...gene(2, 3, 0)].map((r) => r.split(',').map((f, i) => (i % 2 === 0 ? ` ${f}` : `${f}\t `)).join(',')))}`);
    const [a, b] = [await readDeepChrome(clean.dir), await readDeepChrome(messy.dir)];
    expect(b.geneIds).toEqual(a.geneIds);
    expect(Array.from(b.features)).toEqual(Array.from(a.features));
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
  });
});

describe('DeepChrome bins and genes', () => {
  it('missing bin', () => deepChromeTrainError(['1,1,0,0,0,0,0,1', '1,2,0,0,0,0,0,1', '1,4,0,0,0,0,0,1'], 3, 'gene 1: bin 3 is missing (found bin 4 after bin 2)'));
  it('missing bins', () => deepChromeTrainError([...gene(1, 4), '2,1,0,0,0,0,0,1', '2,4,0,0,0,0,0,1'], 6, 'gene 2: bins 2–3 are missing (found bin 4 after bin 1)'));
  it('duplicated bin', () => deepChromeTrainError([...gene(1, 2), '1,2,0,0,0,0,0,1'], 3, 'gene 1: bin 2 is duplicated'));
  it('bin out of order', () => deepChromeTrainError([...gene(1, 3), '1,2,0,0,0,0,0,1'], 4, 'gene 1: bin 2 is out of order (after bin 3)'));
  it('gene not starting at bin 1', () => deepChromeTrainError([...gene(1), '2,2,0,0,0,0,0,1'], 4, 'gene 2 starts at bin 2; expected bin 1'));
  it('gene with fewer bins than the first', async () => {
    const { dir, file } = await cellWithTrain(text([...gene(1), ...gene(2, 2), ...gene(3)]));
    await expectDataError(readDeepChrome(dir), file, 5, `gene 2 ends at bin 2: bin 3 is missing (the first gene, 1 at ${file}:1, has 3 bins)`);
  });
  it('last gene of a file with fewer bins', async () => {
    const { dir, file } = await cellWithTrain(text([...gene(1, 4), ...gene(2, 2)]));
    await expectDataError(readDeepChrome(dir), file, 6, `gene 2 ends at bin 2: bins 3–4 are missing (the first gene, 1 at ${file}:1, has 4 bins)`);
  });
  it('gene with more bins than the first', async () => {
    const { dir, file } = await cellWithTrain(text([...gene(1), ...gene(2, 4)]));
    await expectDataError(readDeepChrome(dir), file, 7, `gene 2 has more than 3 bins (bin 4); the first gene, 1 at ${file}:1, has 3`);
  });
  it('another split file with a different number of bins', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'train.csv'), text(gene(1)));
    await writeFile(join(dir, 'valid.csv'), text(gene(2, 4)));
    await writeFile(join(dir, 'test.csv'), text(gene(3)));
    await expectDataError(readDeepChrome(dir), join(dir, 'valid.csv'), 4, `gene 2 has more than 3 bins (bin 4); the first gene, 1 at ${join(dir, 'train.csv')}:1, has 3`);
  });
  it("a gene's rows not contiguous", () =>
    deepChromeTrainError(
      [...gene(1), ...gene(2).slice(0, 2), ...gene(3), ...gene(2).slice(2)],
      9,
      'rows of gene 2 are not contiguous: bins 1–2 are at lines 4–5, other genes follow, and bin 3 continues here',
    ));
  it('a gene repeated with other rows, within a file', async () => {
    const { dir, file } = await cellWithTrain(text([...gene(1), ...gene(2), ...gene(1, 3, 0)]));
    await expectDataError(readDeepChrome(dir), file, 7, `duplicate gene 1: its rows (lines 7–9) differ from those at ${file}:1–3`);
  });
  it('a gene repeated with other rows, straight after itself', async () => {
    const changed = gene(1).map((r, i) => (i === 1 ? r.replace(',2,0,1,', ',9,0,1,') : r));
    const { dir, file } = await cellWithTrain(text([...gene(1), ...changed]));
    await expectDataError(readDeepChrome(dir), file, 4, `duplicate gene 1: its rows (lines 4–6) differ from those at ${file}:1–3`);
  });
  it('a gene repeated with other rows, across split files', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'train.csv'), text([...gene(1), ...gene(2)]));
    await writeFile(join(dir, 'valid.csv'), text(gene(3)));
    await writeFile(join(dir, 'test.csv'), text([...gene(4), ...gene(2, 3, 0)]));
    await expectDataError(
      readDeepChrome(dir),
      join(dir, 'test.csv'),
      4,
      `duplicate gene 2: its rows (lines 4–6) differ from those at ${join(dir, 'train.csv')}:4–6`,
    );
  });
  it('a gene repeated with identical rows is dropped and reported, wherever the copy is', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'train.csv'), text([...gene(1), ...gene(1), ...gene(2), ...gene(5)]));
    await writeFile(join(dir, 'valid.csv'), text([...gene(3), ...gene(2)]));
    await writeFile(join(dir, 'test.csv'), text(gene(4)));
    const ds = await readDeepChrome(dir);
    expect(ds.geneIds).toEqual(['1', '2', '5', '3', '4']);
    expect(ds.genes).toBe(5);
    expect(ds.features.length).toBe(5 * 3 * 5);
    expect(Array.from(ds.split)).toEqual([0, 0, 0, 1, 2]);
    expect(ds.notes).toEqual([
      `dropped 2 repeated gene(s) whose rows equal their first copy: 1 (${join(dir, 'train.csv')}:4), 2 (${join(dir, 'valid.csv')}:4)`,
    ]);
  });
});

describe('files', () => {
  it('empty file', async () => {
    const { dir, file } = await cellWithTrain('');
    await expectDataError(readDeepChrome(dir), file, undefined, 'empty file');
  });
  it('gzip file holding no text', async () => {
    const { dir, file } = await cellWithTrain(gzipSync(''), 'train.csv.gz');
    await expectDataError(readDeepChrome(dir), file, undefined, 'empty file (the gzip stream holds no text)');
  });
  it('blank line', () => deepChromeTrainError([...gene(1).slice(0, 2), '', ...gene(1).slice(2)], 3, 'blank line'));
  it('a line too long to be CSV (bounded memory on binary junk)', async () => {
    const { dir, file } = await cellWithTrain(Buffer.alloc(MAX_LINE_BYTES + 10, 0x41));
    await expectDataError(readDeepChrome(dir), file, 1, `line longer than ${MAX_LINE_BYTES} bytes: not a CSV text file`);
  });
  it('gzip cut inside its trailer: all lines parse, then the stream is truncated', async () => {
    const gz = gzipSync(text([...gene(1), ...gene(2)]));
    const { dir, file } = await cellWithTrain(gz.subarray(0, gz.length - 3), 'train.csv.gz');
    await expectDataError(readDeepChrome(dir), file, 7, 'truncated gzip stream (unexpected end of file)');
  });
  it('gzip cut in the middle', async () => {
    const rows = Array.from({ length: 400 }, (_, g) => gene(g + 1)).flat();
    const gz = gzipSync(text(rows));
    const { dir, file } = await cellWithTrain(gz.subarray(0, gz.length >> 1), 'train.csv.gz');
    const err = await readDeepChrome(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataError);
    const e = err as DataError;
    // Where zlib stops depends on its block boundaries; the lines before it parse.
    expect(e.line).toBeGreaterThan(1);
    expect(e.line).toBeLessThan(1200);
    expect(e.message).toBe(`${file}:${e.line}: truncated gzip stream (unexpected end of file)`);
  });
  it('corrupt gzip header', async () => {
    const gz = Buffer.from(gzipSync(text(gene(1))));
    gz[2] = 7; // compression method: only 8 (deflate) exists
    const { dir, file } = await cellWithTrain(gz, 'train.csv.gz');
    await expectDataError(readDeepChrome(dir), file, 1, /^corrupt gzip data \(.+\)$/);
  });
  it('bytes overwritten inside a gzip stream are a corrupt-gzip error, not a bad CSV field', async () => {
    // Stored (level 0) blocks: the overwritten bytes decode as they are, and only the checksum at the end says so;
    // megabytes of text, so the reader sees the bad line long before zlib reaches the end.
    const rows = Array.from({ length: 60000 }, (_, g) => gene(g + 1)).flat();
    const gz = Buffer.from(gzipSync(text(rows), { level: 0 }));
    gz.write(',,,,', 300, 'latin1');
    const { dir, file } = await cellWithTrain(gz, 'train.csv.gz');
    await expectDataError(readDeepChrome(dir), file, undefined, /^corrupt gzip data \(incorrect data check\): the file is damaged \(what it decoded to fails at line \d+\)$/);
  });
  it('corrupt gzip checksum', async () => {
    const gz = Buffer.from(gzipSync(text([...gene(1), ...gene(2)])));
    gz[gz.length - 6] = (gz[gz.length - 6] as number) ^ 0xff; // CRC-32 of the trailer
    const { dir, file } = await cellWithTrain(gz, 'train.csv.gz');
    // zlib checks the CRC before it hands out the (single) block's text: no line was read.
    await expectDataError(readDeepChrome(dir), file, 1, 'corrupt gzip data (incorrect data check)');
  });
  it('missing split file', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'train.csv'), text(gene(1)));
    await writeFile(join(dir, 'valid.csv.gz'), gzipSync(text(gene(2))));
    await expectDataError(readDeepChrome(dir), join(dir, 'test'), undefined, 'missing split file: looked for test.csv and test.csv.gz');
  });
  it('both a plain and a gzip copy of one split', async () => {
    const { dir } = await cellWithTrain(text(gene(1)));
    await writeFile(join(dir, 'valid.csv.gz'), gzipSync(text(gene(100))));
    await expectDataError(readDeepChrome(dir), join(dir, 'valid'), undefined, 'both valid.csv and valid.csv.gz exist: remove one so that it is clear which to read');
  });
  it('explicit path that does not exist, or is a directory', async () => {
    const dir = await freshDir();
    await expectDataError(readDeepChrome({ train: join(dir, 'nope.csv') }), join(dir, 'nope.csv'), undefined, 'cannot open: no such file');
    await expectDataError(readDeepChrome({ train: dir }), dir, undefined, 'is a directory, not a regular file');
  });
  it('a file whose split the name does not tell', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'cell.csv'), text(gene(1)));
    await expectDataError(readDeepChrome(join(dir, 'cell.csv')), join(dir, 'cell.csv'), undefined, 'cannot tell the split (train, valid or test) from the file name: pass { train: path } instead');
  });
});

describe('unknown layout', () => {
  it('readDeepChrome says which files it looked for', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'notes.txt'), 'hello\n');
    await expectDataError(
      readDeepChrome(dir),
      dir,
      undefined,
      'unknown layout: looked for DeepChrome classification/{train,valid,test}.csv[.gz], {train,valid,test}.csv[.gz] and <prefix>.{train,valid,test}.csv[.gz]',
    );
  });
  it('loadCell lists every layout it looked for', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'notes.txt'), 'hello\n');
    const e = await expectDataError(loadCell(dir, { cacheDir: join(dir, 'cache') }), dir, undefined, `unknown layout: ${LOOKED_FOR}`);
    for (const layout of ['DeepChrome', 'AttentiveChrome', 'GC-MERGE']) expect(e.message).toContain(layout);
    await expectDataError(loadCell(join(dir, 'notes.txt'), { cache: false }), join(dir, 'notes.txt'), undefined, `unknown layout: a file, but not a split file or a GC-MERGE bins table; ${LOOKED_FOR}`);
    await expectDataError(loadCell(join(dir, 'E999'), { cache: false }), join(dir, 'E999'), undefined, `no such file or directory, and no E999.{train,valid,test}.csv[.gz]; ${LOOKED_FOR}`);
  });
  it('a directory holding several cells is ambiguous', async () => {
    const dir = await freshDir();
    for (const c of ['E001_x', 'E002_x']) for (const s of ['train', 'valid', 'test']) await writeFile(join(dir, `${c}.${s}.csv`), text(gene(1)));
    await expectDataError(loadCell(dir, { cache: false }), dir, undefined, `holds several cells (E001_x, E002_x): pass one of them as a prefix, e.g. ${join(dir, 'E001_x')}`);
  });
  it('nothing is half-loaded: a failed load writes no cache', async () => {
    const { dir, file } = await cellWithTrain(text([...gene(1), '2,1,0,0,0,0,0,7']));
    const cacheDir = join(dir, 'cache');
    await expectDataError(loadCell(dir, { cacheDir }), file, 4, 'column 8 (label): label must be 0 or 1, found "7"');
    const left = await readdir(cacheDir).catch(() => []);
    expect(left).toEqual([]);
  });
});

describe('AttentiveChrome layout', () => {
  const row = (geneSym: string, bin: number, v = '1,2,3,4,5'): string => `${geneSym}_${bin},${v}`;
  const geneRows = (geneSym: string, bins = 2): string[] => Array.from({ length: bins }, (_, i) => row(geneSym, i + 1));

  async function attentiveCell(train: string, expr = 'ENSG1,10\nENSG2,20\nENSG3,30\nENSG4,40\n'): Promise<string> {
    const dir = await freshDir();
    const p = join(dir, 'CellX');
    await writeFile(`${p}.train.csv`, train);
    await writeFile(`${p}.valid.csv`, text(geneRows('ENSG2_B')));
    await writeFile(`${p}.test.csv`, text(geneRows('ENSG3_C')));
    await writeFile(`${p}.expr.csv`, expr);
    return p;
  }

  it('gene_bin field without a bin', async () => {
    const p = await attentiveCell(text(['ENSG1,1,2,3,4,5']));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 1, 'column 1 (ENSG_SYMBOL_bin): expected GENE_bin (e.g. ENSG00000130749_ZC3H4_1), found "ENSG1"');
  });
  it('bin that is not a number', async () => {
    const p = await attentiveCell(text(['ENSG1_A_x,1,2,3,4,5']));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 1, 'column 1 (ENSG_SYMBOL_bin): bin number after the last "_" is not a positive integer in "ENSG1_A_x"');
  });
  it('wrong column count', async () => {
    const p = await attentiveCell(text([row('ENSG1_A', 1), 'ENSG1_A_2,1,2,3,4']));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 2, 'expected 6 columns, found 5');
  });
  it('negative count, named by the mark of its column', async () => {
    const p = await attentiveCell(text([row('ENSG1_A', 1, '1,2,3,-4,5')]));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 1, 'column 5 (H3K27me3): negative count -4');
  });
  it('header with an unknown mark', async () => {
    const p = await attentiveCell(text(['gene_bin,H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K99me9', ...geneRows('ENSG1_A')]));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 1, `header: unknown mark "H3K99me9" (expected the marks ${MARKS.join(', ')})`);
  });
  it('header naming a mark twice', async () => {
    const p = await attentiveCell(text(['gene_bin,H3K4me1,H3K4me3,H3K9me3,H3K27me3,H3K4me1', ...geneRows('ENSG1_A')]));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 1, 'header: mark H3K4me1 appears twice');
  });
  it('gene missing from the expression file', async () => {
    const p = await attentiveCell(text([...geneRows('ENSG1_A'), ...geneRows('ENSG9_Z')]));
    await expectDataError(readAttentiveChrome(p), `${p}.train.csv`, 3, `gene ENSG9 has no expression value in ${p}.expr.csv`);
  });
  it('duplicate gene in the expression file', async () => {
    const p = await attentiveCell(text(geneRows('ENSG1_A')), 'ENSG1,1\nENSG2,2\nENSG1,3\n');
    await expectDataError(readAttentiveChrome(p), `${p}.expr.csv`, 3, 'duplicate gene ENSG1 in the expression file (first at line 1)');
  });
  it('non-numeric expression', async () => {
    const p = await attentiveCell(text(geneRows('ENSG1_A')), 'ENSG1,1\nENSG2,abc\n');
    await expectDataError(readAttentiveChrome(p), `${p}.expr.csv`, 2, 'column 2 (expression): "abc" is not a number');
  });
  it('a gene repeated with other rows across splits', async () => {
    const p = await attentiveCell(text(geneRows('ENSG3_C').map((r) => r.replace(/,\d+$/, ',9'))));
    await expectDataError(readAttentiveChrome(p), `${p}.test.csv`, 1, new RegExp(`duplicate gene ENSG3: its rows \\(lines 1–\\d+\\) differ from those at ${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.train\\.csv:1–\\d+`));
  });
  it('missing expression file', async () => {
    const dir = await freshDir();
    const p = join(dir, 'CellY');
    for (const s of ['train', 'valid', 'test']) await writeFile(`${p}.${s}.csv`, text(geneRows(`ENSG${s}_A`)));
    await expectDataError(readAttentiveChrome(p), `${p}.expr`, undefined, `missing expression file: looked for CellY.expr.csv and CellY.expr.csv.gz in ${dir}`);
  });
  it('more central bins than the data has', async () => {
    const p = await attentiveCell(text(geneRows('ENSG1_A')));
    await expectDataError(readAttentiveChrome(p, { centralBins: 3 }), `${p}.train.csv`, undefined, 'centralBins 3 is more than the 2 bins per gene in the data');
  });
});

describe('GC-MERGE layout', () => {
  const BINS_HEADER = 'node_id,chr,start,end,H3K4me3,H3K4me1,H3K36me3,H3K9me3,H3K27me3';
  const GENES_HEADER = 'gene_id,symbol,node_id,chr,bin_start,label_binary,H3K4me3_tssbin';
  const goodBins = [BINS_HEADER, '0,chr1,0,10,1,2,3,4,5', '1,chr1,10,20,6,7,8,9,10', '2,chr1,20,30,0,0,0,0,0', '3,chr2,0,10,1,1,1,1,1', '4,chr2,10,20,2,2,2,2,2'];
  const goodGenes = [GENES_HEADER, 'G1,A,1,chr1,10,1,6', 'G2,B,4,chr2,10,0,2'];

  async function gcCell(bins: readonly string[], genes: readonly string[]): Promise<{ bins: string; genes: string }> {
    const dir = await freshDir();
    const files = { bins: join(dir, 'x_E001_hmods_10kb_bins.csv'), genes: join(dir, 'x_E001_genes.csv') };
    await writeFile(files.bins, text(bins));
    await writeFile(files.genes, text(genes));
    return files;
  }
  const opts = { flank: 1, testChromosomes: ['chr2'], validChromosomes: [] };

  it('the small tables themselves are fine', async () => {
    const f = await gcCell(goodBins, goodGenes);
    const d = await readGcMerge(f, opts);
    expect(d.genes).toBe(2);
    expect(d.bins).toBe(3);
    expect(d.cell).toBe('E001');
    expect([...(d.binMask ?? [])]).toEqual([1, 1, 1, 1, 1, 0]);
  });
  it('node_id out of sequence', async () => {
    const bins = [...goodBins];
    bins[3] = '5,chr1,20,30,0,0,0,0,0';
    const f = await gcCell(bins, goodGenes);
    await expectDataError(readGcMerge(f, opts), f.bins, 4, 'node_id 5 out of sequence: expected 2 (rows must be numbered 0, 1, 2, … in file order)');
  });
  it('bins that are not adjacent', async () => {
    const bins = [...goodBins];
    bins[3] = '2,chr1,40,50,0,0,0,0,0';
    const f = await gcCell(bins, goodGenes);
    await expectDataError(readGcMerge(f, opts), f.bins, 4, 'bin chr1:40-50 does not follow the previous bin, which ends at 20 (bins must be adjacent and in order)');
  });
  it("a chromosome's bins not contiguous", async () => {
    const f = await gcCell([...goodBins, '5,chr1,30,40,0,0,0,0,0'], goodGenes);
    await expectDataError(readGcMerge(f, opts), f.bins, 7, 'bins of chr1 are not contiguous: chr1 already ended before line 7 (it starts at line 2)');
  });
  it('header missing a mark, or with an unknown column', async () => {
    const f = await gcCell([BINS_HEADER.replace(',H3K9me3', ''), ...goodBins.slice(1)], goodGenes);
    await expectDataError(readGcMerge(f, opts), f.bins, 1, 'header: missing column H3K9me3');
    const g = await gcCell([`${BINS_HEADER},extra`, ...goodBins.slice(1)], goodGenes);
    await expectDataError(readGcMerge(g, opts), g.bins, 1, `header: unknown column "extra" (expected node_id, chr, start, end and the marks ${MARKS.join(', ')})`);
  });
  it('a bins table with no bins', async () => {
    const f = await gcCell([BINS_HEADER], goodGenes);
    await expectDataError(readGcMerge(f, opts), f.bins, 1, 'header only, no bins');
  });
  it('gene node_id outside the bins table', async () => {
    const f = await gcCell(goodBins, [...goodGenes, 'G3,C,9,chr2,10,0,2']);
    await expectDataError(readGcMerge(f, opts), f.genes, 4, 'column 3 (node_id): node_id 9 is not a row of the bins file (0..4)');
  });
  it('gene on another chromosome than its bin', async () => {
    const f = await gcCell(goodBins, [...goodGenes, 'G3,C,2,chr2,20,0,0']);
    await expectDataError(readGcMerge(f, opts), f.genes, 4, 'gene G3 is on "chr2" but its node_id 2 is a bin of chr1');
  });
  it('bin_start and TSS-bin counts must agree with the bins table', async () => {
    const f = await gcCell(goodBins, [...goodGenes, 'G3,C,2,chr1,30,0,0']);
    await expectDataError(readGcMerge(f, opts), f.genes, 4, 'gene G3: bin_start 30 differs from the start 20 of bin 2');
    const g = await gcCell(goodBins, [...goodGenes, 'G3,C,2,chr1,20,0,4']);
    await expectDataError(readGcMerge(g, opts), g.genes, 4, 'gene G3: H3K4me3_tssbin 4 differs from 0 in bin 2 of the bins file');
  });
  it('duplicate gene, and label not 0/1', async () => {
    const f = await gcCell(goodBins, [...goodGenes, 'G1,A,1,chr1,10,1,6']);
    await expectDataError(readGcMerge(f, opts), f.genes, 4, 'duplicate gene G1 (first at line 2)');
    const g = await gcCell(goodBins, [...goodGenes, 'G3,C,2,chr1,20,3,0']);
    await expectDataError(readGcMerge(g, opts), g.genes, 4, 'column 6 (label_binary): label must be 0 or 1, found "3"');
  });
  it('genes table missing a required column', async () => {
    const f = await gcCell(goodBins, [GENES_HEADER.replace('label_binary', 'label'), ...goodGenes.slice(1)]);
    await expectDataError(readGcMerge(f, opts), f.genes, 1, 'header: missing column label_binary');
  });
  it('a directory without the tables', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'x_genes.csv'), text(goodGenes));
    await expectDataError(readGcMerge(dir), dir, undefined, 'unknown layout: looked for GC-MERGE *_hmods_*bins.csv[.gz] with *_genes.csv[.gz]');
  });
});
