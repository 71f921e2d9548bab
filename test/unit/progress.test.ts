import { describe, expect, it, vi } from 'vitest';
import { progressBar } from '../../src/ui/progress.js';

function terminal(columns: number) {
  const writes: string[] = [];
  return {
    writes,
    stream: Object.assign(
      {
        write: (text: string) => {
          writes.push(text);
          return true;
        },
      },
      { isTTY: true, columns },
    ) as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number },
  };
}

describe('the backup progress bar', () => {
  it('draws the last table and a new phase even within its 100 ms throttle', () => {
    const { writes, stream } = terminal(100);
    const bar = progressBar(stream, true);
    bar.update({ phase: 'dumping', tablesDone: 1, tablesTotal: 22, bytes: 0 });
    bar.update({ phase: 'dumping', tablesDone: 13, tablesTotal: 22, bytes: 0 }); // throttled
    bar.update({ phase: 'dumping', tablesDone: 22, tablesTotal: 22, bytes: 0 });
    bar.update({ phase: 'checksums', tablesDone: 22, tablesTotal: 22, bytes: 0 });
    expect(writes).toHaveLength(3);
    expect(writes[1]).toContain('22/22 tables');
    expect(writes[2]).toContain('checksums');
  });

  it('a terminal that reports 0 columns gets a full line, not 20 characters', () => {
    const { writes, stream } = terminal(0);
    progressBar(stream, true).update({ phase: 'dumping', tablesDone: 3, tablesTotal: 22, bytes: 2048 });
    expect(writes[0]).toContain('3/22 tables');
  });
});

describe("the backup bar's speed", () => {
  it("counts from the phase's first event, not from when the bar was made", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(0);
      const { writes, stream } = terminal(200);
      const bar = progressBar(stream, true);
      vi.setSystemTime(6_000); // connecting, starting pg_dump: no byte moved
      bar.update({ phase: 'dumping', tablesDone: 0, tablesTotal: 4, bytes: 0 });
      vi.setSystemTime(8_000);
      bar.update({ phase: 'dumping', tablesDone: 2, tablesTotal: 4, bytes: 4 * 1024 * 1024 });
      expect(writes.at(-1)).toMatch(/4\.0 MB {2}2\.0 MB\/s$/);
    } finally {
      vi.useRealTimers();
    }
  });
});
