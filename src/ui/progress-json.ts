/**
 * `--progress json`: progress as NDJSON events on stderr, one object a line, for a CI log or a
 * wrapper: {"phase","done","total","rate","unit"} (total null when unknown, rate in units a
 * second since the phase began). Within a phase `done` never goes down; a phase's last event
 * is always written; otherwise at most 4 events a second.
 */
import type { ProgressEvent, ProgressSink } from '../types/progress.js';
import type { CountProgress } from './progress-count.js';

export interface ProgressLine {
  phase: string;
  done: number;
  total: number | null;
  rate: number;
  unit: string;
}

const EVERY_MS = 250;

/** A writer of progress lines on `stream`: `emit` throttles, `final` always writes. */
function lines(stream: NodeJS.WritableStream) {
  let phase: string | undefined;
  let started = 0;
  let last = 0;
  let done = 0;
  let pending: ProgressLine | undefined;
  const write = (line: ProgressLine) => {
    stream.write(`${JSON.stringify(line)}\n`);
    last = Date.now();
    pending = undefined;
  };
  return {
    emit(name: string, value: number, total: number | null, unit: string, final = false) {
      const now = Date.now();
      if (name !== phase) {
        if (pending) write(pending);
        phase = name;
        started = now;
        done = 0;
        last = 0;
      }
      done = Math.max(done, value);
      const seconds = (now - started) / 1000;
      const line = { phase: name, done, total, rate: seconds > 0 ? Math.round(done / seconds) : 0, unit };
      if (final || now - last >= EVERY_MS || (total !== null && done >= total)) write(line);
      else pending = line;
    },
    flush() {
      if (pending) write(pending);
    },
  };
}

/**
 * A ProgressSink (backup, restore, verify) writing progress lines: tables until the phase
 * counts bytes, then bytes (a phase's first line may be in tables, done 0).
 */
export function jsonProgressSink(stream: NodeJS.WritableStream): { sink: ProgressSink; done: () => void } {
  const out = lines(stream);
  // A phase that has counted bytes keeps counting bytes (its unit never changes mid-phase).
  const inBytes = new Set<string>();
  return {
    sink(e: ProgressEvent) {
      if (e.bytes > 0 || e.bytesTotal) inBytes.add(e.phase);
      if (inBytes.has(e.phase)) out.emit(e.phase, e.bytes, e.bytesTotal ?? null, 'bytes');
      else out.emit(e.phase, e.tablesDone, e.tablesTotal || null, 'tables');
    },
    done: () => out.flush(),
  };
}

/**
 * A CountProgress (import, synthetic seed) writing progress lines for `phase` in `unit`s; a
 * phase the update names (the wait after the last row: keys and indexes, commit) replaces it.
 */
export function jsonCountProgress(stream: NodeJS.WritableStream, phase: string, unit: string): CountProgress {
  const out = lines(stream);
  return {
    update: (done, total, named) => out.emit(named ?? phase, done, total, unit),
    done: () => out.flush(),
  };
}

/**
 * One line per step, never throttled (`migrate up`: one event per migration applied, each with
 * its `set` and `filename`); `rate` in steps a second, to two decimals (steps are slow).
 */
export function jsonStepProgress(
  stream: NodeJS.WritableStream,
  phase: string,
  unit: string,
): (done: number, total: number | null, fields?: Record<string, unknown>) => void {
  let started: number | undefined;
  return (done, total, fields = {}) => {
    const now = Date.now();
    started ??= now;
    const seconds = (now - started) / 1000;
    const rate = seconds > 0 ? Math.round((done / seconds) * 100) / 100 : 0;
    stream.write(`${JSON.stringify({ phase, done, total, rate, unit, ...fields })}\n`);
  };
}
