import { existsSync, readFileSync } from 'node:fs';
import type { WeightSearch } from '../../train/runModel.ts';

// Which value of a searched loss weight each experiment run kept (vae-m2's α
// as a multiple of N, vae-joint's λ), beside small-data.csv rather than in it,
// so the CSV's header, and every experiment written before, stay as they are.

export const WEIGHT_CHOICES_HEADER = 'cell,model,size,seed,setting,value,valid_auroc,chosen';

/** A run's lines: one per value it trained, `chosen` 1 for the kept one. */
export function weightChoiceLines(at: { readonly cell: string; readonly model: string; readonly size: number | 'all'; readonly seed: number }, w: WeightSearch): string[] {
  return w.values.map((v, i) => [at.cell, at.model, at.size, at.seed, w.setting, v, (w.validAuroc[i] as number).toFixed(4), v === w.chosen ? 1 : 0].join(','));
}

/** The lines a stopped experiment kept, those of runs that `finished` (by their cell|model|size|seed key) only. */
export function storedWeightChoices(file: string, finished: ReadonlySet<string>): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines[0] !== WEIGHT_CHOICES_HEADER) throw new Error(`${file}: its header is not ${WEIGHT_CHOICES_HEADER}`);
  return lines.slice(1).filter((l) => l !== '' && finished.has(l.split(',').slice(0, 4).join('|')));
}

/** The file's text. */
export const weightChoicesCsv = (lines: readonly string[]): string => `${[WEIGHT_CHOICES_HEADER, ...lines].join('\n')}\n`;
