/**
 * A one-line "N of M" progress bar on stderr (hosts import), drawn only when stderr is a
 * terminal. No dependency, like ui/progress.ts (whose bar counts tables and bytes): a count
 * and a bar are a dozen lines, while cli-progress is CommonJS, pulls in string-width and
 * redraws on its own timer. Loaded lazily.
 */

export interface CountProgress {
  /** Redraws (at most 10 times a second, and always at the end). */
  update(done: number, total: number): void;
  /** Clears the line (before results or errors are printed). */
  done(): void;
}

const WIDTH = 30;

/** A bar labelled `label` on `stream` when `enabled` and it is a terminal; otherwise silent. */
export function countProgress(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, label: string, enabled = true): CountProgress {
  if (!enabled || !stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const bar = `[${'#'.repeat(Math.round(fraction * WIDTH)).padEnd(WIDTH, '-')}]`;
      const line = `${label} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${done}/${total}`;
      stream.write(`\r\x1b[K${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
