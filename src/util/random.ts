// Host-side seeded randomness (weight initialisation, shuffling, test and
// self-check inputs). GPU-side randomness is Philox, in shaders/lib/philox.wgsl.

/** A generator of uniforms in [0, 1) whose whole state is one u32, so a
 * checkpoint can store it and a resumed run can continue the same stream. */
export interface RandomStream {
  (): number;
  /** The current state: restoring it replays every draw that follows. */
  state(): number;
  restore(state: number): void;
}

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). */
export function seededRandom(seed: number): RandomStream {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, {
    state: (): number => a,
    restore: (state: number): void => {
      if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) {
        throw new Error(`random stream: state must be an integer in [0, 4294967295], got ${state}`);
      }
      a = state;
    },
  });
}

export function uniformArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = seededRandom(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Fisher–Yates in place, drawing one number per position from the end. */
export function shuffleInPlace(a: Uint32Array, random: () => number): Uint32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/** One epoch's order: `genes` shuffled, wrapped around to fill `length` (whole batches). */
export function epochOrder(genes: Uint32Array, length: number, random: () => number): Uint32Array {
  const perm = shuffleInPlace(Uint32Array.from(genes), random);
  return Uint32Array.from({ length }, (_, i) => perm[i % perm.length] as number);
}
