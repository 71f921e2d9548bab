/**
 * `pgstore migrate lint` and the lint pre-flight of `migrate up`: squawk's findings on the up
 * section only, at the file's own lines, told whether the section runs in a transaction.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); the first lint runs through the built binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase & { drop(): Promise<void> };
beforeAll(async () => {
  db = await createTestDatabase('template0'); // an application's database: no pgstore schema
});
const dirs: string[] = [];
afterAll(async () => {
  await db?.drop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-lint-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const run = (args: string[], cli = runCliInProcess) =>
  cli(['migrate', ...args], { env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }) });

const SEVERAL = [
  '-- widgets get a size', //                                                     1
  '-- migrate:up', //                                                             2
  'alter table widgets add column size bigint;', //                               3
  '', //                                                                          4
  'create index widgets_size on widgets (size);', //                              5
  'alter table widgets alter column name type varchar(300);', //                  6
  '-- migrate:down', //                                                           7
  'create index down_only on widgets (name);', //  not linted: the down section   8
  '',
].join('\n');

const CONCURRENT = [
  "set lock_timeout = '2s';", //                                                  2
  "set statement_timeout = '1min';", //                                           3
  'create index concurrently if not exists widgets_name on widgets (name);', //   4
].join('\n');

const FILES = {
  '20200101000000_widgets.sql':
    '-- migrate:up\ncreate table widgets (id bigint primary key, name text);\n-- migrate:down\ndrop table widgets;\n',
  '20200102000000_size.sql': SEVERAL,
  '20200103000000_concurrent.sql':
    '-- migrate:up transaction:false\ncreate index concurrently if not exists widgets_name on widgets (name);\n-- migrate:down\ndrop index if exists widgets_name;\n',
};

type Finding = { file: string; line: number; rule: string; level: string; alternative: string };
const findingsOf = (stdout: string): Finding[] =>
  (JSON.parse(stdout) as { files: Array<{ findings: Finding[] }> }).files.flatMap((f) => f.findings);

describe('pgstore migrate lint', () => {
  it('reports dangerous statements of the up section at the lines of the file, with an alternative', async () => {
    const dir = folder(FILES);
    const r = await run(['lint', '--json', '--migrations-dir', dir], runCli);
    expect(r.code, r.stderr).toBe(0);
    const findings = findingsOf(r.stdout);
    const size = findings.filter((f) => f.file === '20200102000000_size.sql');
    expect(size).toContainEqual(
      expect.objectContaining({ line: 5, rule: 'require-concurrent-index-creation', level: 'error' }),
    );
    expect(size).toContainEqual(expect.objectContaining({ line: 6, rule: 'changing-column-type', level: 'error' }));
    expect(size.every((f) => f.line >= 3 && f.line <= 6)).toBe(true); // nothing from the down section (line 8)
    expect(size.find((f) => f.rule === 'changing-column-type')!.alternative).toMatch(/new column/);
    // The transaction:false file: the concurrent build is what it should be (a missing timeout is a warning).
    expect(findings.filter((f) => f.file === '20200103000000_concurrent.sql' && f.level === 'error')).toEqual([]);
  });

  it('tells squawk whether the section runs in a transaction: the same SQL in a transactional file is an error', async () => {
    const dir = folder({ '20200103000000_concurrent.sql': `-- migrate:up\n${CONCURRENT}\n-- migrate:down\n` });
    const r = await run(['lint', '--json', '--strict', '--migrations-dir', dir]);
    expect(r.code).toBe(1);
    expect(findingsOf(r.stdout)).toContainEqual(
      expect.objectContaining({ line: 4, rule: 'ban-concurrent-index-creation-in-transaction', level: 'error' }),
    );
  });

  it('a transaction:false section with a CONCURRENTLY statement among others is an error (dbmate sends it as one implicit transaction)', async () => {
    const dir = folder({
      '20200103000000_concurrent.sql': `-- migrate:up transaction:false\n${CONCURRENT}\n-- migrate:down\n`,
    });
    const r = await run(['lint', '--json', '--migrations-dir', dir]);
    expect(findingsOf(r.stdout).filter((f) => f.level === 'error')).toEqual([
      expect.objectContaining({ line: 4, rule: 'pgstore-no-transaction-block' }),
    ]);
  });

  it('--strict exits 1 on errors only; files may be named; a missing file exits 2', async () => {
    const dir = folder(FILES);
    expect((await run(['lint', '--strict', join(dir, '20200102000000_size.sql')])).code).toBe(1);
    const warningsOnly = await run(['lint', '--strict', join(dir, '20200101000000_widgets.sql')]);
    expect(warningsOnly.code, warningsOnly.stdout).toBe(0);
    const text = await run(['lint', join(dir, '20200102000000_size.sql')]);
    expect(text.stdout).toMatch(/20200102000000_size\.sql:6:\d+ error changing-column-type/);
    const missing = await run(['lint', join(dir, 'nope.sql')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
  });

  it('migrate up lints pending files first: warnings by default, --strict refuses and applies nothing', async () => {
    const dir = folder(FILES);
    const refused = await run(['up', '--strict', '--migrations-dir', dir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/20200102000000_size\.sql:5 require-concurrent-index-creation/);
    expect((await db.sql`select to_regclass('public.widgets') as t`)[0]!.t).toBeNull();
    // DBMATE_STRICT is --strict, for the lint too.
    const byEnv = await runCliInProcess(['migrate', 'up', '--migrations-dir', dir], {
      env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1', DBMATE_STRICT: 'true' }),
    });
    expect(byEnv.code).toBe(1);
    expect(byEnv.stderr).toMatch(/--strict: lint found/);
    expect((await db.sql`select to_regclass('public.widgets') as t`)[0]!.t).toBeNull();
    const applied = await run(['up', '--migrations-dir', dir]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/changing-column-type/);
    expect((await db.sql`select to_regclass('public.widgets_name') as t`)[0]!.t).toBe('widgets_name');
  });
});
