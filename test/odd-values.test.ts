import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/dataset.ts';
import { loadCell } from '../src/data/loadCell.ts';
import { MAX_MARK_VALUE, markValueProblem } from '../src/data/markValues.ts';
import { snapshot } from './cliHelpers.ts';

// The policy for extreme values in the data (src/data/markValues.ts,
// docs/RELIABILITY.md §4): a mark's value above 1e9 in any layout is refused
// at its file:line, naming the column and the value, and nothing is written
// (not even the cache beside the data). Values up to the limit are data.

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-odd-values-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let n = 0;
async function folder(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = join(root, `case${n++}`);
  await mkdir(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const deepchromeGene = (id: string, label: number, value = '1'): string =>
  [1, 2, 3].map((b) => `${id},${b},${b === 2 ? value : '1'},0,1,2,3,${label}`).join('\n') + '\n';

async function refusal(path: string, dir: string): Promise<DataError> {
  const before = snapshot(dir);
  const e = await loadCell(path).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(DataError);
  expect(snapshot(dir)).toEqual(before);
  return e as DataError;
}

describe('extreme values in the data', () => {
  it('DeepChrome: a count of 1e30 is refused at its file:line, naming the column (no cache is written)', async () => {
    const dir = await folder({ 'train.csv': deepchromeGene('a', 1) + deepchromeGene('b', 0, '1e30'), 'valid.csv': deepchromeGene('c', 1), 'test.csv': deepchromeGene('d', 0) });
    const e = await refusal(dir, dir);
    expect(e.message).toBe(
      `${join(dir, 'train.csv')}:5: column 3 (H3K27me3): count 1e30 is above 1e+9, the most a bin can hold (no sequencing run yields that many reads): ` +
        'it is damage or a placeholder for a missing value; correct or remove it',
    );
  });

  it('DeepChrome: the limit itself is data, and so is a value just under it', async () => {
    const dir = await folder({ 'train.csv': deepchromeGene('a', 1, '1e9') + deepchromeGene('b', 0, '999999999.5'), 'valid.csv': deepchromeGene('c', 1), 'test.csv': deepchromeGene('d', 0) });
    const { dataset } = await loadCell(dir, { cache: false });
    expect(dataset.features[5]).toBe(1e9);
  });

  it('AttentiveChrome: a count above the limit names the mark of its column', async () => {
    const rows = (id: string, big = '5'): string => `${id}_1,1,2,3,4,5\n${id}_2,1,2,3,4,${big}\n`;
    const dir = await folder({ 'X.train.csv': rows('ENSG1_A', '3.4e38'), 'X.valid.csv': rows('ENSG2_B'), 'X.test.csv': rows('ENSG3_C'), 'X.expr.csv': 'ENSG1,1\nENSG2,2\nENSG3,3\n' });
    const e = await refusal(join(dir, 'X'), dir);
    expect(e.file).toBe(join(dir, 'X.train.csv'));
    expect(e.line).toBe(2);
    expect(e.message).toContain('column 6 (H3K36me3): count 3.4e38 is above 1e+9');
  });

  it('GC-MERGE: a bin count above the limit is refused; chromosome positions above it are not counts and are accepted', async () => {
    const header = 'node_id,chr,start,end,H3K4me3,H3K4me1,H3K36me3,H3K9me3,H3K27me3';
    const genes = 'gene_id,node_id,chr,label_binary\nG1,1,chr1,1\nG2,3,chr2,0\n';
    const bins = (v: string): string =>
      `${header}\n0,chr1,2000000000,2000010000,1,2,3,4,5\n1,chr1,2000010000,2000020000,1,2,3,${v},5\n2,chr2,0,10,1,1,1,1,1\n3,chr2,10,20,2,2,2,2,2\n`;
    const opts = { flank: 1, testChromosomes: ['chr2'], validChromosomes: [] };
    const good = await folder({ 'x_E001_hmods_10kb_bins.csv': bins('4'), 'x_E001_genes.csv': genes });
    expect((await loadCell(good, { ...opts, cache: false })).dataset.genes).toBe(2);
    const bad = await folder({ 'x_E001_hmods_10kb_bins.csv': bins('2e9'), 'x_E001_genes.csv': genes });
    const before = snapshot(bad);
    const e = await loadCell(bad, opts).then(
      () => undefined,
      (x: unknown) => x as DataError,
    );
    expect(e).toBeInstanceOf(DataError);
    expect(e?.message).toContain(`${join(bad, 'x_E001_hmods_10kb_bins.csv')}:3: column 8 (H3K9me3): count 2e9 is above 1e+9`);
    expect(snapshot(bad)).toEqual(before);
  });

  it('one rule for every layout: bigWig values go through the same check', () => {
    expect(MAX_MARK_VALUE).toBe(1e9);
    expect(markValueProblem(1e9, '1e9')).toBeUndefined();
    expect(markValueProblem(0, '0')).toBeUndefined();
    expect(markValueProblem(1e30, '1e+30')).toMatch(/^count 1e\+30 is above 1e\+9/);
    expect(markValueProblem(-1, '-1')).toBe('negative count -1');
    expect(markValueProblem(Number.NaN, 'NaN')).toBe('NaN is not a finite number');
  });
});
