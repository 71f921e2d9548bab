/**
 * Output discipline: results on stdout (a table for people, JSON for programs); logs,
 * progress and errors on stderr. --quiet silences everything but errors; colour only on a
 * terminal, never with --no-color or NO_COLOR.
 */
import type { ChalkInstance } from 'chalk';
import { redact } from '../util/redact.js';
import type { ItemPages } from './stream-out.js';

/** The colours pgstore uses; plain text when colour is off. */
export type Painter = Pick<ChalkInstance, 'red' | 'yellow' | 'green' | 'magenta' | 'cyan' | 'dim' | 'bold'>;

const same = (text: string) => text;
const PLAIN = {
  red: same,
  yellow: same,
  green: same,
  magenta: same,
  cyan: same,
  dim: same,
  bold: same,
} as unknown as Painter;

let chalkPainter: Painter | undefined;

/** Loads chalk, once, only when some output will be coloured (it costs ~10 ms of start-up). */
export async function loadColors(): Promise<void> {
  if (chalkPainter) return;
  const { Chalk } = await import('chalk');
  chalkPainter = new Chalk({ level: 1 });
}

export interface OutputOptions {
  json: boolean;
  /** --progress: a bar on a terminal (default), NDJSON events on stderr, or nothing. */
  progress?: 'bar' | 'json' | 'none';
  quiet: boolean;
  color: boolean;
  debug: boolean;
}

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin?: { isTTY?: boolean };
}

/** Whether colour is wanted, given the flag, the environment and where results go. */
export function colorWanted(flag: boolean, env: Record<string, string | undefined>, streams: Streams): boolean {
  if (!flag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return !!streams.stdout.isTTY && !!streams.stderr.isTTY && env.TERM !== 'dumb';
}

export class Output {
  readonly c: Painter;
  readonly options: OutputOptions;
  private readonly streams: Streams;

  constructor(options: OutputOptions, streams: Streams) {
    this.options = options;
    this.streams = streams;
    this.c = options.color && chalkPainter ? chalkPainter : PLAIN;
  }

  /** True when stdin and stderr are terminals (prompts and progress bars allowed). */
  get interactive(): boolean {
    return !!this.streams.stdin?.isTTY && !!this.streams.stderr.isTTY;
  }

  get stderrIsTTY(): boolean {
    return !!this.streams.stderr.isTTY;
  }

  /** A result line on stdout (suppressed by --quiet). */
  result(text: string): void {
    if (!this.options.quiet) this.streams.stdout.write(`${text}\n`);
  }

  /**
   * A line on stdout that --quiet does not suppress: a generated secret shown once, which
   * would otherwise be lost.
   */
  essential(text: string): void {
    this.streams.stdout.write(`${text}\n`);
  }

  /** A JSON document on stdout (always printed: the caller asked for it). */
  json(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * A JSON array on stdout, as json() prints it, written in pages: for lists that can be long
   * (a SIGTERM is handled between pages). `items` may be an async source of pages (a cursor),
   * never held whole; `element` renders one item (a faster one than JSON.stringify for a fixed shape).
   */
  async jsonArray<T>(items: ItemPages<T>, element?: (item: T) => string): Promise<void> {
    const { writeJsonArray } = await import('./stream-out.js');
    await writeJsonArray(this.streams.stdout, items, element);
  }

  /** The items as NDJSON on stdout (one JSON object a line, --json's field names), streamed. */
  async ndjson<T>(items: ItemPages<T>, line?: (item: T) => string): Promise<void> {
    const { writeNdjson } = await import('./stream-out.js');
    await writeNdjson(this.streams.stdout, items, line);
  }

  /**
   * A list as JSON on stdout, rendered to bytes a page at a time by `render` (ui/host-json-bytes.ts):
   * `element`s as json() prints a list, or `line`s as NDJSON; streamed, a page a write.
   */
  async jsonText<T>(
    pages: AsyncIterable<T>,
    render: (page: T) => Uint8Array,
    layout: 'element' | 'line',
  ): Promise<void> {
    const { writeJsonText } = await import('./stream-out.js');
    await writeJsonText(this.streams.stdout, pages, render, layout);
  }

  /** A table on stdout (suppressed by --quiet), written in pages when it is long (ui/table.ts). */
  async table(options: { head: string[]; rows: Array<Array<string | number>> }): Promise<void> {
    if (this.options.quiet) return;
    const { writeTable } = await import('./table.js');
    await writeTable(this.streams.stdout, { ...options, color: this.options.color });
  }

  /**
   * A long table on stdout whose rows are read twice, never held (ui/table.ts
   * writeStreamedTable): `rows()` must give the same rows on each call.
   */
  async streamedTable(options: {
    head: string[];
    rows: () => AsyncIterable<Array<Array<string | number>>>;
    /** How many rows there are, when known: a short table is read once and drawn by cli-table3. */
    count?: number;
  }): Promise<void> {
    if (this.options.quiet) return;
    const { writeStreamedTable } = await import('./table.js');
    await writeStreamedTable(this.streams.stdout, { ...options, color: this.options.color });
  }

  /** Raw text on stdout in pages (a long file), written as ui/stream-out.ts writes. */
  async rawPages(pages: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const { writePages } = await import('./stream-out.js');
    await writePages(this.streams.stdout, pages);
  }

  /** Raw text on stdout, for output a program consumes (a URL, a file). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  /** A progress or informational message on stderr (suppressed by --quiet and --json). */
  info(text: string): void {
    if (!this.options.quiet && !this.options.json) this.streams.stderr.write(`${redact(text)}\n`);
  }

  /** A warning on stderr (suppressed by --quiet). */
  warn(text: string): void {
    if (!this.options.quiet) this.streams.stderr.write(`${this.c.yellow('warning:')} ${redact(text)}\n`);
  }

  /** An error line and its hint on stderr; always printed. */
  error(message: string, hint?: string, detail?: string): void {
    this.streams.stderr.write(`${this.c.red('error:')} ${redact(message)}\n`);
    if (hint) this.streams.stderr.write(`${this.c.dim('hint:')} ${redact(hint)}\n`);
    if (detail) this.streams.stderr.write(`${this.c.dim(redact(detail))}\n`);
  }

  /** Debug text on stderr, only with --debug. */
  debug(text: string): void {
    if (this.options.debug) this.streams.stderr.write(`${this.c.dim(redact(text))}\n`);
  }

  /** The raw stderr stream, for progress bars. */
  get stderr(): NodeJS.WritableStream {
    return this.streams.stderr;
  }
}
