/**
 * classifyError: real errors from the file system, the network and the server become
 * PgstoreErrors with a hint and the documented exit code; anything else stays unexplained.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { rawSql } from '../helpers/raw-sql.js';
import { describe, expect, inject, it } from 'vitest';
import { classifyError } from '../../src/classify-error.js';
import { ConnectionError, PgstoreError } from '../../src/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('classifyError', () => {
  it.each([
    ['ENOENT', () => readFileSync('/no/such/file'), /\/no\/such\/file: no such file or folder/],
    ['EISDIR', () => writeFileSync('/tmp', 'x'), /\/tmp: is a folder/],
    ['ENOTDIR', () => readFileSync('/etc/passwd/x'), /\/etc\/passwd\/x: a part of the path is not a folder/],
  ])('a file system %s names the path: exit 2 with a hint', (_code, fn, message) => {
    const classified = classifyError(thrown(fn));
    expect(classified).toBeInstanceOf(PgstoreError);
    expect(classified!.message).toMatch(message);
    expect(classified!.exitCode).toBe(2);
    expect(classified!.hint).toBeTruthy();
  });

  it('connection refused is a ConnectionError (exit 1)', async () => {
    const error = await new Promise<unknown>((resolve) => connect({ host: '127.0.0.1', port: 1 }).on('error', resolve));
    const classified = classifyError(error);
    expect(classified).toBeInstanceOf(ConnectionError);
    expect(classified!.message).toMatch(/cannot reach the database server 127\.0\.0\.1:1: ECONNREFUSED/);
  });

  it('server errors of SQLSTATE classes 22, 23 and 42 are input problems (exit 2); others stay unexplained', async () => {
    const sql = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
    try {
      for (const query of [
        "select 'x'::bigint",
        'select * from no_such_table',
        'select 99999999999999999999::bigint',
      ]) {
        const classified = classifyError(await sql.unsafe(query).catch((e: unknown) => e));
        expect(classified?.exitCode, query).toBe(2);
        expect(classified?.message, query).toMatch(/SQLSTATE (22|42)/);
      }
      expect(classifyError(await sql.unsafe('select 1/0').catch((e: unknown) => e))?.exitCode).toBe(2); // 22012
      // P0001 (a function raised it): not the user's input; pgstore cannot explain it.
      expect(
        classifyError(await sql.unsafe("do $$ begin raise exception 'boom'; end $$").catch((e: unknown) => e)),
      ).toBeUndefined();
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('an ordinary Error and a PgstoreError are left alone', () => {
    expect(classifyError(new Error('boom'))).toBeUndefined();
    expect(classifyError(new PgstoreError('known'))).toBeUndefined();
    expect(classifyError('a string')).toBeUndefined();
  });
});
