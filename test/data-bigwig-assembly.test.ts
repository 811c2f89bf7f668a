import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigWig } from '@gmod/bbi';
import { readBigWigCell } from '../src/data/bigwig.ts';
import { agreeOnLength, type ChromosomeEnd } from '../src/data/bigwigAssembly.ts';
import { DataError, MARKS } from '../src/data/dataset.ts';

// One assembly, told from the chromosome sizes of the tracks: a binned track
// ends each chromosome at its last bin (E116's 10 kb tracks end chr22 at
// 51,240,000), an ENCODE track at the assembly's length (hg19 chr22:
// 51,304,566). Those are one assembly; hg19 beside GRCh38 is not, and the
// refusal names the chromosome, both lengths and both files.

const DATA = fileURLToPath(new URL('../../shared/datasets/', import.meta.url));
const ENCODE = join(DATA, 'encode_bigwig', 'ENCFF826FLP.bw');
const E116 = join(DATA, 'bigwig_E116');
if (!existsSync(ENCODE) || !existsSync(E116)) throw new Error(`real data not found at ${DATA}: these tests need ../shared/datasets (see its README.md)`);

/** UCSC hg19 autosome lengths (chromInfo), the assembly of the Roadmap and GC-MERGE data. */
const HG19: Record<string, number> = {
  chr1: 249250621, chr2: 243199373, chr3: 198022430, chr4: 191154276, chr5: 180915260, chr6: 171115067, chr7: 159138663,
  chr8: 146364022, chr9: 141213431, chr10: 135534747, chr11: 135006516, chr12: 133851895, chr13: 115169878, chr14: 107349540,
  chr15: 102531392, chr16: 90354753, chr17: 81195210, chr18: 78077248, chr19: 59128983, chr20: 63025520, chr21: 48129895, chr22: 51304566,
};
const GRCH38_CHR22 = 50818468;

let root = '';
let bed = '';
let expression = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'simplechrome-assembly-'));
  // E116's chr22 genes: the ENCODE track covers chr22 only.
  bed = join(root, 'chr22.bed');
  const lines = (await readFile(join(E116, 'E116_genes_tss.bed'), 'utf8')).split('\n').filter((l) => l.startsWith('chr22\t'));
  await writeFile(bed, `${lines.join('\n')}\n`);
  expression = join(E116, 'E116_expression.tsv');
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A copy of the ENCODE track whose header says chr22 is `length` bp (the chromosome B+ tree's one leaf item). */
async function withChr22Length(length: number, name: string): Promise<string> {
  const bytes = await readFile(ENCODE);
  const tree = Number(bytes.readBigUInt64LE(8));
  const keySize = bytes.readUInt32LE(tree + 8);
  const at = tree + 32 + 4 + keySize + 4;
  expect(bytes.subarray(tree + 36, tree + 36 + 5).toString()).toBe('chr22');
  expect(bytes.readUInt32LE(at)).toBe(HG19.chr22);
  bytes.writeUInt32LE(length, at);
  const file = join(root, name);
  await writeFile(file, bytes);
  return file;
}

const e116 = (m: string): string => join(E116, `E116_${m}.10kb.bw`);
/** Four E116 marks and the ENCODE file as the fifth. */
const mixed = (encode: string): string[] => [...MARKS.slice(0, 4).map((m) => `${m}=${e116(m)}`), `${MARKS[4]}=${encode}`];
const CHR22_ONLY = { bin: 10000, flank: 2, testChromosomes: ['chr22'], validChromosomes: [] };

describe('one assembly across tracks', () => {
  it("E116's binned chromosome sizes and hg19's lengths are one assembly, chromosome by chromosome", async () => {
    const h = await new BigWig({ path: e116('H3K4me3') }).getHeader();
    const sizes = Object.values(h.refsByNumber);
    expect(sizes.length).toBe(22);
    for (const { name, length } of sizes) {
      const hg19 = HG19[name] as number;
      // The README's "the end of each chromosome's last bin" is the last bin GC-MERGE kept, not the bin holding
      // hg19's last base: E116 stops short by 5,210 (chr17) to 114,276 bp (chr4), a multiple of 10 kb each.
      expect(length % 10000, name).toBe(0);
      expect(length, name).toBeLessThan(hg19);
      const ends: ChromosomeEnd[] = [
        { path: 'e116.bw', mark: 'H3K4me3', length, lastBin: { start: length - 10000, end: length } },
        { path: 'encode.bw', mark: 'H3K27ac', length: hg19 },
      ];
      const v = agreeOnLength(name, ends);
      expect(v, name).toEqual({ length: hg19, note: expect.stringContaining(`e116.bw (H3K4me3) ends at ${length.toLocaleString('en-US')} bp, where its data ends`) });
    }
  });

  it('a last partial bin past the true end is tolerated; a bin wholly past it, or two assembly lengths, are not', () => {
    const exact = { path: 'a.bw', mark: 'H3K27ac', length: HG19.chr22 as number };
    // hg19 chr22 in 10 kb bins: the last bin is 51,300,000-51,310,000, 5,434 bp past the end.
    const over = { path: 'b.bw', mark: 'H3K4me3', length: 51310000, lastBin: { start: 51300000, end: 51310000 } };
    expect(agreeOnLength('chr22', [exact, over])).toEqual({ length: HG19.chr22 });
    const past = { path: 'c.bw', mark: 'H3K4me3', length: 51320000, lastBin: { start: 51310000, end: 51320000 } };
    const v = agreeOnLength('chr22', [exact, past]);
    expect(v).toEqual({
      path: 'c.bw',
      conflict: 'chr22 is 51,320,000 bp in c.bw (H3K4me3), whose last bin 51310000-51320000 starts past the end of chr22 in a.bw (H3K27ac) (51,304,566 bp); a binned track may end at most one partial bin past the true end',
    });
    const hg38 = { path: 'd.bw', mark: 'DNase', length: GRCH38_CHR22 };
    expect(agreeOnLength('chr22', [exact, hg38])).toMatchObject({ path: 'd.bw', conflict: expect.stringContaining('chr22 is 50,818,468 bp in d.bw (DNase) but 51,304,566 bp in a.bw (H3K27ac)') });
    // Binned tracks alone: each length is where its data ends.
    const short = { path: 'e.bw', mark: 'H3K9me3', length: 51240000, lastBin: { start: 51230000, end: 51240000 } };
    expect(agreeOnLength('chr22', [short, over])).toMatchObject({ length: 51310000 });
  });

  it('E116 tracks beside the ENCODE track read as one cell, chr22 to its hg19 end', async () => {
    const ds = await readBigWigCell({ tracks: mixed(ENCODE), genes: bed, expression }, CHR22_ONLY);
    expect(ds.genes).toBe(389);
    expect(ds.notes?.join('\n')).toContain('chr22 is 51,304,566 bp in');
    expect(ds.notes?.join('\n')).toContain('ends at 51,240,000 bp, where its data ends');
  });

  it('hg19 beside GRCh38 is refused, naming chr22, both lengths and both files; nothing is changed', async () => {
    const hg38 = await withChr22Length(GRCH38_CHR22, 'grch38-chr22.bw');
    const before = await readFile(hg38);
    const refuse = async (tracks: string[]): Promise<DataError> => {
      const e = await readBigWigCell({ tracks, genes: bed, expression }, CHR22_ONLY).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(DataError);
      return e as DataError;
    };
    // Beside the binned E116 tracks: their last bin (51,230,000-51,240,000) lies past GRCh38's chr22.
    let e = await refuse(mixed(hg38));
    expect(e.message).toContain('the tracks are of different genome assemblies: chr22 is 51,240,000 bp in');
    expect(e.message).toContain(`starts past the end of chr22 in ${hg38} (${MARKS[4]}) (50,818,468 bp)`);
    // Beside the hg19 ENCODE file: two assembly lengths.
    const copy = join(root, 'hg19-copy.bw');
    await copyFile(ENCODE, copy);
    e = await refuse([...MARKS.slice(0, 4).map((m) => `${m}=${copy}`), `${MARKS[4]}=${hg38}`]);
    expect(e.file).toBe(hg38);
    expect(e.message).toBe(
      `${hg38}: the tracks are of different genome assemblies: chr22 is 50,818,468 bp in ${hg38} (${MARKS[4]}) but 51,304,566 bp in ${copy} (${MARKS[0]}), ` +
        "and neither file's data reaches its end (so neither is a binned track ending at its last bin)",
    );
    expect((await readFile(hg38)).equals(before)).toBe(true);
    expect((await readFile(copy)).equals(await readFile(ENCODE))).toBe(true);
  });
});
