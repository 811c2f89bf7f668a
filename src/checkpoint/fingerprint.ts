import { createHash } from 'node:crypto';
import type { Dataset } from '../data/dataset.ts';
import { datasetFingerprintWith } from './datasetDigest.ts';

/** datasetFingerprintWith Node's SHA-256. */
export function datasetFingerprint(ds: Dataset): string {
  return datasetFingerprintWith(() => createHash('sha256'), ds);
}
