/**
 * `snapshot create` and `snapshot rollback` report progress like `hosts import`:
 * `--progress json` writes NDJSON events on stderr in named phases (reading, saving,
 * comparing, appending events, applying the events, committing), `done` never going down
 * within a phase and the last event of each counting phase reaching its total. The CLI's entry
 * runs in-process (test/helpers/cli-in-process.ts: the same writes to its stderr).
 */
import type { ProgressLine } from '../../src/ui/progress-json.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const env = () => cleanEnv({ DATABASE_URL: db.url });
const dir = mkdtempSync(join(tmpdir(), 'pgstore-snapshot-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Entries: enough for several pages and for the COPY path of appends (≥ 1000 events). */
const ENTRIES = 6_000;
const CHANGED = 1_500;
const ADDED = 400;

/** The stderr lines that are events (a rollback also shows its plan); done never goes down within a phase. */
function progressEvents(stderr: string): ProgressLine[] {
  const events = stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProgressLine);
  const last = new Map<string, number>();
  for (const e of events) {
    expect(Number.isFinite(e.done) && Number.isFinite(e.rate) && Number.isFinite(e.total)).toBe(true);
    expect(e.done).toBeGreaterThanOrEqual(last.get(e.phase) ?? 0);
    last.set(e.phase, e.done);
  }
  return events;
}

/** The phases in order of first appearance. */
const phases = (events: ProgressLine[]) => [...new Set(events.map((e) => e.phase))];
const lastOf = (events: ProgressLine[], phase: string) => events.filter((e) => e.phase === phase).at(-1)!;

function hostsFile(name: string, lines: (i: number) => string, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += `${lines(i)}\n`;
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const line = (i: number, comment: string) => `10.9.${(i >> 8) & 255}.${i & 255}\tn${i}.progress.example\t# ${comment}`;

describe('snapshot --progress json', () => {
  it('create reads the entries in pages, then saves and commits; rollback reads, saves the pre-rollback snapshot, compares, appends and commits', async () => {
    const imported = await runCliInProcess(
      ['hosts', 'import', hostsFile('first.hosts', (i) => line(i, 'first'), ENTRIES), '--json'],
      { env: env() },
    );
    expect(imported.code, imported.stderr).toBe(0);

    const created = await runCliInProcess(['snapshot', 'create', '--progress', 'json', '--json'], { env: env() });
    expect(created.code, created.stderr).toBe(0);
    const snapshot = JSON.parse(created.stdout).snapshot as { id: string; entryCount: number };
    expect(snapshot.entryCount).toBe(ENTRIES);
    expect(
      created.stderr
        .trimEnd()
        .split('\n')
        .every((l) => l.startsWith('{')),
    ).toBe(true);
    const c = progressEvents(created.stderr);
    expect(phases(c)).toEqual(['reading', 'saving', 'committing']);
    expect(c.every((e) => e.unit === 'entries' && e.total === ENTRIES)).toBe(true);
    // Read a page at a time: the count rises through the phase, not in one jump at the end.
    expect(c.filter((e) => e.phase === 'reading').length).toBeGreaterThanOrEqual(2);
    expect(lastOf(c, 'reading').done).toBe(ENTRIES);
    expect(lastOf(c, 'committing').done).toBe(ENTRIES);

    // CHANGED entries get a new comment, ADDED are new: the rollback changes back and deletes.
    const replaced = await runCliInProcess(
      [
        'hosts',
        'import',
        hostsFile('second.hosts', (i) => line(i, i < CHANGED ? 'second' : 'first'), ENTRIES + ADDED),
        '--mode',
        'replace',
        '--json',
      ],
      { env: env() },
    );
    expect(replaced.code, replaced.stderr).toBe(0);

    const rolled = await runCliInProcess(
      ['snapshot', 'rollback', snapshot.id, '--yes', '--progress', 'json', '--json'],
      {
        env: env(),
      },
    );
    expect(rolled.code, rolled.stderr).toBe(0);
    const result = JSON.parse(rolled.stdout) as { deleted: number; changed: number; created: number };
    expect(result).toMatchObject({ deleted: ADDED, changed: CHANGED, created: 0 });
    const r = progressEvents(rolled.stderr);
    expect(phases(r)).toEqual([
      'reading',
      'saving pre-rollback snapshot',
      'comparing',
      'appending events',
      'applying the events',
      'committing',
    ]);
    const now = ENTRIES + ADDED;
    expect(lastOf(r, 'reading')).toMatchObject({ done: now, total: now, unit: 'entries' });
    expect(lastOf(r, 'saving pre-rollback snapshot')).toMatchObject({ done: now, total: now, unit: 'entries' });
    expect(lastOf(r, 'comparing')).toMatchObject({ done: ENTRIES, total: ENTRIES, unit: 'entries' });
    const events = ADDED + CHANGED;
    for (const phase of ['appending events', 'applying the events', 'committing'])
      expect(r.filter((e) => e.phase === phase).every((e) => e.unit === 'events' && e.total === events)).toBe(true);
    // The tombstones' statement, then the changes' (one event per entry): each one's wait named.
    expect(r.filter((e) => e.phase === 'applying the events').map((e) => e.done)).toEqual([ADDED, events]);
    expect(lastOf(r, 'committing').done).toBe(events);
  }, 120_000);
});
