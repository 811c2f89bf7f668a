// Writes a Dataset in the DeepChrome layout (`classification/{train,valid,test}.csv`,
// rows GeneID,BinID,<MARKS>,label), the layout every DeepChrome-derived tool
// reads. Values are written so that reading them back as float32 gives the
// same bits. Each file goes to a temporary name first and is renamed when
// complete, so an interrupted write never leaves a half file under a real name.

import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { MARKS, SPLIT_CODES, SPLITS, type Dataset } from './dataset.ts';

/**
 * The GeneID column: DeepChrome's last 6 digits of the Ensembl number when
 * every id is an unversioned human Ensembl gene id and those digits are unique
 * (ENSG00000000003 → 000003), else the ids as they are.
 */
export function deepChromeGeneIds(ids: readonly string[]): { readonly column: readonly string[]; readonly shortened: boolean } {
  const short = ids.map((id) => (/^ENSG\d{11}$/.test(id) ? id.slice(-6) : undefined));
  if (short.every((s) => s !== undefined) && new Set(short).size === ids.length) return { column: short as string[], shortened: true };
  return { column: ids, shortened: false };
}

/** Text of a float32 value that parses back to the same float32, as short as cheaply found. */
export function float32Text(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const d = Number(v.toPrecision(6));
  return Math.fround(d) === v ? String(d) : String(Number(v.toPrecision(9)));
}

export interface WrittenLayout {
  readonly files: readonly string[];
  readonly geneIdsShortened: boolean;
}

export async function writeDeepChromeLayout(ds: Dataset, dir: string): Promise<WrittenLayout> {
  if (ds.marks.length !== MARKS.length || ds.marks.some((m, i) => m !== MARKS[i])) {
    throw new RangeError(`the DeepChrome layout holds the marks ${MARKS.join(', ')} in that order; this dataset has ${ds.marks.join(', ')}`);
  }
  const ids = deepChromeGeneIds(ds.geneIds);
  const bad = ids.column.find((id) => id.includes(',') || id.includes('\n'));
  if (bad !== undefined) throw new RangeError(`gene id ${JSON.stringify(bad)} contains a comma or newline: it cannot be a CSV field`);
  const out = join(dir, 'classification');
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  const m = MARKS.length;
  for (const split of SPLITS) {
    const code = SPLIT_CODES[split];
    const file = join(out, `${split}.csv`);
    const tmp = `${file}.${process.pid}.tmp`;
    const stream = createWriteStream(tmp);
    try {
      let chunk = '';
      for (let g = 0; g < ds.genes; g++) {
        if (ds.split[g] !== code) continue;
        const id = ids.column[g] as string;
        const label = ds.labels[g] as number;
        for (let b = 0; b < ds.bins; b++) {
          const o = (g * ds.bins + b) * m;
          let row = `${id},${b + 1}`;
          for (let k = 0; k < m; k++) row += `,${float32Text(ds.features[o + k] as number)}`;
          chunk += `${row},${label}\n`;
        }
        if (chunk.length > 1 << 20) {
          if (!stream.write(chunk)) await once(stream, 'drain');
          chunk = '';
        }
      }
      stream.end(chunk);
      await once(stream, 'finish');
      await rename(tmp, file);
    } catch (e) {
      stream.destroy();
      await unlink(tmp).catch(() => {});
      throw e;
    }
    files.push(file);
  }
  return { files, geneIdsShortened: ids.shortened };
}
