import type { DataInfo } from '../../checkpoint/checkpointFormat.ts';
import type { Dataset } from '../../data/dataset.ts';
import type { RunSettings } from '../../train/runSettings.ts';
import { labeledSubset, splitIndices } from '../../train/prepare.ts';
import type { SplitScore } from '../../train/splitScores.ts';
import { isClassScores } from '../../train/target.ts';
import { table } from '../session/outputs.ts';

// What `predict` says of its scores: one row per split, and what the model
// had seen of each split. On the data a model trained on, its train split
// holds the genes whose labels it fit and its valid split chose among its
// epochs (or penalties, or weights): only test is scored as the run scored
// it. Whether the data is that data is the checkpoint's fingerprint of it
// (the SHA-256 over genes, splits, labels and values that --resume checks).

/** The model's side: the data it trained on (from its checkpoint) and the settings that chose its labeled genes. */
export interface TrainedOn {
  readonly data: DataInfo;
  readonly settings: Pick<RunSettings, 'trainSize' | 'seed' | 'target'>;
}

/** The summary's lines: a heading, the table, and one line on how the data stands to the model's training data. */
export function scoreSummary(model: TrainedOn, ds: Dataset, fingerprint: string, scores: readonly SplitScore[], against: string): string[] {
  const same = fingerprint === model.data.fingerprint;
  const notes = same ? ownDataNotes(model, ds) : {};
  const classes = model.settings.target === 'class';
  const metrics = classes ? ['AUROC', 'AUPR'] : ['Pearson', 'Spearman', 'MSE'];
  const f = (x: number) => (Number.isNaN(x) ? 'NaN' : x.toFixed(4));
  const rows = scores.map((r) => {
    const s = r.scores;
    const numbers = s === undefined ? metrics.map(() => '-') : isClassScores(s) ? [f(s.auroc), f(s.aupr)] : [f(s.pearson), f(s.spearman), f(s.mse)];
    return [r.split, String(r.genes), ...numbers, r.why !== undefined ? `not scored: ${r.why}` : (notes[r.split] ?? '')];
  });
  const noted = rows.some((r) => r.at(-1) !== '');
  const shown = table(['split', 'genes', ...metrics, ...(noted ? ['note'] : [])], noted ? rows : rows.map((r) => r.slice(0, -1)));
  return [`predict: scores against ${against}, by split:`, ...shown.split('\n').map((l) => `  ${l}`), provenance(model, ds, same)];
}

/** What each split of the model's own training data was to it. */
function ownDataNotes(model: TrainedOn, ds: Dataset): Partial<Record<SplitScore['split'], string>> {
  const train = splitIndices(ds).train;
  const fit = labeledSubset(train, model.settings.trainSize, model.settings.seed).length;
  return {
    train: `trained on: the model fit the ${observedWord(model)} of ${fit === train.length ? 'these genes' : `${fit} of these genes`}, so this is optimistic`,
    valid: 'chose the model (its best epoch): slightly optimistic',
    test: "held out: the training run's test score",
    all: 'mixes the splits',
  };
}

const observedWord = (model: TrainedOn): string => (model.settings.target === 'class' ? 'labels' : 'expression values');

function provenance(model: TrainedOn, ds: Dataset, same: boolean): string {
  const trained = model.data.cell;
  if (same) return `predict: this is the data the model trained on (the fingerprint in its checkpoint matches): it trained on its train split; quote test`;
  if (ds.cell === trained) {
    return (
      `predict: the model trained on ${trained} too, but on other data (${model.data.path}; the fingerprints differ): ` +
      `it fit the ${observedWord(model)} of that data's train split, so quote test only where the two split their genes alike`
    );
  }
  return (
    `predict: the model trained on ${trained}'s train split (${model.data.path}); cells split alike, as the DeepChrome-derived ones are, ` +
    `share their train genes, so ${ds.cell}'s train rows score genes whose ${trained} ${observedWord(model)} the model fit; quote test`
  );
}
