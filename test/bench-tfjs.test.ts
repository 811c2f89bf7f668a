import { describe, expect, it } from 'vitest';
import { syntheticData } from '../bench/lib/benchData.ts';
import { buildOurTrainer } from '../bench/lib/ourTraining.ts';
import { buildTfjsTrainer } from '../bench/lib/tfjsModels.ts';
import { startTfjsWebgpu } from '../bench/lib/tfjsWebgpu.ts';
import { getGpu } from './helpers.ts';

// bench/train.ts compares ours with a TF.js twin built from tfjs-layers; a
// ratio means something only if the twin is the same model. attentivechrome's
// twin is assembled by hand (five BiLSTMs, attention as tf ops), so at a tiny
// size it must have the same parameter count as ours. Only built (one forward
// pass at batch 1), not trained: TF.js's training step compiles hundreds of
// shaders, minutes on SwiftShader; bench/train.ts runs it. No timing.

describe('TF.js twin of attentivechrome in the training bench', () => {
  it('has our parameter count', { timeout: 240_000 }, async () => {
    const gpu = await getGpu();
    const data = syntheticData(6, 3, 12, 5);
    const hidden = [4, 3] as const;
    const ours = await buildOurTrainer(gpu, 'attentivechrome', data, 4, 1, { lstmHidden: hidden });
    const oursParameters = ours.parameters;
    ours.destroy();
    // 5 marks × 2 directions × (1 + 4 inputs + 1 bias) × 16 gates, bin contexts 5 × 8, the marks' BiLSTM
    // 2 × (8 + 3 + 1) × 12, its context 6, the logit 6 + 1.
    expect(oursParameters).toBe(5 * 2 * 6 * 16 + 5 * 8 + 2 * 12 * 12 + 6 + 7);
    const tfjs = await startTfjsWebgpu(gpu);
    if ('error' in tfjs) throw new Error(`TF.js did not start: ${tfjs.error}`);
    const t = buildTfjsTrainer(tfjs, 'attentivechrome', data, 4, hidden);
    try {
      expect(t.parameters).toBe(oursParameters);
      expect(t.stepsPerEpoch).toBe(2);
    } finally {
      t.dispose();
    }
  });
});
