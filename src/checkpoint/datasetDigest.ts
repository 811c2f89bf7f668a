import type { Dataset } from '../data/dataset.ts';
import type { Sha256 } from '../util/sha256.ts';

/** SHA-256 over what training sees of a dataset (gene ids, splits, labels,
 * features as stored): a resumed run checks it is training on the same genes
 * and values, wherever the files now live. With the hash given (Node's, or
 * the page's plain JavaScript one), so both record the same fingerprint. */
export function datasetFingerprintWith(hash: () => Sha256, ds: Dataset): string {
  const h = hash();
  h.update(`${ds.genes} ${ds.bins} ${ds.marks.join(',')}\n`);
  h.update(ds.geneIds.join('\n'));
  h.update(ds.split);
  h.update(ds.labels);
  h.update(new Uint8Array(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength));
  if (ds.binMask) h.update(ds.binMask);
  return h.digest('hex');
}
