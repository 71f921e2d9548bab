/**
 * pgBackRest records a backup's stop time in whole seconds, and a restore to a time picks only
 * a backup that stopped in an earlier second ("unable to find backup set" for a target in the
 * same second as the backup's end). Waits until the clock (the servers' too: one machine) is
 * past the second the backup stopped in: at most a second, ~0.5 s on average.
 */
export async function pastBackupStopSecond(finishedAt: string): Promise<void> {
  // finishedAt is pgBackRest's stop time (whole seconds) as an ISO string.
  const next = Date.parse(finishedAt) + 1000;
  if (Number.isNaN(next)) throw new Error(`not a backup stop time: ${finishedAt}`);
  for (let left = next - Date.now(); left > 0; left = next - Date.now())
    await new Promise((resolve) => setTimeout(resolve, left + 1));
}
