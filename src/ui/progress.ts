/**
 * A one-line progress bar on stderr, drawn only on a terminal: phase, a bar (tables done of
 * total, or bytes when the total is known), bytes and speed. Redrawn at most 10 times a second.
 * A dozen lines instead of a dependency: cli-progress (the usual choice) is CommonJS, pulls in
 * string-width, has had no release since 2023, and redraws on its own timer.
 */
import type { ProgressEvent } from '../types/progress.js';
import { formatBytes } from '../util/format.js';
import { registerActiveBar } from './active-bars.js';

export interface ProgressBar {
  update(event: ProgressEvent): void;
  /** Clears the line (before results or errors are printed). */
  done(): void;
}

const WIDTH = 24;

/** A bar on `stream` when it is a terminal; otherwise one that draws nothing. */
export function progressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  enabled: boolean,
): ProgressBar {
  if (!enabled || !stream.isTTY) return { update: () => undefined, done: () => undefined };
  // The speed's clock starts at a phase's first event (its bytes start moving), not when the
  // bar is made: connecting and starting pg_dump move no bytes.
  let start: { phase: string; at: number; bytes: number } | undefined;
  let last = 0;
  let lastPhase = '';
  let unregister: (() => void) | undefined;
  let finished = false;
  const clear = () => {
    if (unregister) stream.write('\r\x1b[K');
    unregister?.();
    unregister = undefined;
  };
  return {
    update(e) {
      const now = Date.now();
      if (start?.phase !== e.phase) start = { phase: e.phase, at: now, bytes: e.bytes };
      // At most 10 redraws a second, but never skip a new phase or the last table.
      const final = !!e.tablesTotal && e.tablesDone >= e.tablesTotal;
      if (finished || (now - last < 100 && e.phase === lastPhase && !final)) return;
      last = now;
      lastPhase = e.phase;
      const fraction = e.bytesTotal ? e.bytes / e.bytesTotal : e.tablesTotal ? e.tablesDone / e.tablesTotal : undefined;
      const bar =
        fraction === undefined ? '' : `[${'#'.repeat(Math.round(Math.min(1, fraction) * WIDTH)).padEnd(WIDTH, '-')}] `;
      const tables = e.tablesTotal || e.tablesDone ? `${e.tablesDone}/${e.tablesTotal || '?'} tables  ` : '';
      const seconds = (now - start.at) / 1000;
      const speed = seconds > 1 && e.bytes > start.bytes ? `${formatBytes((e.bytes - start.bytes) / seconds)}/s` : '';
      const bytes = e.bytes
        ? `${formatBytes(e.bytes)}${e.bytesTotal ? ` of ${formatBytes(e.bytesTotal)}` : ''}  ${speed}`
        : '';
      const line = `${e.phase.padEnd(12)} ${bar}${tables}${bytes}`.slice(0, Math.max(20, (stream.columns || 80) - 1));
      stream.write(`\r\x1b[K${line}`);
      // Registered while drawn: a stop ends this line before it prints (ui/active-bars.ts).
      unregister ??= registerActiveBar(() => {
        finished = true;
        clear();
      });
    },
    done: clear,
  };
}
