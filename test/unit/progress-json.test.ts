/**
 * `--progress json` lines from backup/restore progress: one unit per phase whatever order the
 * core's events come in (backup's dumping reports tables started before any byte is written).
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { ProgressEvent } from '../../src/types/progress.js';
import { jsonCountProgress, jsonProgressSink, type ProgressLine } from '../../src/ui/progress-json.js';

function linesOf(events: ProgressEvent[]): ProgressLine[] {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const { sink, done } = jsonProgressSink(stream);
  for (const e of events) sink(e);
  done();
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as ProgressLine);
}

describe('--progress json for backup and restore', () => {
  it("keeps a phase's unit from its first event, with the tables beside the bytes", () => {
    const dumping = (tablesDone: number, bytes: number): ProgressEvent => ({
      phase: 'dumping',
      unit: 'bytes',
      tablesDone,
      tablesTotal: 3,
      bytes,
    });
    const lines = linesOf([
      dumping(1, 0),
      dumping(2, 0),
      dumping(2, 4096),
      dumping(3, 9000),
      { phase: 'restoring', tablesDone: 0, tablesTotal: 5, bytes: 0 },
      { phase: 'restoring', tablesDone: 5, tablesTotal: 5, bytes: 0 },
    ]);
    const dumped = lines.filter((l) => l.phase === 'dumping');
    expect(dumped.every((l) => l.unit === 'bytes')).toBe(true);
    expect(dumped.at(-1)).toMatchObject({ done: 9000, total: null, tablesDone: 3, tablesTotal: 3 });
    expect(lines.filter((l) => l.phase === 'restoring').every((l) => l.unit === 'tables')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ phase: 'restoring', done: 5, total: 5 });
  });

  it('counts bytes from the start when the phase knows its byte total (a plain dump restored)', () => {
    const lines = linesOf([
      { phase: 'restoring', tablesDone: 0, tablesTotal: 0, bytes: 0, bytesTotal: 100 },
      { phase: 'restoring', tablesDone: 0, tablesTotal: 0, bytes: 100, bytesTotal: 100 },
    ]);
    expect(lines.map((l) => [l.unit, l.done, l.total])).toEqual([
      ['bytes', 0, 100],
      ['bytes', 100, 100],
    ]);
  });
});

describe('--progress json for a count (hosts import, synthetic seed)', () => {
  it("rates what moved since the phase's first event, not the time before it", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(0);
      const stream = new PassThrough();
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const progress = jsonCountProgress(stream, 'loading', 'rows');
      vi.setSystemTime(3_000); // connecting: nothing moved
      progress.update(10_000, 100_000); // the first chunk's rows, reported once sent
      vi.setSystemTime(4_000);
      progress.update(20_000, 100_000);
      progress.done();
      const lines = text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as ProgressLine);
      expect(lines.map((l) => [l.done, l.rate])).toEqual([
        [10_000, 0],
        [20_000, 10_000],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
