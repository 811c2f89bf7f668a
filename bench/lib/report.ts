import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import type { Gpu } from '../../src/gpu/device.ts';

// What every bench prints around its tables: when, which commit, which
// adapter, how loaded the machine was; and the tables themselves, in
// Markdown so that a run pastes straight into bench/RESULTS.md.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The commit: SIMPLECHROME_COMMIT (set by the device pack, which has no .git), else
 * git's, with "+dirty" when the working tree has changes the numbers may owe to. */
export function commitId(): string {
  if (process.env.SIMPLECHROME_COMMIT) return process.env.SIMPLECHROME_COMMIT;
  const git = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const head = git(['rev-parse', '--short', 'HEAD']);
    return git(['status', '--porcelain']) === '' ? head : `${head}+dirty`;
  } catch {
    return 'unknown';
  }
}

export interface RunInfo {
  readonly date: string;
  readonly commit: string;
  readonly adapter: string;
  readonly software: boolean;
  readonly timestamps: boolean;
  readonly node: string;
  readonly cpu: string;
  readonly load: readonly number[];
}

export function runInfo(gpu: Gpu): RunInfo {
  const c = cpus();
  return {
    date: new Date().toISOString().slice(0, 10),
    commit: commitId(),
    adapter: gpu.adapterName,
    software: gpu.isSoftware,
    timestamps: gpu.hasTimestamps,
    node: process.version,
    cpu: `${c[0]?.model.trim() ?? 'unknown CPU'} × ${c.length}`,
    load: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function describeRun(info: RunInfo, loadAtEnd?: readonly number[]): string {
  const lines = [
    `date ${info.date} · commit ${info.commit} · adapter ${info.adapter}${info.timestamps ? ' (timestamp-query)' : ''}`,
    `Node ${info.node} · ${info.cpu} · load average ${info.load.join(' ')} at start${loadAtEnd ? `, ${loadAtEnd.map((x) => x.toFixed(2)).join(' ')} at end` : ''}`,
  ];
  if (info.software) {
    lines.push(
      'SOFTWARE ADAPTER (SwiftShader: Vulkan on the CPU). Ratios between engines on this adapter are meaningful; absolute numbers are not GPU results.',
    );
  }
  return lines.join('\n');
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(width[i] as number)).join(' | ')} |`;
  return [line(header), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Three significant figures, without exponent for the sizes benches print. */
export function sig(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(digits, 6));
}

export function ratio(ours: number | undefined, theirs: number | undefined): string {
  if (ours === undefined || theirs === undefined || !(ours > 0) || !(theirs > 0)) return '—';
  return `${sig(ours / theirs)}×`;
}

/** A flag parser for `--name value` and `--name` (boolean) flags, with errors naming the flag. */
export class Flags {
  private readonly values = new Map<string, string | true>();

  constructor(
    readonly program: string,
    argv: readonly string[],
    private readonly known: Readonly<Record<string, 'value' | 'switch'>>,
  ) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i] as string;
      const kind = known[a];
      if (kind === undefined) throw new Error(`${program}: unknown flag "${a}" (known: ${Object.keys(known).join(', ')})`);
      if (kind === 'switch') this.values.set(a, true);
      else {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${program}: ${a} needs a value`);
        this.values.set(a, v);
      }
    }
  }

  has(flag: string): boolean {
    return this.values.has(flag);
  }

  string(flag: string): string | undefined {
    const v = this.values.get(flag);
    return typeof v === 'string' ? v : undefined;
  }

  int(flag: string, fallback: number, min = 1): number {
    const v = this.string(flag);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${this.program}: ${flag} needs an integer ≥ ${min}, got "${v}"`);
    return n;
  }

  list(flag: string, fallback: readonly string[], allowed?: readonly string[]): string[] {
    const v = this.string(flag);
    if (v === undefined) return [...fallback];
    const items = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new Error(`${this.program}: ${flag} needs a comma-separated list`);
    for (const it of items) {
      if (allowed && !allowed.includes(it)) throw new Error(`${this.program}: ${flag}: unknown "${it}" (known: ${allowed.join(', ')})`);
    }
    return items;
  }

  ints(flag: string, fallback: readonly number[]): number[] {
    return this.list(flag, fallback.map(String)).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${this.program}: ${flag} needs positive integers, got "${s}"`);
      return n;
    });
  }
}
