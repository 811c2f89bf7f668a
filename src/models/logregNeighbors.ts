import { withNeighbors } from '../data/neighbors.ts';
import type { DerivedFeatures, FeatureContext } from './derivedFeatures.ts';

// logreg-neighbors: logistic regression on a gene's window followed by its
// neighbours' windows: the same neighbours, kind (--neighbors) and --k that
// vae-mlp-neighbors appends latents of, so its functional arm has a window
// baseline that sees the same outside information (other cells' expression,
// through which genes are picked). A separate model rather than a flag on
// logreg, so the experiment's tables, checkpoints and resume tell the two
// apart by name, as they tell vae-mlp from vae-mlp-neighbors.
//
// Layout per gene: [own window (bins × marks, bin-major as the dataset), then
// one window per neighbour slot in the Neighbors' slot order (functional: best
// correlation first; spatial: left side farthest first, then right side
// nearest first)], zeros where a slot is padding. A neighbour may be any gene
// of the dataset, test genes included: only its window (an unlabeled input) is
// read, never its label.

export async function logregNeighborsFeatures(c: FeatureContext): Promise<DerivedFeatures> {
  const { ds } = c;
  const n = await c.neighbors();
  const window = ds.bins * ds.marks.length;
  return {
    features: withNeighbors(ds.features, window, n),
    width: window * (1 + n.width),
    counts: { neighborSlots: n.width, genesWithoutNeighbors: n.unmatched.length },
    neighbors: n,
  };
}
