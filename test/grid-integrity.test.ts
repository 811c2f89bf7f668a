import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSynthetic } from '../datasets/generateSynthetic.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { type GridPlan, planIdOf } from '../src/cli/grid/gridPlan.ts';
import { runMain, snapshot } from './cliHelpers.ts';

// What collect takes into the tables is what the entries' files stand for
// (docs/RELIABILITY.md): a result.json carries the SHA-256 of its content and
// of the checkpoint it was computed from, and a run of a VAE-reading model
// that of the latents it trained on. A result that is cut short, edited, has
// no checkpoint behind it, or was trained on another VAE is refused by name;
// collect lists it and goes on with the others. A run that reads a VAE never
// trains one of its own because its plan names none.

const root = mkdtempSync(join(tmpdir(), 'sc-gridint-'));
let data = '';
const CELL = 'SYNTHETIC-G';
const grid = (out: string, plan: string): string[] => [
  '--cpu', '--experiment', 'small-data', '--data', data, '--models', 'logreg,vae-mlp', '--sizes', 'all', '--seeds', '1',
  '--epochs', '1', '--vae-epochs', '1', '--latent', '2', '--batch', '16', '--quiet', '--out', out, '--plan', plan,
];
type PlanJson = Record<string, unknown> & { entries: Record<string, unknown>[] };
const readPlan = (file: string): PlanJson => JSON.parse(readFileSync(file, 'utf8')) as PlanJson;
/** An edited plan given a matching identity, as a careless or crafted edit could. */
const withId = (p: Record<string, unknown>): Record<string, unknown> => ({ ...p, planId: planIdOf(p as unknown as GridPlan) });
const sha256 = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** Rewrites a result.json with `change` applied and its content hash recomputed, as anyone can. */
function reseal(file: string, change: (r: Record<string, unknown>) => Record<string, unknown>): void {
  const { sha256: _old, ...r } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const body = change(r);
  writeFileSync(file, `${JSON.stringify({ ...body, sha256: sha256(JSON.stringify(body)) }, null, 2)}\n`);
}

/** A plan written into a new folder `name` under the test's root (its grid in `name`/grid); nothing run yet. */
async function newPlan(name: string): Promise<{ work: string; plan: string; p: PlanJson }> {
  const work = join(root, name);
  mkdirSync(work);
  const plan = join(work, 'plan.json');
  const made = await runMain(grid(join(work, 'grid'), plan));
  expect(made.code, made.stderr).toBe(0);
  return { work, plan, p: readPlan(plan) };
}

beforeAll(async () => {
  const d = join(root, 'data');
  mkdirSync(d);
  await writeSynthetic(d, { genes: 40, seed: 23, bins: 6, cell: CELL });
  data = join(d, CELL);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a run that reads a VAE never trains its own', () => {
  it('an entry whose VAE entry is missing, or names an entry that is not its VAE, is refused by name; nothing is written', async () => {
    const { work, p } = await newPlan('after');
    expect(p.entries[2]).toMatchObject({ kind: 'run', model: 'vae-mlp', after: 0 });
    const what = `entry 2 (vae-mlp on ${CELL}, all labeled genes, seed 1) reads the VAE of ${CELL}, seed 1 but`;
    const cases: [string, Record<string, unknown>, string][] = [
      ['removed', (({ after: _a, ...e }) => e)(p.entries[2] as Record<string, unknown>), `${what} names no VAE entry to wait for ("after" is missing)`],
      ['nowhere', { ...p.entries[2], after: 7 }, `${what} names entry 7 as its VAE, which the plan does not hold`],
      ['not-a-vae', { ...p.entries[2], after: 1 }, `${what} names entry 1 as its VAE, which is logreg on ${CELL}, all labeled genes, seed 1`],
    ];
    for (const [name, entry, message] of cases) {
      const edited = join(work, `${name}.json`);
      writeFileSync(edited, JSON.stringify(withId({ ...p, entries: p.entries.map((e, i) => (i === 2 ? entry : e)) })));
      const before = snapshot(root);
      for (const argv of [['job', '--plan', edited, '--index', '2', '--quiet'], ['collect', '--plan', edited]]) {
        const r = await runMain(argv);
        expect(r.code, `${name}: ${argv[0]}`).toBe(1);
        expect(r.stderr, `${name}: ${argv[0]}`).toBe(`simplechrome: ${edited}: ${message}; the plan was edited: write a new plan\n`);
      }
      expect(snapshot(root)).toEqual(before);
    }
  }, 120_000);
});

describe('collect takes only results that stand on their files', () => {
  const work = join(root, 'collect');
  const out = join(work, 'grid');
  const plan = join(work, 'plan.json');
  let entries: string[] = [];
  const dirOf = (i: number): string => join(out, entries[i] as string);
  beforeAll(async () => {
    entries = (await newPlan('collect')).p.entries.map((e) => String(e.dir));
    for (const i of [0, 1, 2]) {
      const r = await runMain(['job', '--plan', plan, '--index', String(i), '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    const r = await runMain(['collect', '--plan', plan]);
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  /** Collect with entry 1's folder damaged by `damage`: entry 1 is listed with `why`, the others are collected; entries/ is left as it was. */
  async function collectsWithout(damage: () => void, why: string): Promise<void> {
    const saved = snapshot(dirOf(1));
    const keep = Object.fromEntries(Object.keys(saved).map((f) => [f, readFileSync(join(dirOf(1), f))]));
    damage();
    try {
      const before = snapshot(join(out, 'entries'));
      const r = await runMain(['collect', '--plan', plan]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`collect: 1 of 2 runs finished; the tables leave out what these entries would add:\n  1  logreg on ${CELL}, all labeled genes, seed 1: refused: ${why} (${dirOf(1)})\n`);
      expect(r.stderr).toContain(`a refused result.json is never replaced: move it out of its folder to run the entry again`);
      const rows = readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n').slice(1);
      expect(rows.map((l) => l.split(',')[1])).toEqual(['vae-mlp']);
      expect(snapshot(join(out, 'entries'))).toEqual(before);
    } finally {
      rmSync(dirOf(1), { recursive: true });
      mkdirSync(dirOf(1));
      for (const [f, bytes] of Object.entries(keep)) writeFileSync(join(dirOf(1), f), bytes);
    }
    const again = await runMain(['collect', '--plan', plan]);
    expect(again.code, again.stderr).toBe(0);
  }

  it('a result.json cut short is named and left out; the others are collected', async () => {
    const file = join(dirOf(1), 'result.json');
    const text = readFileSync(file, 'utf8');
    await collectsWithout(() => writeFileSync(file, text.slice(0, 60)), `${file}: not readable as JSON (Unterminated string in JSON at position 60): it was cut short or edited`);
  }, 60_000);

  it('a result.json whose line was edited no longer matches its hash', async () => {
    const file = join(dirOf(1), 'result.json');
    const r = JSON.parse(readFileSync(file, 'utf8')) as { line: string };
    const edited = JSON.stringify({ ...r, line: r.line.replace(/,0\.\d+/, ',0.999') }, null, 2);
    expect(edited).not.toBe(JSON.stringify(r, null, 2));
    await collectsWithout(() => writeFileSync(file, edited), `${file}: its content does not match its hash: it was edited or damaged`);
  }, 60_000);

  it('a result with no checkpoint behind it is refused by name, and neither job nor slurm runs over it', async () => {
    const file = join(dirOf(1), 'result.json');
    await collectsWithout(() => renameSync(join(dirOf(1), 'best.safetensors'), join(work, 'moved.safetensors')), `${file}: no checkpoint behind it: best.safetensors is missing from ${dirOf(1)}`);
    renameSync(join(dirOf(1), 'best.safetensors'), join(work, 'moved.safetensors'));
    const before = snapshot(work);
    const job = await runMain(['job', '--plan', plan, '--index', '1', '--quiet']);
    expect(job.code).toBe(1);
    expect(job.stderr).toBe(
      `simplechrome: job: entry 1 (logreg on ${CELL}, all labeled genes, seed 1): ${file}: no checkpoint behind it: best.safetensors is missing from ${dirOf(1)}; ` +
        `nothing was changed: move result.json out of ${dirOf(1)} to run the entry again\n`,
    );
    expect(snapshot(work)).toEqual(before);
    // Nor does slurm submit it: it names it, and with nothing else left says so and exits 1.
    const slurm = await runMain(['slurm', '--plan', plan]);
    expect(slurm.code).toBe(1);
    expect(slurm.stderr).toBe(
      `slurm: entry 1 is not submitted: ${file}: no checkpoint behind it: best.safetensors is missing from ${dirOf(1)}; move it away to run the entry again\n` +
        `slurm: nothing to submit: every other entry of ${plan} has finished; the entry named above has a refused result\n`,
    );
    renameSync(join(work, 'moved.safetensors'), join(dirOf(1), 'best.safetensors'));
  }, 60_000);

  it('a made-up result, content hash and all, is refused with no checkpoint behind it, or with one copied from another entry', async () => {
    // Entry 1 of a plan nobody ran: a result.json written by hand with a hash recomputed.
    const { work: fresh, plan: freshPlan, p } = await newPlan('made-up');
    const dir = join(fresh, 'grid', String(p.entries[1]?.dir));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'result.json');
    const line = JSON.parse(readFileSync(join(dirOf(1), 'result.json'), 'utf8')) as { line: string };
    writeFileSync(file, '{}');
    reseal(file, () => ({ planId: p.planId, index: 1, kind: 'run', line: line.line, device: 'CPU', seconds: 1, checkpoint: { file: 'best.safetensors', sha256: '0'.repeat(64) } }));
    const before = snapshot(fresh);
    const r = await runMain(['collect', '--plan', freshPlan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`collect: none of the 2 runs of ${freshPlan} could be collected:\n`);
    expect(r.stderr).toContain(`  1  logreg on ${CELL}, all labeled genes, seed 1: refused: ${file}: no checkpoint behind it: best.safetensors is missing from ${dir} (${dir})\n`);
    expect(snapshot(fresh)).toEqual(before);
    // Nor does a checkpoint copied in from another plan's entry, its hash put into the result: it names another run.
    const theirs = readFileSync(join(dirOf(1), 'best.safetensors'));
    writeFileSync(join(dir, 'best.safetensors'), theirs);
    reseal(file, (r) => ({ ...r, checkpoint: { file: 'best.safetensors', sha256: sha256(theirs) } }));
    const copied = await runMain(['collect', '--plan', freshPlan]);
    expect(copied.code).toBe(1);
    const other = `${String(readPlan(plan).planId)}-1`;
    expect(copied.stderr).toContain(
      `  1  logreg on ${CELL}, all labeled genes, seed 1: refused: ${file}: ${join(dir, 'best.safetensors')} was written by run ${other}, not by this entry's (${String(p.planId)}-1): it was copied here (${dir})\n`,
    );
  }, 60_000);

  it('a run trained on latents its VAE entry no longer holds is refused, even when the VAE’s own result was resealed', async () => {
    const vaeDir = dirOf(0);
    const latents = join(vaeDir, 'latents.safetensors');
    const keep = readFileSync(latents);
    const keepResult = readFileSync(join(vaeDir, 'result.json'));
    // The VAE entry run again into other latents, its result rewritten to match: the run's result still names the old ones.
    const f = decodeSafetensors(keep, latents);
    const tensors = [...f.tensors].map(([name, t]) => ({ name, shape: t.shape, data: name === 'latent_mean' ? Float32Array.from(t.data, (v) => v + 1) : t.data }));
    const other = encodeSafetensors(tensors, f.metadata);
    writeFileSync(latents, other);
    reseal(join(vaeDir, 'result.json'), (r) => ({ ...r, checkpoint: { file: 'latents.safetensors', sha256: sha256(other) } }));
    try {
    const before = snapshot(join(out, 'entries'));
    const r = await runMain(['collect', '--plan', plan]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`  2  vae-mlp on ${CELL}, all labeled genes, seed 1: refused: ${join(dirOf(2), 'result.json')}: was not trained on the VAE that entry 0 holds now (${latents}): run entry 2 again (${dirOf(2)})\n`);
    expect(readFileSync(join(out, 'small-data.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1])).toEqual(['logreg']);
    expect(snapshot(join(out, 'entries'))).toEqual(before);
    } finally {
    writeFileSync(latents, keep);
    writeFileSync(join(vaeDir, 'result.json'), keepResult);
    }
  }, 60_000);
});
