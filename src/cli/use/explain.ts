import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { modelWindow } from '../../checkpoint/checkpointFormat.ts';
import { encodeSafetensors } from '../../checkpoint/safetensors.ts';
import { type Dataset, SPLIT_CODES } from '../../data/dataset.ts';
import { geneMapChart, meanAttentionChart, meanMapsChart } from '../../plots/attributionCharts.ts';
import { renderSvg } from '../../plots/render.ts';
import { METHOD_MEANING, type Explanation, type MeanMap, explainWith, meanAttributionMaps, methodInWords } from '../../train/explain.ts';
import { type ExplainedAttention, explainedAttention } from '../../train/explainAttention.ts';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import { UsageError } from '../flags/args.ts';
import { EXPLAIN_DIR, listed, refuseForeign } from '../session/runDirectory.ts';
import { DISK_SOURCES } from '../session/neighborSources.ts';
import { err } from '../session/session.ts';
import { seconds } from '../session/progressPrinter.ts';
import { deviceFor } from '../run/trainRun.ts';
import type { ExplainCommandOptions } from './explainArgs.ts';
import { dataFor, readModelDirectory } from './useModel.ts';

// `explain`: which marks and bins a trained model's output rests on, for the
// genes of a cell (src/train/explain.ts computes it). It writes, into --out
// (default: explain/ in the model's directory), files named by the cell and
// the method, so that several cells and methods sit side by side:
//   CELL-METHOD.attributions.safetensors  attribution [genes, bins, marks] (float32), output, baseline_output
//                                         (integrated gradients), outside (models that read more than the window),
//                                         label, split, and an attention model's bin_attention [genes, bins,
//                                         marks] and mark_attention [genes, marks]; gene ids, marks and what was
//                                         run in the metadata
//   CELL-METHOD.mean.csv                  group (expressed = label 1, silent = label 0), mark, bin, genes,
//                                         mean_abs_attribution, mean_attribution
//   CELL-METHOD.mean-maps.svg             the signed mean maps, expressed beside silent
//   CELL-METHOD.mean-abs-maps.svg         the mean |attribution| maps, expressed beside silent
//   CELL-METHOD.gene-ID.svg               each gene named by --genes; for an attention model (attentivechrome)
//                                         its bin-level attention beside and its mark-level attention as bars
//   CELL-METHOD.mean-attention-maps.svg   an attention model's: the mean |attribution| maps, expressed beside
//                                         silent, with the same genes' mean attention (bins, marks) beneath
//   CELL-METHOD.json                      what was run, and integrated gradients' completeness
// The folder must hold nothing but such files (refused otherwise, nothing written), and only the files of
// this cell and method are replaced; every file is written atomically.

const OWN = /^.+-(saliency|grad-input|integrated-gradients)\.(attributions\.safetensors|mean\.csv|mean-maps\.svg|mean-abs-maps\.svg|mean-attention-maps\.svg|gene-.+\.svg|json)$/;
/** One of the files above, or a temporary one left while writing it. */
const isOwn = (name: string): boolean => OWN.test(name) || (name.includes('.tmp-') && OWN.test(name.slice(0, name.indexOf('.tmp-'))));

/** Genes per-gene maps are drawn for at most: each is its own SVG file. */
const MAX_GENE_MAPS = 50;

/** The dataset rows to explain: the named genes (each must be in the data), a split, or all. */
function chosenGenes(o: ExplainCommandOptions, ds: Dataset): Uint32Array {
  if (o.genes !== undefined) {
    const row = new Map<string, number>();
    ds.geneIds.forEach((id, g) => {
      if (!row.has(id)) row.set(id, g);
    });
    const missing = o.genes.filter((id) => !row.has(id));
    if (missing.length > 0) throw new UsageError(`explain --genes: ${listed(missing)} ${missing.length === 1 ? 'is' : 'are'} not among the ${ds.genes} genes of ${ds.cell} (ids as the data names them, e.g. ${ds.geneIds.slice(0, 3).join(', ')})`);
    return Uint32Array.from(new Set(o.genes.map((id) => row.get(id) as number)));
  }
  const all = Array.from({ length: ds.genes }, (_, g) => g);
  if (o.split === undefined) return Uint32Array.from(all);
  const code = SPLIT_CODES[o.split];
  const picked = all.filter((g) => ds.split[g] === code);
  if (picked.length === 0) throw new UsageError(`explain --split ${o.split}: ${ds.cell} has no ${o.split} genes`);
  return Uint32Array.from(picked);
}

function meanCsv(e: Explanation, maps: Readonly<Record<'expressed' | 'silent', MeanMap>>, marks: readonly string[]): string {
  const lines = ['group,mark,bin,genes,mean_abs_attribution,mean_attribution'];
  for (const group of ['expressed', 'silent'] as const) {
    const m = maps[group];
    for (let k = 0; k < e.marks; k++) {
      for (let b = 0; b < e.bins; b++) {
        const i = b * e.marks + k;
        lines.push([group, marks[k], b, m.genes, (m.meanAbs[i] as number).toPrecision(6), (m.mean[i] as number).toPrecision(6)].join(','));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Σ over the map's bins of each mark's value, and the bins the largest sits at, for the summary on stderr. */
function markTotals(values: ArrayLike<number>, bins: number, marks: readonly string[]): string {
  const totals = marks.map((mark, k) => {
    let s = 0;
    for (let b = 0; b < bins; b++) s += values[b * marks.length + k] as number;
    return { mark, s };
  });
  const all = totals.reduce((a, t) => a + t.s, 0);
  return totals
    .sort((a, b) => b.s - a.s)
    .map((t) => `${t.mark} ${((100 * t.s) / (all || 1)).toFixed(0)}%`)
    .join(', ');
}

/** A line after each block of genes, with the time left at the pace so far; none when one block held them all. */
function progressLines(now: () => number = () => performance.now()): (done: number, total: number) => void {
  const t0 = now();
  let blocks = 0;
  return (done, total) => {
    blocks++;
    if (done === total && blocks === 1) return;
    const ms = now() - t0;
    err(`explain: ${done} of ${total} genes (${Math.floor((100 * done) / total)}%), ${seconds(ms)}${done < total ? `, about ${seconds((ms * (total - done)) / done)} left` : ''}`);
  };
}

export async function explainCommand(o: ExplainCommandOptions): Promise<number> {
  const m = await readModelDirectory(o.modelDir, 'classifier');
  const out = o.out ?? join(o.modelDir, EXPLAIN_DIR);
  refuseForeign(out, `explain --out ${out}`, 'give --out a new folder or one that explain wrote', isOwn);
  const { bins, marks } = modelWindow(m);
  const { ds } = await dataFor({ command: 'explain', data: o.data, out: undefined }, m, bins, marks);
  const genes = chosenGenes(o, ds);
  const choice = await deviceFor(o.device);
  const stem = `${ds.cell.replace(/[^A-Za-z0-9_.-]/g, '_')}-${o.method}`;
  try {
    if (!o.quiet) {
      err(
        `explain: ${m.modelName} trained on ${m.trainedOn.cell} (${o.modelDir}), ${genes.length} genes of ${ds.cell}, ${o.method}` +
          `${o.method === 'integrated-gradients' ? ` (${o.steps} steps)` : ''}; ${o.device.toUpperCase()}: ${choice.name}`,
      );
    }
    const e = await explainWith(m, ds, genes, { method: o.method, steps: o.steps, ...(o.quiet ? {} : { onProgress: progressLines() }) }, choice.device, DISK_SOURCES);
    const attention = await explainedAttention(m, ds, genes, choice.device, DISK_SOURCES);
    await mkdir(out, { recursive: true });
    const maps = meanAttributionMaps(e, ds.labels);
    const completeness = e.baselineOutputs ? worstCompleteness(e) : undefined;
    const about = {
      format: 'simplechrome-attributions-1',
      model: m.modelName,
      modelDir: o.modelDir,
      trainedOn: m.trainedOn.cell,
      cell: ds.cell,
      data: o.data,
      method: o.method,
      meaning: METHOD_MEANING[o.method],
      ...(e.steps !== undefined ? { steps: e.steps, baseline: 'a window of no reads in every bin, normalised as the model normalises its input' } : {}),
      input: `the gene's window as normalised for the model (${m.normalization.scheme}, fitted on ${m.trainedOn.cell}'s training genes)`,
      output: m.settings.target === 'expression' ? 'predicted log10(RPKM + 1)' : 'the logit of P(high expression)',
      readsWindow: e.readsWindow,
      ...(e.outside ? { outside: `${e.outside.what}: held fixed; per gene, Σ gradient × input over them` } : {}),
      genes: genes.length,
      marks: ds.marks,
      bins: ds.bins,
      ...(completeness !== undefined ? { completeness: { worstAbsoluteError: completeness.abs, worstRelativeError: completeness.rel } } : {}),
    };
    await writeFileAtomically(join(out, `${stem}.json`), `${JSON.stringify(about, null, 2)}\n`);
    await writeFileAtomically(
      join(out, `${stem}.attributions.safetensors`),
      encodeSafetensors(
        [
          { name: 'attribution', shape: [genes.length, ds.bins, ds.marks.length], data: e.attributions },
          { name: 'output', shape: [genes.length], data: Float32Array.from(e.outputs) },
          ...(e.baselineOutputs ? [{ name: 'baseline_output', shape: [genes.length], data: Float32Array.from(e.baselineOutputs) }] : []),
          ...(e.outside ? [{ name: 'outside', shape: [genes.length], data: e.outside.values }] : []),
          { name: 'label', shape: [genes.length], data: Uint8Array.from(genes, (g) => ds.labels[g] as number) },
          { name: 'split', shape: [genes.length], data: Uint8Array.from(genes, (g) => ds.split[g] as number) },
          ...(attention ? attentionTensors(attention, genes.length, ds.bins, ds.marks.length) : []),
        ],
        {
          ...Object.fromEntries(Object.entries(about).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
          gene_ids: JSON.stringify(Array.from(genes, (g) => ds.geneIds[g])),
          split_codes: JSON.stringify(SPLIT_CODES),
          layout: `attribution[gene, bin, mark]${attention ? ', bin_attention[gene, bin, mark], mark_attention[gene, mark]' : ''}; marks in the order of "marks"`,
        },
      ),
    );
    await writeFileAtomically(join(out, `${stem}.mean.csv`), meanCsv(e, maps, ds.marks));
    const subtitle = `${m.modelName} trained on ${m.trainedOn.cell}, ${genes.length} genes of ${ds.cell}; ${methodInWords(o.method, o.steps)}`;
    await writeSvg(join(out, `${stem}.mean-maps.svg`), meanMapsChart(`${ds.cell}: mean ${o.method} attribution`, subtitle, maps, 'mean', ds.bins, ds.marks));
    await writeSvg(join(out, `${stem}.mean-abs-maps.svg`), meanMapsChart(`${ds.cell}: mean |${o.method}| attribution`, subtitle, maps, 'meanAbs', ds.bins, ds.marks));
    if (attention) {
      await writeSvg(
        join(out, `${stem}.mean-attention-maps.svg`),
        meanAttentionChart(`${ds.cell}: mean |${o.method}| attribution beside ${m.modelName}'s attention`, subtitle, maps, attention, ds.bins, ds.marks),
      );
    }
    const W = ds.bins * ds.marks.length;
    const M = ds.marks.length;
    const drawn = o.genes !== undefined ? Array.from(genes).slice(0, MAX_GENE_MAPS) : [];
    for (const g of drawn) {
      const n = genes.indexOf(g);
      const id = ds.geneIds[g] as string;
      const chart = geneMapChart(
        {
          cell: ds.cell,
          geneId: id,
          expressed: ds.labels[g] === 1,
          method: o.method,
          output: e.outputs[n] as number,
          about: subtitle,
          attribution: e.attributions.subarray(n * W, (n + 1) * W),
          ...(attention ? { attention: { bins: attention.bins.subarray(n * W, (n + 1) * W), marks: attention.marks.subarray(n * M, (n + 1) * M) } } : {}),
        },
        ds.bins,
        ds.marks,
      );
      await writeSvg(join(out, `${stem}.gene-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.svg`), chart);
    }
    if (!o.quiet) {
      if (!e.readsWindow) err(`explain: ${m.modelName} does not read the window: every attribution is 0`);
      if (e.outside) err(`explain: ${m.modelName} also reads ${e.outside.what}; they are held fixed and not in the maps (the outside column has Σ gradient × input over them)`);
      for (const group of ['expressed', 'silent'] as const) {
        const n = maps[group].genes;
        err(`explain: ${group} (${n} genes)${n > 0 ? `, share of mean |attribution| by mark: ${markTotals(maps[group].meanAbs, ds.bins, ds.marks)}` : ': none among those explained'}`);
      }
      if (completeness !== undefined) err(`explain: completeness: Σ attributions against f(x) − f(no reads), worst error ${completeness.abs.toExponential(2)} (${(100 * completeness.rel).toFixed(2)}% of its size)`);
      if (attention) err(`explain: ${m.modelName} has attention layers: its attention is drawn beside the attributions (${stem}.mean-attention-maps.svg${drawn.length > 0 ? ' and the gene maps' : ''})`);
      err(`explain: wrote ${join(out, `${stem}.*`)}${drawn.length > 0 ? ` (${drawn.length} gene map${drawn.length === 1 ? '' : 's'})` : ''}`);
    }
    return 0;
  } finally {
    choice.release();
  }
}

/** An attention model's maps of the explained genes, as predict --attention names them; the bins laid out as the
 * attributions. */
function attentionTensors(a: ExplainedAttention, genes: number, bins: number, marks: number): { name: string; shape: number[]; data: Float32Array }[] {
  return [
    { name: 'bin_attention', shape: [genes, bins, marks], data: a.bins },
    { name: 'mark_attention', shape: [genes, marks], data: a.marks },
  ];
}

async function writeSvg(file: string, spec: Parameters<typeof renderSvg>[0]): Promise<void> {
  await writeFileAtomically(file, await renderSvg(spec));
}

/** The worst |Σ_i a_i − (f(x) − f(0))| over the genes, and relative to the largest |f(x) − f(0)|. */
function worstCompleteness(e: Explanation): { abs: number; rel: number } {
  const W = e.bins * e.marks;
  let abs = 0;
  let scale = 0;
  e.genes.forEach((_, n) => {
    let s = 0;
    for (let i = 0; i < W; i++) s += e.attributions[n * W + i] as number;
    const change = (e.outputs[n] as number) - (e.baselineOutputs?.[n] as number);
    abs = Math.max(abs, Math.abs(s - change));
    scale = Math.max(scale, Math.abs(change));
  });
  return { abs, rel: scale > 0 ? abs / scale : abs };
}
