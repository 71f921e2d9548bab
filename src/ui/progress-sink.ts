/**
 * The progress sink a long command hands core: a bar on a terminal, nothing otherwise.
 */
import type { ProgressSink } from '../types/progress.js';
import type { Output } from './output.js';

/** A progress bar on a terminal (not with --quiet or --json); loaded only when drawn. */
export async function progressFor(out: Output): Promise<{ sink: ProgressSink | undefined; done: () => void }> {
  if (out.options.quiet || out.options.json || !out.stderrIsTTY) return { sink: undefined, done: () => undefined };
  const { progressBar } = await import('./progress.js');
  const bar = progressBar(out.stderr, true);
  return { sink: (e) => bar.update(e), done: () => bar.done() };
}

/**
 * Runs `fn` with a progress bar on a terminal (progressFor); the bar is finished whatever
 * happens, before anything else prints. `done` finishes it early (before a question).
 */
export async function withProgressBar<T>(out: Output, fn: (sink: ProgressSink | undefined, done: () => void) => Promise<T>): Promise<T> {
  const progress = await progressFor(out);
  try {
    return await fn(progress.sink, progress.done);
  } finally {
    progress.done();
  }
}
