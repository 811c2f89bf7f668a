import { describe, expect, it } from 'vitest';
import { selfCheck } from '../src/selfCheck.ts';
import { selfCheckCases } from '../src/selfCheckCases.ts';
import { getGpu } from './helpers.ts';

describe('run.ts --self-check', () => {
  it('covers every kernel family and passes on this adapter', async () => {
    const results = await selfCheck(await getGpu(), selfCheckCases());
    const families = new Set(results.map((r) => r.kernel.split(/[.[]/)[0]));
    for (const f of ['activation', 'matmul', 'conv1d', 'convTranspose1d', 'maxpool1d', 'reduce', 'bce_with_logits', 'mean_squared_error', 'gather', 'rng', 'dropout', 'reparam', 'elbo', 'adamw']) {
      expect(families.has(f), `family ${f}`).toBe(true);
    }
    for (const r of results) expect(r, r.kernel).toMatchObject({ ok: true });
  });
});
