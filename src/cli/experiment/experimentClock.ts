// How long an experiment has left. Runs are not alike: the first run of a
// (cell, seed) that uses the VAE also trains it, which on E116 takes many
// times longer than any classifier, and later runs reuse it. A mean over
// runs would promise too little while VAEs are still ahead and too much once
// they are behind, so VAE trainings and classifier runs are timed apart.

export const duration = (s: number): string => (s < 90 ? `${s.toFixed(0)} s` : s < 5400 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

export class ExperimentClock {
  private classifierSeconds = 0;
  private classifierRuns = 0;
  private vaeSeconds = 0;
  private vaesTrained = 0;

  /** `vaesLeft`: VAE trainings the experiment expects to do (one per cell and seed that has a VAE-based run to do). */
  constructor(private vaesLeft: number) {}

  /** A (cell, seed) whose VAE-based runs are all finished already needs no VAE. */
  vaeNotNeeded(): void {
    this.vaesLeft = Math.max(0, this.vaesLeft - 1);
  }

  /** A finished run of `seconds` in all, of which `vaeSeconds` trained its VAE (undefined: it trained none). */
  record(seconds: number, vaeSeconds: number | undefined): void {
    if (vaeSeconds !== undefined) {
      this.vaeSeconds += vaeSeconds;
      this.vaesTrained++;
      this.vaesLeft = Math.max(0, this.vaesLeft - 1);
    }
    this.classifierSeconds += seconds - (vaeSeconds ?? 0);
    this.classifierRuns++;
  }

  get elapsed(): number {
    return this.classifierSeconds + this.vaeSeconds;
  }

  /** "about 12 min left", with the VAEs not yet timed said as such rather than counted as nothing. */
  left(runsLeft: number): string {
    const perRun = this.classifierRuns > 0 ? this.classifierSeconds / this.classifierRuns : 0;
    const vaes = this.vaesLeft;
    const timed = this.vaesTrained > 0 ? vaes * (this.vaeSeconds / this.vaesTrained) : 0;
    const untimed = this.vaesTrained === 0 && vaes > 0 ? `, plus ${vaes} VAE training${vaes === 1 ? '' : 's'} not yet timed` : '';
    return `about ${duration(runsLeft * perRun + timed)} left${vaes > 0 && untimed === '' ? ` (${vaes} VAE training${vaes === 1 ? '' : 's'} of it)` : ''}${untimed}`;
  }
}
