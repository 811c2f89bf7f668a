import { describe, expect, it } from 'vitest';
import { describeTimings } from '../src/plan/autotune.ts';
import { DEFAULT_RACE, type RaceTimers, raceVariants, spreadOf } from '../src/plan/variantRace.ts';

/** Timers that hand out scripted times per variant, in order, and log every call. */
function scripted(probes: Record<string, number | undefined>, times: Record<string, readonly number[]>): RaceTimers<string> & { calls: string[] } {
  const next = new Map<string, number>();
  const calls: string[] = [];
  return {
    calls,
    probe: async (v) => {
      calls.push(`probe ${v}`);
      return probes[v];
    },
    time: async (v) => {
      calls.push(`time ${v}`);
      const i = next.get(v) ?? 0;
      next.set(v, i + 1);
      const list = times[v];
      if (!list || list.length === 0) throw new Error(`no scripted time for ${v}`);
      return list[Math.min(i, list.length - 1)] as number;
    },
  };
}

describe('deciding between GEMM variants from timings', () => {
  it('does not keep a lucky first timing that the interleaved rounds contradict (the 512³ case: 4x8 at 208 ms against 8x4 at 109)', async () => {
    // register4x8's ranking pass was lucky (100 ms); every later timing says 208, while register8x4 runs 109.
    const timers = scripted(
      { register4x8: 120, register8x4: 130, register8x8: 140 },
      { register4x8: [100, 208, 210, 205, 207, 209], register8x4: [150, 109, 111, 108, 110, 112], register8x8: [250, 240, 250, 245, 244, 246] },
    );
    const r = await raceVariants(['register4x8', 'register8x4', 'register8x8'], timers);
    expect(r.winner).toBe('register8x4');
    // register8x8's ranking (250) is more than 2× the best (100): not a leader.
    expect(r.leaders.map((l) => l.variant)).toEqual(['register8x4', 'register4x8']);
    expect(r.leaders[0]).toEqual({ variant: 'register8x4', min: 108, median: 110, max: 112, n: 5 });
  });

  it('cuts a variant after its probe when it is far behind the best probe, whatever the order, and never times it again', async () => {
    // slow is probed first, before the best probe is known; a scripted time of 1 would win if it were ever timed.
    const timers = scripted({ slow: 50, fast: 10, near: 12 }, { fast: [10], near: [11], slow: [1] });
    const r = await raceVariants(['slow', 'fast', 'near'], timers);
    expect(timers.calls.filter((c) => c.endsWith('slow'))).toEqual(['probe slow']);
    expect(r.candidates.find((c) => c.variant === 'slow')).toEqual({ variant: 'slow', probe: 50 });
    expect(r.winner).toBe('fast');
    expect(r.leaders.map((l) => [l.variant, l.median])).toEqual([['fast', 10], ['near', 11]]);
  });

  it('times again only the leaders: at most maxLeaders within leaderFactor of the best ranking, in rotating order', async () => {
    const timers = scripted(
      { a: 1, b: 1, c: 1, d: 1, e: 1 },
      { a: [10, 10], b: [11, 11], c: [12, 12], d: [13, 13], e: [21, 21] },
    );
    const r = await raceVariants(['a', 'b', 'c', 'd', 'e'], timers, { ...DEFAULT_RACE, rounds: 2 });
    expect(r.leaders.map((l) => l.variant)).toEqual(['a', 'b', 'c']);
    const rounds = timers.calls.slice(10);
    expect(rounds).toEqual(['time a', 'time b', 'time c', 'time b', 'time c', 'time a']);
    expect(r.candidates.find((c) => c.variant === 'e')).toEqual({ variant: 'e', probe: 1, ranking: 21 });
    expect(r.candidates.find((c) => c.variant === 'd')?.rounds).toBeUndefined();
  });

  it('skips a variant that cannot run, and says so when none can', async () => {
    const one = await raceVariants(['x', 'y'], scripted({ x: undefined, y: 5 }, { y: [5] }));
    expect(one.winner).toBe('y');
    expect(one.candidates[0]).toEqual({ variant: 'x', probe: undefined });
    const none = await raceVariants(['x'], scripted({ x: undefined }, {}));
    expect(none).toEqual({ winner: undefined, candidates: [{ variant: 'x', probe: undefined }], leaders: [] });
  });

  it('stops when its time is up, at any stage, overrunning by at most the timing under way, and decides nothing', async () => {
    const probes = { register4x8: 120, register8x4: 130 };
    const times = { register4x8: [100, 101, 102, 103, 104, 105], register8x4: [150, 151, 152, 153, 154, 155] };
    const all = scripted(probes, times);
    await raceVariants(['register4x8', 'register8x4'], all);
    // Out of time after each number of timings: the race makes no call past that point, and has no winner.
    for (let allowed = 0; allowed < all.calls.length; allowed++) {
      const timers = scripted(probes, times);
      const r = await raceVariants(['register4x8', 'register8x4'], { ...timers, outOfTime: () => timers.calls.length >= allowed });
      expect(timers.calls, `after ${allowed}`).toEqual(all.calls.slice(0, allowed));
      expect(r).toEqual({ winner: undefined, candidates: [], leaders: [], abandoned: true });
    }
    // Never out of time: the same race as without the check.
    const timers = scripted(probes, times);
    const r = await raceVariants(['register4x8', 'register8x4'], { ...timers, outOfTime: () => false });
    expect(timers.calls).toEqual(all.calls);
    expect(r.winner).toBe('register4x8');
  });

  it('refuses factors below 1 and counts below 1, naming what it got', async () => {
    await expect(raceVariants(['x'], scripted({ x: 1 }, { x: [1] }), { ...DEFAULT_RACE, cutFactor: 0.5 })).rejects.toThrow(
      'raceVariants: factors must be ≥ 1 and counts ≥ 1, got {"cutFactor":0.5,"leaderFactor":2,"maxLeaders":3,"rounds":5}',
    );
  });

  it('a spread is min, median (mean of the middle two when even) and max', () => {
    expect(spreadOf([3, 1, 2])).toEqual({ min: 1, median: 2, max: 3, n: 3 });
    expect(spreadOf([4, 1, 2, 3])).toEqual({ min: 1, median: 2.5, max: 4, n: 4 });
    expect(() => spreadOf([])).toThrow('spreadOf: no samples');
  });

  it('the log line gives each leader its spread, the others their one time, and what cannot run', () => {
    expect(
      describeTimings([
        { variant: 'register8x4', ms: 110, spread: { min: 108, median: 110, max: 112, n: 5 } },
        { variant: 'register4x8', ms: 207, spread: { min: 205, median: 207, max: 210, n: 5 } },
        { variant: 'tiled64', ms: 300 },
        { variant: 'splitk4x4', ms: undefined },
      ]),
    ).toBe(
      'register8x4 median 110.0 (min 108.0, max 112.0) ms over 5, register4x8 median 207.0 (min 205.0, max 210.0) ms over 5; ' +
        'others: tiled64 300.0 ms; cannot run: splitk4x4',
    );
  });
});
