import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNEL_FAMILIES } from '../src/kernels/families.ts';
import { counterFamily } from '../src/kernels/counter.cases.ts';
import { elementCount } from '../src/kernels/kernel.ts';
import { runCheck, selfCheck } from '../src/plan/selfCheck.ts';
import { getGpu } from './helpers.ts';

// The families list (src/kernels/families.ts) is what `--self-check`, this
// test and bench/kernels.ts iterate: every family's checks run here, GPU
// against the CPU twin with every output poisoned first (runOnBoth), and no
// kernel factory module may be left off the list.

/** Modules in src/kernels that build no kernel family of their own. */
const NOT_FAMILIES = new Set([
  'kernel', // the contract every family fulfils
  'gemm', // the GEMM core matmul and conv1d run on
  'gpuTarget', // what a kernel asks of the device
  'batchLoss', // the shared body of bce and mse
  'family', // what a family declares
  'families', // the list itself
]);

describe('every kernel family, GPU against CPU', () => {
  for (const family of KERNEL_FAMILIES) {
    family.checks().forEach((check, i) => {
      it(`${family.name} #${i}: ${check.kernel.name}`, async () => {
        const r = await runCheck(await getGpu(), check);
        expect(r.error, `max rel error, tolerance ${check.tolerance}`).toBeLessThanOrEqual(check.tolerance);
      });
    });
  }
});

describe('the families list', () => {
  it('names every kernel factory module in src/kernels, once', () => {
    const dir = new URL('../src/kernels/', import.meta.url);
    const modules = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.cases.ts'))
      .map((f) => f.slice(0, -'.ts'.length))
      .filter((m) => !NOT_FAMILIES.has(m));
    const names = KERNEL_FAMILIES.map((f) => f.name);
    expect(new Set(names).size, 'no family listed twice').toBe(names.length);
    for (const m of modules) expect(names, `src/kernels/${m}.ts builds kernels but is not in src/kernels/families.ts`).toContain(m);
    for (const n of names) expect(modules, `family ${n} has no factory module src/kernels/${n}.ts`).toContain(n);
  });

  it('gives every family at least one check', () => {
    for (const f of KERNEL_FAMILIES) expect(f.checks().length, f.name).toBeGreaterThan(0);
  });

  it("builds every bench case with an input for each slot it only reads and an output it writes", () => {
    const sizes = { batch: 37, maxSquare: 64, vaeParameters: 1001 };
    const cases = KERNEL_FAMILIES.flatMap((f) => (f.bench?.(sizes) ?? []).map((c) => ({ family: f.name, c })));
    expect(new Set(cases.map(({ family }) => family))).toEqual(new Set(['matmul', 'conv1d', 'elbo', 'adam']));
    for (const { family, c } of cases) {
      const { kernel, inputs } = c.build();
      for (const [slot, spec] of Object.entries(kernel.slots)) {
        if (spec.access === 'read') expect(inputs[slot]?.length, `${family} ${c.name}: ${slot}`).toBe(elementCount(spec.shape));
      }
      expect(kernel.slots[c.output]?.access, `${family} ${c.name}: output ${c.output}`).toBe('read_write');
    }
  });

  it('self-check reports each check by family and kernel', async () => {
    const results = await selfCheck(await getGpu(), [counterFamily]);
    expect(results.map((r) => [r.family, r.kernel, r.ok])).toEqual([
      ['counter', 'counter.increment', true],
      ['counter', 'counter.increment[step,cursor]', true],
    ]);
  });
});
