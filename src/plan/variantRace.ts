// How the autotuner decides between a GEMM's variants from timings, apart from
// how they are timed, so the decision can be tested on made-up timings.
//
// One timing on a shared machine can be off by 2× either way (a descheduled
// SwiftShader thread stalls a whole dispatch), and keeping the best of a few
// passes per variant rewards whichever variant got the one lucky pass: a 512³
// matmul once cached register4x8 at 208 ms while register8x4 ran 109 ms in the
// same run. So: a cheap probe cuts what is far behind, one timed pass ranks
// the rest, and the few leaders are timed again in interleaved rounds (each
// round visits every leader, in a rotating order, so a slow spell of the
// machine falls on all of them); the leader with the lowest median wins.

export interface RaceOptions {
  /** A variant whose probe is this many times the best probe so far is not timed further. */
  readonly cutFactor: number;
  /** Variants whose ranking time is within this factor of the best are timed again. */
  readonly leaderFactor: number;
  /** At most this many leaders (the fastest by the ranking pass). */
  readonly maxLeaders: number;
  /** Interleaved rounds over the leaders. */
  readonly rounds: number;
}

export const DEFAULT_RACE: RaceOptions = { cutFactor: 4, leaderFactor: 2, maxLeaders: 3, rounds: 5 };

/** How a candidate fared; times in ms per call. */
export interface CandidateRecord<V> {
  readonly variant: V;
  /** Undefined when the variant cannot run the shape. */
  readonly probe: number | undefined;
  /** Set unless the probe cut it (or it cannot run). */
  readonly ranking?: number;
  /** Leaders only: every interleaved round's time, in the order measured. */
  readonly rounds?: readonly number[];
}

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

export interface RaceResult<V> {
  /** Undefined when no candidate could run. */
  readonly winner: V | undefined;
  readonly candidates: readonly CandidateRecord<V>[];
  /** Leaders only, in the order they finished (fastest median first). */
  readonly leaders: readonly (Spread & { readonly variant: V })[];
  /** The race stopped when time was up (RaceTimers.outOfTime), before it could decide: no winner. */
  readonly abandoned?: true;
}

export interface RaceTimers<V> {
  /** One cheap timing (a single call); undefined when the variant cannot run the shape. */
  probe(variant: V): Promise<number | undefined>;
  /** One careful timing (a pass long enough to swamp the clock's granularity), ms per call. */
  time(variant: V): Promise<number>;
  /** True once the caller's time for the race is up: checked before every timing, so a race overruns it by one. */
  outOfTime?(): boolean;
}

export function spreadOf(samples: readonly number[]): Spread {
  if (samples.length === 0) throw new Error('spreadOf: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { min: s[0] as number, median, max: s[s.length - 1] as number, n: s.length };
}

export async function raceVariants<V>(candidates: readonly V[], timers: RaceTimers<V>, options: RaceOptions = DEFAULT_RACE): Promise<RaceResult<V>> {
  if (!(options.cutFactor >= 1) || !(options.leaderFactor >= 1) || !(options.maxLeaders >= 1) || !(options.rounds >= 1)) {
    throw new Error(`raceVariants: factors must be ≥ 1 and counts ≥ 1, got ${JSON.stringify(options)}`);
  }
  const abandoned: RaceResult<V> = { winner: undefined, candidates: [], leaders: [], abandoned: true };
  const late = (): boolean => timers.outOfTime?.() === true;
  const probes: { variant: V; probe: number | undefined }[] = [];
  let bestProbe = Number.POSITIVE_INFINITY;
  for (const variant of candidates) {
    if (late()) return abandoned;
    const probe = await timers.probe(variant);
    probes.push({ variant, probe });
    if (probe !== undefined) bestProbe = Math.min(bestProbe, probe);
  }
  // Cut against the best probe of all, not of those before: the order of candidates must not decide.
  const records = new Map<V, CandidateRecord<V>>();
  const ranked: { variant: V; ranking: number }[] = [];
  for (const { variant, probe } of probes) {
    if (probe === undefined || probe > options.cutFactor * bestProbe) {
      records.set(variant, { variant, probe });
      continue;
    }
    if (late()) return abandoned;
    const ranking = await timers.time(variant);
    records.set(variant, { variant, probe, ranking });
    ranked.push({ variant, ranking });
  }
  if (ranked.length === 0) return { winner: undefined, candidates: candidates.map((v) => records.get(v) as CandidateRecord<V>), leaders: [] };
  ranked.sort((a, b) => a.ranking - b.ranking);
  const bestRanking = (ranked[0] as { ranking: number }).ranking;
  const leaders = ranked.filter((r) => r.ranking <= options.leaderFactor * bestRanking).slice(0, options.maxLeaders).map((r) => r.variant);
  const samples = new Map<V, number[]>(leaders.map((v) => [v, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < leaders.length; i++) {
      const variant = leaders[(round + i) % leaders.length] as V;
      if (late()) return abandoned;
      (samples.get(variant) as number[]).push(await timers.time(variant));
    }
  }
  const spreads = leaders
    .map((variant) => ({ variant, ...spreadOf(samples.get(variant) as number[]) }))
    .sort((a, b) => a.median - b.median || a.min - b.min);
  for (const s of spreads) {
    const r = records.get(s.variant) as CandidateRecord<V>;
    records.set(s.variant, { ...r, rounds: samples.get(s.variant) as number[] });
  }
  return { winner: spreads[0]?.variant, candidates: candidates.map((v) => records.get(v) as CandidateRecord<V>), leaders: spreads };
}
