import { describe, expect, it } from 'vitest';
import { ExperimentClock, duration } from '../src/cli/experiment/experimentClock.ts';

// The time-left estimate times VAE trainings apart from classifier runs, so
// a VAE still ahead is neither forgotten nor smeared over every run.

describe('the experiment clock', () => {
  it('counts the VAEs still to train at their own measured time, by hand', () => {
    // 2 cells × 3 seeds need a VAE; one (cell, seed) was finished before a resume.
    const clock = new ExperimentClock(6);
    clock.vaeNotNeeded();
    clock.record(10, undefined); // a window model: 10 s
    expect(clock.left(8)).toBe('about 80 s left, plus 5 VAE trainings not yet timed');
    clock.record(130, 120); // the first VAE-based run: 120 s of VAE, 10 s of classifier
    // 8 runs × 10 s + 4 VAEs × 120 s = 560 s.
    expect(clock.left(8)).toBe('about 9 min left (4 VAE trainings of it)');
    expect(clock.elapsed).toBe(140);
    for (let i = 0; i < 4; i++) clock.record(130, 120);
    clock.record(10, undefined);
    expect(clock.left(2)).toBe('about 20 s left');
  });

  it('says durations in the unit that reads best', () => {
    expect([duration(89), duration(90), duration(5399), duration(5400)]).toEqual(['89 s', '2 min', '90 min', '1.5 h']);
  });
});
