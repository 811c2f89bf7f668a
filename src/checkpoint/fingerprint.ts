import { createHash } from 'node:crypto';
import type { Dataset } from '../data/dataset.ts';

/** SHA-256 over what training sees of a dataset (gene ids, splits, labels,
 * features as stored): a resumed run checks it is training on the same genes
 * and values, wherever the files now live. */
export function datasetFingerprint(ds: Dataset): string {
  const h = createHash('sha256');
  h.update(`${ds.genes} ${ds.bins} ${ds.marks.join(',')}\n`);
  h.update(ds.geneIds.join('\n'));
  h.update(ds.split);
  h.update(ds.labels);
  h.update(new Uint8Array(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  if (ds.binMask) h.update(ds.binMask);
  return h.digest('hex');
}
