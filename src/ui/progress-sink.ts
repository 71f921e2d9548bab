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
