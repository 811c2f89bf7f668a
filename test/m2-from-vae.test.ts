import { describe, expect, it } from 'vitest';
import { m2Spec, vaeSpec } from '../src/models/modelSpec.ts';
import { buildVae } from '../src/models/modelSpec.ts';
import { M2_FROM_VAE, m2StartFromVae } from '../src/models/m2FromVae.ts';
import type { VaeModel } from '../src/models/vae.ts';
import { m2Model } from '../src/models/vaeM2.ts';
import { forwardAll } from '../src/nn/layer.ts';
import { PARAMS, type ParameterStore } from '../src/nn/parameters.ts';
import { CpuExecutor } from '../src/plan/cpuExecutor.ts';
import { Plan } from '../src/plan/plan.ts';
import { maxRelError, randomArray } from './helpers.ts';

// vae-m2 started from the pretrained VAE is that VAE: the same latent mean,
// log-variance and reconstruction (decoded from the mean) for every gene,
// whichever label the heads and the decoder are given.

const BINS = 9;
const MARKS = 5;
const LATENT = 3;
const GENES = 6;

/** Encoder → mu, logvar → decoder(mu) for `x`, the label's one-hot appended where `label` is given (M2's heads and decoder). */
function encodeDecode(vae: VaeModel, store: ParameterStore, params: Float32Array, x: Float32Array, label?: 0 | 1): { mu: Float32Array; logvar: Float32Array; recon: Float32Array } {
  const plan = new Plan();
  store.declare(plan);
  const ctx = (prefix: string) => ({ plan, batch: GENES, training: false, prefix, step: 'step', seed: 1, saved: new Map() });
  plan.tensor('step', [1], 'u32');
  plan.tensor('x', [GENES, BINS, MARKS]);
  const H = BINS * 6;
  const extra = label === undefined ? 0 : 2;
  plan.tensor('hy', [GENES, H + extra]);
  plan.tensor('zy', [GENES, LATENT + extra]);
  plan.segment('trunk');
  const h = forwardAll(ctx('t/'), vae.encoder, 'x');
  plan.segment('heads');
  const hc = ctx('h/');
  const mu = vae.mu.forward(hc, 'hy');
  const logvar = vae.logvar.forward(hc, 'hy');
  plan.segment('decode');
  const recon = forwardAll(ctx('d/'), vae.decoder, 'zy');
  const e = new CpuExecutor(plan);
  e.write(PARAMS, params);
  e.write('x', x);
  e.run(1, 'trunk');
  const withLabel = (rows: Float32Array, width: number): Float32Array => {
    const out = new Float32Array(GENES * (width + extra));
    for (let g = 0; g < GENES; g++) {
      out.set(rows.subarray(g * width, (g + 1) * width), g * (width + extra));
      if (label !== undefined) out[g * (width + extra) + width + label] = 1;
    }
    return out;
  };
  e.write('hy', withLabel(Float32Array.from(e.read(h)), H));
  e.run(1, 'heads');
  const m = Float32Array.from(e.read(mu));
  e.write('zy', withLabel(m, LATENT));
  e.run(1, 'decode');
  return { mu: m, logvar: Float32Array.from(e.read(logvar)), recon: Float32Array.from(e.read(recon)) };
}

describe('vae-m2 started from the pretrained VAE', () => {
  const sizes = { channels: [4, 6] as const, kernelSize: 3 };
  const vs = { ...vaeSpec(BINS, MARKS, LATENT), ...sizes };
  const vae = buildVae(vs);
  const spec = m2Spec(BINS, MARKS, LATENT);
  if (spec.architecture !== 'vae-m2') throw new Error('not m2');
  const m2 = m2Model({ ...spec, ...sizes, hidden: [5] });
  // A "pretrained" VAE: any values will do, as long as they are not M2's own.
  const vaeParams = randomArray(vae.store.total, 11, -0.5, 0.5);
  const fresh = m2.store.initialValues(2);
  const started = Float32Array.from(fresh);
  m2StartFromVae(m2, vae.store, vaeParams, started);
  const x = randomArray(GENES * BINS * MARKS, 5, -1, 1);

  it('reproduces the VAE’s latent mean, log-variance and reconstruction for either label', () => {
    const reference = encodeDecode(vae, vae.store, vaeParams, x);
    for (const label of [0, 1] as const) {
      const got = encodeDecode(m2.vae, m2.store, started, x, label);
      expect(maxRelError(got.mu, reference.mu), `mu, y=${label}`).toBeLessThanOrEqual(1e-6);
      expect(maxRelError(got.logvar, reference.logvar), `logvar, y=${label}`).toBeLessThanOrEqual(1e-6);
      expect(maxRelError(got.recon, reference.recon), `reconstruction, y=${label}`).toBeLessThanOrEqual(1e-6);
    }
    // From its own random weights M2 is another model: the comparison above can fail.
    expect(maxRelError(encodeDecode(m2.vae, m2.store, fresh, x, 0).recon, reference.recon)).toBeGreaterThan(1e-2);
  });

  it('takes every VAE parameter, zeroes the label rows, and leaves q(y|x)’s head fresh', () => {
    const names = M2_FROM_VAE.map((e) => e.name).sort();
    expect(names).toEqual(vae.store.parameters.map((p) => p.name).sort());
    for (const p of m2.store.parameters) {
      const values = started.subarray(p.offset, p.offset + p.size);
      if (p.name.startsWith('cls.')) {
        expect(values, p.name).toEqual(fresh.subarray(p.offset, p.offset + p.size));
        continue;
      }
      const from = vae.store.parameters.find((q) => q.name === p.name);
      if (!from) throw new Error(`${p.name}: not in the VAE`);
      expect(values.subarray(0, from.size), p.name).toEqual(vaeParams.subarray(from.offset, from.offset + from.size));
      const labelRows = values.subarray(from.size);
      expect(labelRows.length, p.name).toBe(M2_FROM_VAE.find((e) => e.name === p.name)?.labelRows ? 2 * (p.shape[1] as number) : 0);
      expect(labelRows.every((v) => v === 0), p.name).toBe(true);
    }
  });

  it('refuses a VAE of other sizes, naming the parameter and both shapes', () => {
    const other = buildVae({ ...vs, latent: LATENT + 1 });
    expect(() => m2StartFromVae(m2, other.store, new Float32Array(other.store.total), Float32Array.from(fresh))).toThrow(
      /vae-m2: enc\.mu\.weight is \[56, 3\] in M2, and the pretrained VAE's \[54, 4\] gives \[56, 4\]/,
    );
    expect(() => m2StartFromVae(m2, vae.store, new Float32Array(3), Float32Array.from(fresh))).toThrow(`vae-m2: the pretrained VAE's buffer holds 3 values, its layout ${vae.store.total}`);
  });
});
