import type { Dataset } from '../data/dataset.ts';
import type { Sha256 } from '../util/sha256.ts';

/** SHA-256 over what training sees of a dataset (gene ids, splits, labels,
 * features as stored): a resumed run checks it is training on the same genes
 * and values, wherever the files now live. With the hash given (Node's, or
 * the page's plain JavaScript one), so both record the same fingerprint. */
export function datasetFingerprintWith(hash: () => Sha256, ds: Dataset): string {
  const h = hash();
  for (const part of fingerprintParts(ds)) h.update(part);
  return h.digest('hex');
}

/** The same fingerprint by an asynchronous digest of the parts laid end to end: a page passes crypto.subtle's,
 * which the browser computes off the main thread, so a big cell's hash does not freeze the tab. */
export function datasetFingerprintAsync(digestHex: (bytes: Uint8Array) => Promise<string>, ds: Dataset): Promise<string> {
  const parts = fingerprintParts(ds).map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return digestHex(all);
}

/** What the fingerprint is of, in order (a string as its UTF-8 bytes). */
function fingerprintParts(ds: Dataset): (string | Uint8Array)[] {
  return [
    `${ds.genes} ${ds.bins} ${ds.marks.join(',')}\n`,
    ds.geneIds.join('\n'),
    ds.split,
    ds.labels,
    new Uint8Array(ds.features.buffer, ds.features.byteOffset, ds.features.byteLength),
    ...(ds.binMask ? [ds.binMask] : []),
  ];
}
