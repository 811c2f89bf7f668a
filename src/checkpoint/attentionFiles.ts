import { type Dataset, SPLIT_CODES, splitName } from '../data/dataset.ts';
import type { AttentionMapsOf } from '../train/predictWith.ts';
import { csvTextField } from '../util/csvField.ts';
import { encodeSafetensors } from './safetensors.ts';

// What `predict --attention` writes beside its predictions: an attention
// model's weights for every gene of `ds`, in dataset order (the order of
// predictions.csv). The mark-level weights as a table a person opens (gene ids
// neutralised for spreadsheets, as in predictions.csv); the bin-level maps,
// [genes, marks, bins], as safetensors, which numpy and PyTorch read, with the
// gene ids, mark names and split codes in its metadata (JSON, ids as given:
// no spreadsheet reads it) and the splits also as a u8 tensor.

export const ATTENTION_FILES = { marks: 'mark-attention.csv', bins: 'bin-attention.safetensors' } as const;

/** gene_id, split, then one column per mark (the data's mark names): each row sums to 1. */
export function markAttentionCsv(ds: Dataset, marks: Float32Array): string {
  const M = ds.marks.length;
  const lines = [['gene_id', 'split', ...ds.marks.map(csvTextField)].join(',')];
  for (let g = 0; g < ds.genes; g++) {
    const row = Array.from(marks.subarray(g * M, (g + 1) * M), (v) => v.toPrecision(6));
    lines.push([csvTextField(ds.geneIds[g] as string), splitName(ds.split[g] as number), ...row].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** bin_attention [genes, marks, bins], mark_attention [genes, marks] and split [genes] (u8, split_codes). */
export function binAttentionSafetensors(ds: Dataset, attention: AttentionMapsOf, about: { readonly model: string; readonly trainedOn: string }): Uint8Array {
  const M = ds.marks.length;
  return encodeSafetensors(
    [
      { name: 'bin_attention', shape: [ds.genes, M, ds.bins], data: attention.bins },
      { name: 'mark_attention', shape: [ds.genes, M], data: attention.marks },
      { name: 'split', shape: [ds.genes], data: Uint8Array.from(ds.split) },
    ],
    {
      format: 'simplechrome-attention-1',
      cell: ds.cell,
      model: about.model,
      trained_on: about.trainedOn,
      marks: JSON.stringify(ds.marks),
      gene_ids: JSON.stringify(ds.geneIds),
      split_codes: JSON.stringify(SPLIT_CODES),
    },
  );
}
