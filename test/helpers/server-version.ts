/**
 * The test server's major version, for the tests whose expectations depend on it (the version
 * matrix, scripts/version-matrix.js, runs them on PostgreSQL 14 to 18).
 */
import { rawSql } from './raw-sql.js';
import { END_OF_LIFE } from '../../src/core/health/index.js';

export async function serverMajor(url: string): Promise<number> {
  const sql = rawSql(url, { max: 1, onnotice: () => undefined });
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version_num') as v`;
    return Math.floor(Number(row!.v) / 10000);
  } finally {
    await sql.end();
  }
}

/** Whether health's server_version check warns (the major is past its end of life today). */
export async function pastEndOfLife(url: string, now = new Date()): Promise<boolean> {
  const eol = END_OF_LIFE[await serverMajor(url)];
  return eol !== undefined && new Date(eol) < now;
}
