import { describe, expect, it } from 'vitest';
import { statementLocks } from '../../src/core/migrate/locks.js';
import { statementsOf, upSection } from '../../src/core/sql-statements.js';

describe('upSection', () => {
  it('keeps the up section at its own lines and says whether it runs in a transaction', () => {
    const text = '-- header\n-- migrate:up transaction:false\nselect 1;\n\nselect 2;\n-- migrate:down\nselect 3;\n';
    const up = upSection(text);
    expect(up.transactional).toBe(false);
    expect(up.sql.split('\n')).toEqual(['', '', 'select 1;', '', 'select 2;', '', '', '']);
    expect(upSection('-- migrate:up\nselect 1;\n').transactional).toBe(true);
  });
});

describe('statementsOf', () => {
  it('splits on top-level semicolons only, with the line each statement starts on', () => {
    const sql = [
      "insert into t values ('a;b');", //                         1
      '-- a comment; with a semicolon', //                        2
      'create function f() returns int language plpgsql as $body$', // 3
      'begin return 1; end;', //                                  4
      '$body$;', //                                               5
      '/* block; comment */ create index', //                     6
      '  on t (a);', //                                           7
      'select "odd;name" from t', //                              8
    ].join('\n');
    const statements = statementsOf(sql);
    expect(statements.map((s) => s.line)).toEqual([1, 3, 6, 8]);
    expect(statements[1]!.text).toContain('begin return 1; end;');
    expect(statements[3]!.text).toBe('select "odd;name" from t');
  });
});

describe('statementLocks', () => {
  const lock = (sql: string) => statementLocks(statementsOf(sql)).map((l) => [l.kind, l.table, l.lock]);
  it('derives the lock level from the statement kind', () => {
    expect(lock('alter table public.t add column c int')).toEqual([
      ['ALTER TABLE ... ADD COLUMN', 'public.t', 'ACCESS EXCLUSIVE'],
    ]);
    expect(lock('alter table t alter column c type bigint')).toEqual([
      ['ALTER TABLE ... ALTER COLUMN ... TYPE', 't', 'ACCESS EXCLUSIVE'],
    ]);
    expect(lock('alter table t validate constraint c')).toEqual([
      ['ALTER TABLE ... VALIDATE CONSTRAINT', 't', 'SHARE UPDATE EXCLUSIVE'],
    ]);
    expect(lock('alter table t add constraint f foreign key (a) references u (id) not valid')).toEqual([
      ['ALTER TABLE ... ADD FOREIGN KEY', 't', 'SHARE ROW EXCLUSIVE'],
      ['FOREIGN KEY (referenced table)', 'u', 'SHARE ROW EXCLUSIVE'],
    ]);
    expect(lock('create unique index if not exists i on only t (a)')).toEqual([['CREATE INDEX', 't', 'SHARE']]);
    expect(lock('create index concurrently i on t (a)')).toEqual([
      ['CREATE INDEX CONCURRENTLY', 't', 'SHARE UPDATE EXCLUSIVE'],
    ]);
    expect(lock('drop index concurrently i')).toEqual([['DROP INDEX CONCURRENTLY', null, 'SHARE UPDATE EXCLUSIVE']]);
    expect(lock('refresh materialized view concurrently m')).toEqual([
      ['REFRESH MATERIALIZED VIEW CONCURRENTLY', 'm', 'EXCLUSIVE'],
    ]);
    expect(lock('lock table t in share row exclusive mode')).toEqual([['LOCK TABLE', 't', 'SHARE ROW EXCLUSIVE']]);
    expect(lock('update t set a = 1')).toEqual([['UPDATE', 't', 'ROW EXCLUSIVE']]);
    expect(lock('create table n (id int references t (id))')).toEqual([
      ['CREATE TABLE', null, null],
      ['FOREIGN KEY (referenced table)', 't', 'SHARE ROW EXCLUSIVE'],
    ]);
  });
});
