/**
 * The progress sink a long command hands core: a bar on a terminal, nothing otherwise.
 */
import type { ProgressSink } from '../types/progress.js';
import type { Output } from './output.js';
import type { CountProgress } from './progress-count.js';

/** A progress bar on a terminal (not with --quiet or --json); loaded only when drawn. */
export async function progressFor(out: Output): Promise<{ sink: ProgressSink | undefined; done: () => void }> {
  // --progress json: NDJSON events on stderr, whatever stderr is and even with --json or --quiet (asked for).
  if (out.options.progress === 'json') return (await import('./progress-json.js')).jsonProgressSink(out.stderr);
  if (out.options.progress === 'none') return { sink: undefined, done: () => undefined };
  if (out.options.quiet || out.options.json || !out.stderrIsTTY) return { sink: undefined, done: () => undefined };
  const { progressBar } = await import('./progress.js');
  const bar = progressBar(out.stderr, true);
  return { sink: (e) => bar.update(e), done: () => bar.done() };
}

/**
 * Runs `fn` with a progress bar on a terminal (progressFor); the bar is finished whatever
 * happens, before anything else prints. `done` finishes it early (before a question).
 */
export async function withProgressBar<T>(
  out: Output,
  fn: (sink: ProgressSink | undefined, done: () => void) => Promise<T>,
): Promise<T> {
  const progress = await progressFor(out);
  try {
    return await fn(progress.sink, progress.done);
  } finally {
    progress.done();
  }
}

/**
 * A count progress (hosts import, synthetic seed) as --progress asks: NDJSON events with
 * `json`, a bar on a terminal with `bar` (not with --quiet or --json), nothing with `none`.
 * `label` names the phase (lower case in the JSON events).
 */
export async function countProgressFor(out: Output, label: string, unit: string): Promise<CountProgress> {
  if (out.options.progress === 'json')
    return (await import('./progress-json.js')).jsonCountProgress(out.stderr, label.toLowerCase(), unit);
  const { countProgress } = await import('./progress-count.js');
  return countProgress(
    out.stderr,
    label,
    out.options.progress !== 'none' && !out.options.quiet && !out.options.json,
    unit,
  );
}

/** A step of a long job with named steps (`migrate up`: a migration of a set). */
export interface StepEvent {
  done: number;
  total: number;
  set?: string;
  filename?: string;
}

/**
 * `migrate up`'s progress as --progress asks: with `json` one NDJSON event when the pending
 * count is known (done 0) and one per migration applied (phase "migrating", unit "migrations",
 * with its set and file name); a bar on a terminal with `bar`. Undefined when nothing is shown:
 * then nothing is loaded for it (a run in CI or a script pays nothing).
 */
export async function migrateProgressFor(
  out: Output,
): Promise<{ update: (e: StepEvent) => void; done: () => void } | undefined> {
  const { progress, quiet, json } = out.options;
  if (progress === 'json') {
    const write = (await import('./progress-json.js')).jsonStepProgress(out.stderr, 'migrating', 'migrations');
    return {
      update: (e) => write(e.done, e.total, e.set ? { set: e.set, filename: e.filename } : {}),
      done: () => undefined,
    };
  }
  if (progress === 'none' || quiet || json || !out.stderrIsTTY) return undefined;
  const bar = await countProgressFor(out, 'Migrating', 'migrations');
  return { update: (e) => bar.update(e.done, e.total), done: () => bar.done() };
}
