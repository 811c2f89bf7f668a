// A test hook, never for users: the fault-injection tests must kill a process,
// fill its disk or start a second one at one exact point of its work, and a
// sleep would make them depend on timing. So at each point below the process
// checks $SIMPLECHROME_TEST_PAUSE (a comma-separated list of point names);
// when it names the point, the process says so on stderr
// ("test-pause: POINT") and stops itself with SIGSTOP. The test acts, then
// sends SIGCONT to let it go on, or SIGKILL. Unset (always, outside tests), a
// point costs one environment lookup.
//
// The points:
//   swap-staged             --overwrite made its staging folder .OUT.new-PID (and its lock), before any checkpoint
//   swap-before-renames     the first checkpoint is in .OUT.new-PID; OUT is still the earlier run
//   swap-between-renames    OUT was renamed to .OUT.old-PID; .OUT.new-PID is not yet OUT
//   swap-before-removing-old OUT is the new run; the earlier one is still in .OUT.old-PID
//   checkpoint-saved        a run (or experiment) has a checkpoint on disk in OUT, after every epoch (and any swap)
//   job-locked              `job` holds its entry's lock, before it writes anything into the entry's folder
//   job-before-result       `job` trained its entry; result.json is not yet written
//   collect-locked          `collect` holds the root's lock, before it writes a table
//   collect-file-written    `collect` has replaced one more of its files (after each)

export const TEST_PAUSE_ENV = 'SIMPLECHROME_TEST_PAUSE';

/** The marker a paused process writes to stderr before it stops. */
export const testPauseMarker = (point: string): string => `test-pause: ${point}\n`;

/** Stops this process at `point` when $SIMPLECHROME_TEST_PAUSE names it (tests only). */
export function testPause(point: string): void {
  const at = process.env[TEST_PAUSE_ENV];
  if (at === undefined || !at.split(',').includes(point)) return;
  // Written synchronously (stderr is a pipe or a file under test), so the marker is out before the process stops.
  process.stderr.write(testPauseMarker(point));
  process.kill(process.pid, 'SIGSTOP');
}
