/**
 * Streamed output through the binary: `--format ndjson` and `--json` of a long hosts list are
 * written while the rows are read, from one snapshot held until the last row is written (its
 * transaction is still open when the reader stops reading). That the process's memory stays
 * bounded is not observable here: at this size COPY's rows fit in the kernel's socket buffers
 * (the server is done). The formats carry --json's field names; `--progress json` writes
 * NDJSON events on stderr whose `done` never goes down. The reader that stops reading runs the
 * built binary (a pipe that fills); the comparisons of formats and the progress events run the
 * CLI's entry in-process (test/helpers/cli-in-process.ts: the same writes to its stderr).
 */
import type { ProgressLine } from '../../src/ui/progress-json.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURSOR_PAGE_ROWS } from '../../src/store/cursor.js';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';

/**
 * More rows than a streamed list holds when its reader stops: a page being written, the next
 * page asked for (cursor.ts: at most two pages of CURSOR_PAGE_ROWS) and a pipe's 64 KiB (~250
 * rows); 5 pages leave the cursor 3 to read. (30k rows cost ~3 s more CPU and proved no more.)
 */
const ROWS = 5 * CURSOR_PAGE_ROWS;
const db = useTestDatabase();
const env = () => cleanEnv({ DATABASE_URL: db.url });
const dir = mkdtempSync(join(tmpdir(), 'pgstore-stream-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  // Odd text on purpose: quotes, backslashes, a tab and non-ASCII in comments and tags.
  await db.sql.unsafe('alter table hosts.host_events disable trigger user');
  await db.sql.unsafe(`
    insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
    select 'e' || g, 'h' || lpad(g::text, 6, '0'), 'HostCreated', lpad(g::text, 12, '0'),
           jsonb_build_object('type', 'HostCreated', 'ipAddress', '10.' || (g >> 16) || '.' || ((g >> 8) & 255) || '.' || (g & 255),
             'hostname', 'host' || g || '.stream.example', 'aliases', case when g % 2 = 0 then jsonb_build_array('a' || g || '.example', 'b' || g || '.example') else '[]'::jsonb end,
             'comment', case when g % 3 = 0 then E'say "hi" \\\\ tab\\there é ' || g end,
             'tags', case when g % 5 = 0 then '[]'::jsonb else jsonb_build_array('t' || (g % 10), 'ü') end, 'createdAt', now()),
           now() - interval '30 days' + g * interval '1.001 ms'
    from generate_series(1, ${ROWS}) g`);
  await db.sql.unsafe('alter table hosts.host_events enable trigger user');
  await db.sql.unsafe('select hosts.rebuild_projection()');
}, 120_000);

/** Starts `pgstore args` and stops reading its stdout after the first chunk. */
function startPaused(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  let reading = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // The first chunk, or the end when there is none (a failure must not hang the test).
  const first = Promise.race([
    new Promise<void>((resolve) => child.stdout.once('data', () => resolve())),
    exited.then(() => undefined),
  ]);
  child.stdout.on('data', (d: Buffer) => {
    chunks.push(d);
    if (!reading) child.stdout.pause();
  });
  return {
    first,
    resume: async () => {
      reading = true;
      child.stdout.resume();
      const code = await exited;
      return { code, text: Buffer.concat(chunks).toString('utf8') };
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/** True when the hosts table cannot be locked right now: a statement still reads it. */
async function tableInUse(): Promise<boolean> {
  try {
    await db.sql.begin(async (tx) => {
      await tx.unsafe('lock table hosts.hosts in access exclusive mode nowait');
    });
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === '55P03') return true;
    throw error;
  }
}

describe('hosts list, streamed', () => {
  for (const args of [['--format', 'ndjson'], ['--json']]) {
    it(`${args.join(' ')}: the listing's snapshot is still open when the reader stops reading`, async () => {
      const run = startPaused(['hosts', 'list', ...args]);
      try {
        await run.first;
        // The first rows are out and nobody reads: the pipe fills, pgstore waits for it to
        // drain, and its snapshot (one read-only transaction) stays open until the last row.
        await new Promise((r) => setTimeout(r, 300));
        expect(await tableInUse()).toBe(true);
      } finally {
        const { code, text } = await run.resume();
        expect(code).toBe(0);
        const count = args[0] === '--json' ? (JSON.parse(text) as unknown[]).length : text.trimEnd().split('\n').length;
        expect(count).toBe(ROWS);
      }
      // And once it has finished, nothing holds the table: the server ends the child's session
      // just after the child exits, so asked again for a while (a leak holds it for good).
      let inUse = await tableInUse();
      for (let i = 0; inUse && i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        inUse = await tableInUse();
      }
      expect(inUse).toBe(false);
    }, 120_000);
  }

  it("ndjson lines are --json's objects: the same fields, values and order", async () => {
    const [json, ndjson] = await Promise.all([
      runCliInProcess(['hosts', 'list', '--json'], { env: env() }),
      runCliInProcess(['hosts', 'list', '--format', 'ndjson'], { env: env() }),
    ]);
    expect(json.code).toBe(0);
    expect(ndjson.code).toBe(0);
    const doc = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    const lines = ndjson.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBe(ROWS);
    // Compared as text (key order included): a deep toEqual of 10k objects costs a second of CPU.
    const firstDiffering = lines.findIndex((line, i) => JSON.stringify(line) !== JSON.stringify(doc[i]));
    expect(firstDiffering === -1 ? null : [lines[firstDiffering], doc[firstDiffering]]).toBeNull();
    expect(Object.keys(lines[0]!)).toEqual([
      'id',
      'ipAddress',
      'hostname',
      'aliases',
      'comment',
      'tags',
      'createdAt',
      'updatedAt',
      'version',
    ]);
    // --json is the document JSON.stringify(list, null, 2) writes.
    expect(json.stdout).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    // Filters and paging apply to the stream as to the document.
    const page = await runCliInProcess(
      ['hosts', 'list', '--format', 'ndjson', '--search', 'host1', '--limit', '5', '--offset', '2'],
      { env: env() },
    );
    const paged = await runCliInProcess(
      ['hosts', 'list', '--json', '--search', 'host1', '--limit', '5', '--offset', '2'],
      {
        env: env(),
      },
    );
    expect(
      page.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(JSON.parse(paged.stdout));
  }, 120_000);

  it('export --format ndjson is one entry a line, the same as jsonl, with the count the file header gives', async () => {
    const [nd, hosts] = await Promise.all([
      runCliInProcess(['hosts', 'export', '--format', 'ndjson'], { env: env() }),
      runCliInProcess(['hosts', 'export'], { env: env() }),
    ]);
    expect(nd.code).toBe(0);
    expect(nd.stdout.trimEnd().split('\n').length).toBe(ROWS);
    expect(hosts.stdout).toContain(`# Entry count: ${ROWS}\n`);
  }, 120_000);
});

/** The stderr lines as progress events: each parses, has the fields, and done never goes down in a phase. */
function progressEvents(stderr: string): ProgressLine[] {
  const events = stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProgressLine);
  const last = new Map<string, number>();
  for (const e of events) {
    expect(typeof e.phase).toBe('string');
    expect(Number.isFinite(e.done) && Number.isFinite(e.rate)).toBe(true);
    expect(e.total === null || Number.isFinite(e.total)).toBe(true);
    expect(typeof e.unit).toBe('string');
    expect(e.done).toBeGreaterThanOrEqual(last.get(e.phase) ?? 0);
    last.set(e.phase, e.done);
  }
  return events;
}

describe('--progress json', () => {
  it('hosts import: NDJSON events on stderr, done rising to the total', async () => {
    // A dry run into the 10k-entry store appends (and rolls back) every line through the
    // trigger: 5k lines give the first, batched and last events; more only cost time.
    const LINES = 5_000;
    const file = join(dir, 'import.hosts');
    let text = '';
    for (let i = 0; i < LINES; i++) text += `172.16.${(i >> 8) & 255}.${i & 255}\tp${i}.progress.example\n`;
    writeFileSync(file, text);
    const r = await runCliInProcess(['hosts', 'import', file, '--dry-run', '--progress', 'json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const events = progressEvents(r.stderr);
    expect(events.length).toBeGreaterThanOrEqual(2);
    expect(events.every((e) => e.unit === 'lines' && e.total === LINES)).toBe(true);
    expect(events.at(-1)!.done).toBe(LINES);
    expect(
      r.stderr
        .trimEnd()
        .split('\n')
        .every((l) => l.startsWith('{')),
    ).toBe(true);
  }, 120_000);

  it('backup: every line an event, bytes rising within a phase; --json still prints its document on stdout', async () => {
    const r = await runCliInProcess(['backup', '--dir', join(dir, 'backups'), '--progress=json', '--json'], {
      env: env(),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('manifest');
    const events = progressEvents(r.stderr);
    expect(events.some((e) => e.unit === 'bytes' && e.done > 0)).toBe(true);
    expect(
      r.stderr
        .trimEnd()
        .split('\n')
        .every((l) => l.startsWith('{')),
    ).toBe(true);
  }, 120_000);
});
