import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../util/packageRoot.ts';
import { writeFileAtomically } from '../../util/atomicFile.ts';
import type { SlurmOptions } from './gridArgs.ts';
import { type GridPlan, type PlanEntry, planOptions, readGridPlan } from './gridPlan.ts';
import { entryStatus } from './gridJob.ts';
import { err } from '../session/session.ts';
import { COMMAND, COMMAND_TO_TYPE } from '../flags/commandName.ts';

// The plan as Slurm job arrays: one array of the VAE entries, and one of the
// runs that the scheduler starts only once every VAE task has succeeded
// (afterok), so no task ever waits by polling. Each array covers only the
// entries not finished yet, so submitting again after a failure or a
// cancellation runs just what is left. Nothing here is one cluster's: the
// partition, account, time, GPU request and memory are flags.

/** Slurm's array syntax for sorted task ids: ranges where they run on, and `%cap`. */
export function arraySpec(ids: readonly number[], cap: number): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && (ids[j + 1] as number) === (ids[j] as number) + 1) j++;
    parts.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return `${parts.join(',')}%${cap}`;
}

interface ArrayScript {
  readonly name: string;
  readonly file: string;
  readonly kind: PlanEntry['kind'];
  readonly entries: number;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function script(plan: GridPlan, planFile: string, o: SlurmOptions, name: string, offset: number, ids: readonly number[]): string {
  const sbatch = [
    `--job-name=${name}`,
    `--array=${arraySpec(ids, o.maxRunning)}`,
    // One log per task, named by the entry's array job and task; a resubmitted task appends to a fresh file.
    `--output=${join(plan.root, 'logs', `${name}-%A_%a.log`)}`,
    '--ntasks=1',
    ...(o.cpusPerTask !== undefined ? [`--cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.mem !== undefined ? [`--mem=${o.mem}`] : []),
    ...(o.partition !== undefined ? [`--partition=${o.partition}`] : []),
    ...(o.account !== undefined ? [`--account=${o.account}`] : []),
    ...(o.time !== undefined ? [`--time=${o.time}`] : []),
    ...(o.gres !== undefined ? [`--gres=${o.gres}`] : []),
  ];
  return [
    '#!/bin/bash',
    ...sbatch.map((f) => `#SBATCH ${f}`),
    `# Written by: ${COMMAND} slurm --plan ${planFile}. Each task runs entry ${offset} + $SLURM_ARRAY_TASK_ID of the plan;`,
    '# a finished entry is skipped and an interrupted one continues from its last checkpoint.',
    'set -euo pipefail',
    `cd ${quote(PACKAGE_ROOT)}`,
    // The node binary that wrote the scripts, unless the cluster's differs ($SIMPLECHROME_NODE, exported by sbatch),
    // runs the package's command: run.ts through tsx in a checkout, the built command in an installed package.
    `exec "\${SIMPLECHROME_NODE:-${process.execPath}}" ${quote(join(PACKAGE_ROOT, 'bin', 'simplechrome.js'))} job --plan ${quote(planFile)} --offset ${offset}`,
    '',
  ].join('\n');
}

export async function writeSlurmScripts(o: SlurmOptions): Promise<number> {
  const planFile = resolve(o.plan);
  const plan = readGridPlan(planFile);
  const dir = join(plan.root, 'slurm');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(plan.root, 'logs'), { recursive: true });
  const options = planOptions(plan, planFile);
  // An entry whose result.json is refused is not submitted (its job would refuse it too): it is named here, and by collect.
  const left: PlanEntry[] = [];
  let refused = 0;
  for (const e of plan.entries) {
    const status = entryStatus(plan, options, e);
    if (status === undefined) left.push(e);
    else if ('refused' in status) {
      refused++;
      err(`slurm: entry ${e.index} is not submitted: ${status.refused}; move it away to run the entry again`);
    }
  }
  const arrays: ArrayScript[] = [];
  for (const kind of ['vae', 'run'] as const) {
    const mine = left.filter((e) => e.kind === kind).map((e) => e.index);
    if (mine.length === 0) continue;
    // Task ids count from the first entry of the kind and stay below MaxArraySize: a larger grid gets several arrays.
    const first = plan.entries.findIndex((e) => e.kind === kind);
    const chunks = new Map<number, number[]>();
    for (const index of mine) {
      const chunk = Math.floor((index - first) / (o.maxArraySize - 1));
      chunks.set(chunk, [...(chunks.get(chunk) ?? []), index]);
    }
    for (const [chunk, indices] of chunks) {
      const offset = first + chunk * (o.maxArraySize - 1);
      const name = `sc-${kind === 'vae' ? 'vae' : 'runs'}${chunks.size > 1 || chunk > 0 ? `-${chunk}` : ''}`;
      const file = join(dir, `${name}.sbatch`);
      await writeFileAtomically(file, script(plan, planFile, o, name, offset, indices.map((i) => i - offset)));
      arrays.push({ name, file, kind, entries: indices.length });
    }
  }
  if (arrays.length === 0 && refused > 0) {
    err(`slurm: nothing to submit: every other entry of ${planFile} has finished; ${refused === 1 ? 'the entry named above has' : `the ${refused} entries named above have`} a refused result`);
    return 1;
  }
  if (arrays.length === 0) {
    process.stdout.write(`every entry of ${planFile} has finished: nothing to submit; write the tables with: ${COMMAND_TO_TYPE} collect --plan ${planFile}\n`);
    return 0;
  }
  const vae = arrays.filter((a) => a.kind === 'vae');
  const submit = [
    '#!/bin/bash',
    `# Submits the unfinished entries of ${planFile}: the VAE arrays, then the run arrays after them (afterok).`,
    'set -euo pipefail',
    'after=""',
    ...vae.map((a) => `id=$(sbatch --parsable ${quote(a.file)}); id=\${id%%;*}; after="$after:$id"; echo "${a.name}: job $id (${a.entries} VAE entries)"`),
    ...arrays
      .filter((a) => a.kind === 'run')
      .map((a) => `id=$(sbatch --parsable \${after:+--dependency=afterok$after --kill-on-invalid-dep=yes} ${quote(a.file)}); id=\${id%%;*}; echo "${a.name}: job $id (${a.entries} runs\${after:+, after$after})"`),
    '',
  ].join('\n');
  const submitFile = join(dir, 'submit.sh');
  await writeFileAtomically(submitFile, submit);
  process.stdout.write(`wrote ${arrays.map((a) => a.file).join(', ')} and ${submitFile} (${left.length} of ${plan.entries.length} entries left)\n`);
  if (!o.submit) {
    process.stdout.write(`submit with: bash ${submitFile}   (or: ${COMMAND_TO_TYPE} slurm --plan ${o.plan} --submit)\n`);
    return 0;
  }
  const r = spawnSync('bash', [submitFile], { encoding: 'utf8' });
  if (r.error) throw new Error(`could not run ${submitFile}: ${r.error.message}`);
  process.stdout.write(r.stdout);
  if (r.status !== 0) {
    err(r.stderr.trim());
    throw new Error(`sbatch failed (exit ${r.status}): ${r.stderr.includes('command not found') ? 'sbatch is not installed here; run this on a Slurm login node' : 'see the lines above'}`);
  }
  process.stdout.write(`follow with: squeue --me; logs in ${join(plan.root, 'logs')}; when done: ${COMMAND_TO_TYPE} collect --plan ${o.plan}\n`);
  return 0;
}
