/**
 * A one-line "N of M" progress bar on stderr with rate and time left (hosts import, synthetic
 * seed), drawn only when stderr is a terminal; the rate counts from the first update. No dependency, like ui/progress.ts (whose bar
 * counts tables and bytes): a count and a bar are a dozen lines, while cli-progress is
 * CommonJS, pulls in string-width and redraws on its own timer. Loaded lazily.
 */
import { registerActiveBar } from './active-bars.js';

export interface CountProgress {
  /**
   * Redraws (at most 10 times a second, and always at the end). `phase`: what the wait is for
   * once every row is sent (e.g. 'building keys and indexes'); it replaces the label.
   * `unit`: what this phase counts, when not the bar's own (snapshot phases: entries, events).
   */
  update(done: number, total: number, phase?: string, unit?: string): void;
  /** Clears the line (before results or errors are printed). */
  done(): void;
}

const WIDTH = 30;

/** 1234567 → "1.23M". */
function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** 95 → "1m35s". */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** A bar labelled `label`, counting `unit`s, on `stream` when `enabled` and it is a terminal. */
export function countProgress(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  label: string,
  enabled = true,
  unit = '',
): CountProgress {
  if (!enabled || !stream.isTTY) return { update: () => undefined, done: () => undefined };
  // The rate's clock starts at the first update (the job's "0 of N": its lines start moving),
  // not when the bar is made: reading and checking a file, or connecting, is no line's time.
  let start: { at: number; done: number } | undefined;
  let last = 0;
  let lastPhase: string | undefined;
  let unregister: (() => void) | undefined;
  let finished = false;
  const clear = () => {
    if (unregister) stream.write('\r\x1b[K');
    unregister?.();
    unregister = undefined;
  };
  return {
    update(done, total, phase) {
      const now = Date.now();
      start ??= { at: now, done };
      if (finished || (done < total && now - last < 100 && phase === lastPhase)) return;
      last = now;
      lastPhase = phase;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const bar = `[${'#'.repeat(Math.round(fraction * WIDTH)).padEnd(WIDTH, '-')}]`;
      const seconds = (now - start.at) / 1000;
      const rate = seconds > 0.5 ? (done - start.done) / seconds : 0;
      const speed = rate > 0 && !phase ? `  ${compact(rate)}${unit ? ` ${unit}` : ''}/s` : '';
      const left = rate > 0 && done < total && !phase ? `  ETA ${duration((total - done) / rate)}` : '';
      const title = phase ? `${capitalized(phase)}…` : capitalized(label);
      const line = `${title} ${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${compact(done)}/${compact(total)}${speed}${left}`;
      stream.write(`\r\x1b[K${line.slice(0, Math.max(20, (stream.columns || 80) - 1))}`);
      unregister ??= registerActiveBar(() => {
        finished = true;
        clear();
      });
    },
    done: clear,
  };
}

function capitalized(text: string): string {
  return text ? `${text[0]!.toUpperCase()}${text.slice(1)}` : text;
}
