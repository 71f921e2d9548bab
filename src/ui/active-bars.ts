/**
 * The progress bars drawing right now, process-wide: a bar registers while it has a line
 * drawn, so that a stop (Ctrl+C, SIGTERM) can end that line before "Cancelled." is printed
 * (cli.ts), instead of writing it after the bar's speed on the same line. A finished bar draws
 * nothing more: the job keeps running for a moment while pgstore stops.
 */

const active = new Set<() => void>();

/** Registers a drawn bar's `finish` (clear its line, draw no more); returns the unregistration. */
export function registerActiveBar(finish: () => void): () => void {
  active.add(finish);
  return () => active.delete(finish);
}

/** Ends every drawn bar's line (cleared) and stops it drawing: call before printing on stop. */
export function finishActiveBars(): void {
  for (const finish of [...active]) finish();
  active.clear();
}
