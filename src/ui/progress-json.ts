/**
 * `--progress json`: progress as NDJSON events on stderr, one object a line, for a CI log or a
 * wrapper: {"phase","done","total","rate","unit"} (total null when unknown, rate in units a
 * second since the phase's first event, of what moved after it: the time before, reading a
 * file or connecting, is no unit's). Within a phase `done` never goes down; a phase's last
 * event is always written; otherwise at most 4 events a second.
 */
import type { ProgressEvent, ProgressSink } from '../types/progress.js';
import type { CountProgress } from './progress-count.js';

export interface ProgressLine {
  phase: string;
  done: number;
  total: number | null;
  rate: number;
  unit: string;
  /** Backup's dumping (in bytes) also says how many tables were started, of how many. */
  tablesDone?: number;
  tablesTotal?: number | null;
}

const EVERY_MS = 250;

/** A writer of progress lines on `stream`: `emit` throttles, `final` always writes. */
function lines(stream: NodeJS.WritableStream) {
  let phase: string | undefined;
  let started = 0;
  let last = 0;
  let done = 0;
  /** `done` at the phase's first event: the rate counts what moved after it. */
  let from = 0;
  let pending: ProgressLine | undefined;
  const write = (line: ProgressLine) => {
    stream.write(`${JSON.stringify(line)}\n`);
    last = Date.now();
    pending = undefined;
  };
  return {
    emit(name: string, value: number, total: number | null, unit: string, final = false, extra: object = {}) {
      const now = Date.now();
      if (name !== phase) {
        if (pending) write(pending);
        phase = name;
        started = now;
        done = 0;
        from = value;
        last = 0;
      }
      done = Math.max(done, value);
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? Math.round((done - from) / seconds) : 0;
      const line = { phase: name, done, total, rate, unit, ...extra };
      if (final || now - last >= EVERY_MS || (total !== null && done >= total)) write(line);
      else pending = line;
    },
    flush() {
      if (pending) write(pending);
    },
  };
}

/**
 * A ProgressSink (backup, restore, verify) writing progress lines. A phase's unit is decided by
 * its first event (ProgressEvent.unit, else bytes when a byte total is known, else tables) and
 * never changes within it; a phase counting bytes that also knows its tables adds
 * `tablesDone` and `tablesTotal` (backup's dumping: bytes written, tables started).
 */
export function jsonProgressSink(stream: NodeJS.WritableStream): { sink: ProgressSink; done: () => void } {
  const out = lines(stream);
  const units = new Map<string, 'tables' | 'bytes'>();
  return {
    sink(e: ProgressEvent) {
      let unit = units.get(e.phase);
      if (!unit) units.set(e.phase, (unit = e.unit ?? (e.bytesTotal ? 'bytes' : 'tables')));
      if (unit === 'tables') return out.emit(e.phase, e.tablesDone, e.tablesTotal || null, 'tables');
      const tables =
        e.tablesTotal || e.tablesDone ? { tablesDone: e.tablesDone, tablesTotal: e.tablesTotal || null } : {};
      out.emit(e.phase, e.bytes, e.bytesTotal ?? null, 'bytes', false, tables);
    },
    done: () => out.flush(),
  };
}

/**
 * A CountProgress (import, synthetic seed, snapshots) writing progress lines for `phase` in
 * `unit`s; a phase the update names (the wait after the last row: keys and indexes, commit)
 * replaces it, in the unit the update names, if any.
 */
export function jsonCountProgress(stream: NodeJS.WritableStream, phase: string, unit: string): CountProgress {
  const out = lines(stream);
  return {
    update: (done, total, named, phaseUnit) => out.emit(named ?? phase, done, total, phaseUnit ?? unit),
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
