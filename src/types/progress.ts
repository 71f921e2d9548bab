/**
 * Progress of long operations (backup, restore), reported to a sink the CLI draws as a bar.
 * Core code only calls the sink; it never draws.
 */

export interface ProgressEvent {
  /** What is happening: "dumping", "checksums", "verifying", "restoring", "counting rows". */
  phase: string;
  /** Tables whose rows were started, and how many there are (0 when unknown). */
  tablesDone: number;
  tablesTotal: number;
  /** Bytes written (backup) or read (restore of a plain dump) so far. */
  bytes: number;
  /** Bytes expected, when known (restore). */
  bytesTotal?: number;
  /**
   * What the phase counts, fixed for the whole phase (`--progress json`'s `unit`): by default
   * bytes when `bytesTotal` is known, else tables.
   */
  unit?: 'tables' | 'bytes';
}

export type ProgressSink = (event: ProgressEvent) => void;
