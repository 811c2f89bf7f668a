import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A single-node Slurm on localhost for the tests: munged, slurmctld and
// slurmd started as daemons with the configuration in test/slurm/, every
// file (key, socket, state, logs, pid files) under `dir`. Debian's slurm-wlm
// and munge packages, which scripts/setup.sh installs.

const TEMPLATE = fileURLToPath(new URL('./slurm/slurm.conf.in', import.meta.url));
const DAEMONS = ['munged', 'slurmctld', 'slurmd'] as const;
const CLIENTS = ['sbatch', 'squeue', 'scancel', 'sinfo'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function which(cmd: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin']) {
    if (d !== '' && existsSync(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export interface SlurmCluster {
  readonly dir: string;
  /** The environment Slurm's commands need (SLURM_CONF). */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command; its stdout. */
  run(cmd: (typeof CLIENTS)[number], args: readonly string[]): string;
  /** Job ids still queued or running. */
  queued(): string[];
  /** Waits until nothing is queued or running (at most `seconds`). */
  drain(seconds: number): Promise<void>;
  /** Cancels what is left and stops every daemon it started. */
  stop(): Promise<void>;
}

/** Starts the cluster in a new temporary directory (removed by stop()). */
export async function startSlurm(): Promise<SlurmCluster> {
  const missing = [...DAEMONS, ...CLIENTS].filter((c) => which(c) === undefined);
  if (missing.length > 0) throw new Error(`Slurm is not installed here (${missing.join(', ')} not found): run bash scripts/setup.sh, which installs slurm-wlm and munge`);
  if (process.getuid?.() !== 0) throw new Error('the Slurm tests start slurmd, which must run as root to start jobs (the configuration in test/slurm/ says SlurmUser=root); run them as root');
  // munged refuses a socket whose directories are not open to every user (clients connect as themselves).
  const dir = mkdtempSync(join(tmpdir(), 'sc-slurmd-'));
  chmodSync(dir, 0o755);
  const munge = join(dir, 'munge');
  for (const d of [munge, join(dir, 'state'), join(dir, 'spool')]) mkdirSync(d, { recursive: true, mode: 0o755 });
  // munged wants its key readable by its user only.
  writeFileSync(join(munge, 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const host = hostname().split('.')[0] as string;
  const fill: Record<string, string> = { DIR: dir, HOST: host, CPUS: String(cpus().length), CTLD_PORT: String(await freePort()), SLURMD_PORT: String(await freePort()) };
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, readFileSync(TEMPLATE, 'utf8').replace(/@([A-Z_]+)@/g, (_, k: string) => fill[k] ?? `@${k}@`));
  const env = { ...process.env, SLURM_CONF: conf };
  const pidFiles: string[] = [];
  const start = (cmd: string, args: readonly string[], pidFile: string, log: string): void => {
    const r = spawnSync(which(cmd) as string, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} did not start (exit ${r.status}): ${r.stderr}${existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : ''}`);
    pidFiles.push(pidFile);
  };
  const cluster: SlurmCluster = {
    dir,
    env,
    run: (cmd, args) => execFileSync(which(cmd) as string, args, { env, encoding: 'utf8' }),
    queued: () => cluster.run('squeue', ['-h', '-o', '%i']).split('\n').filter((l) => l.trim() !== ''),
    drain: async (seconds) => {
      const until = Date.now() + seconds * 1000;
      while (cluster.queued().length > 0) {
        if (Date.now() > until) throw new Error(`Slurm jobs still queued after ${seconds} s:\n${cluster.run('squeue', [])}`);
        await sleep(500);
      }
    },
    stop: async () => {
      try {
        const left = cluster.queued();
        if (left.length > 0) {
          cluster.run('scancel', left);
          await cluster.drain(20).catch(() => {});
        }
      } catch {
        // The controller may be the daemon that failed; the daemons are stopped below all the same.
      }
      for (const file of [...pidFiles].reverse()) {
        const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
        if (!Number.isInteger(pid) || pid <= 0) continue;
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          continue;
        }
        for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    start('munged', [`--key-file=${join(munge, 'munge.key')}`, `--socket=${join(munge, 'munge.socket')}`, `--pid-file=${join(munge, 'munged.pid')}`, `--log-file=${join(munge, 'munged.log')}`, `--seed-file=${join(munge, 'munged.seed')}`], join(munge, 'munged.pid'), join(munge, 'munged.log'));
    start('slurmctld', ['-f', conf, '-i'], join(dir, 'slurmctld.pid'), join(dir, 'slurmctld.log'));
    start('slurmd', ['-f', conf, '-N', host], join(dir, 'slurmd.pid'), join(dir, 'slurmd.log'));
    const until = Date.now() + 60_000;
    for (;;) {
      let state = '';
      try {
        state = cluster.run('sinfo', ['-h', '-o', '%t']).trim();
      } catch {
        // slurmctld not answering yet
      }
      if (state === 'idle' || state === 'mix' || state === 'alloc') break;
      if (Date.now() > until) throw new Error(`the Slurm node did not come up (state "${state}"); slurmd.log:\n${readFileSync(join(dir, 'slurmd.log'), 'utf8').slice(-2000)}`);
      await sleep(300);
    }
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
