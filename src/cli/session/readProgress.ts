// Progress of reading a cell from bigWig tracks (a genome can take a minute):
// a line on stderr every few seconds, and one at the end when there were others.

const EVERY_MS = 2000;

export function readProgress(quiet: boolean): (done: number, total: number) => void {
  const t0 = performance.now();
  let last = t0;
  let printed = false;
  return (done, total) => {
    const now = performance.now();
    if (quiet || (now - last < EVERY_MS && !(done === total && printed))) return;
    last = now;
    printed = true;
    process.stderr.write(`  read ${done}/${total} genes from the tracks (${((now - t0) / 1000).toFixed(1)} s)\n`);
  };
}
