/**
 * Proving a backup: `read` checks every file against its sha256 and reads the whole archive
 * back (pg_restore to /dev/null decompresses every table's data: `pg_restore -l` alone reads
 * only the table of contents and misses a truncated file); `restore` also restores it into a
 * scratch database, compares every table's row count with the manifest, and drops it.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { ServerConnection } from '../../db/config.js';
import { withAdminSql } from '../../db/pool.js';
import { isPgstoreError } from '../../errors.js';
import * as admin from '../../store/admin/index.js';
import { dropDatabaseForce } from '../../store/admin/index.js';
import { clientNeed, findPgClient } from '../../tools/pg-client.js';
import { readWholeArchive } from '../../tools/pg-restore.js';
import { type BackupManifest, type BackupVerification, checkFiles, CorruptBackupError } from './manifest.js';
import type { ProgressSink } from '../../types/progress.js';
import { compareRowCounts, isGzipFile, loadDump, rowCountProblems } from '../dump-load/index.js';

export type VerifyMethod = 'read' | 'restore';

export interface VerifyContext {
  env: Record<string, string | undefined>;
  /** Needed for `restore` (the scratch database lives on this server). */
  conn?: ServerConnection;
  serverMajor?: number;
  jobs?: number;
  onProgress?: ProgressSink | undefined;
}

/** The major version of the pg_dump that wrote a backup ("15.18" → 15). */
export function dumpMajor(manifest: Pick<BackupManifest, 'pgDumpVersion'>): number {
  return Number(/^(\d+)/.exec(manifest.pgDumpVersion)?.[1] ?? 0);
}

/** Checks files against the manifest; throws CorruptBackupError naming every problem. */
export async function verifyChecksums(folder: string, manifest: BackupManifest): Promise<void> {
  const problems = await checkFiles(folder, manifest);
  if (problems.length) {
    throw new CorruptBackupError(`backup ${manifest.database}/${manifest.id} is damaged: ${problems.join('; ')}`, {
      hint: 'Do not restore from it. Use an older backup (`pgstore backup list`) and take a new one.',
    });
  }
}

/** Verifies a backup folder by `method`; returns the verification to record, or throws CorruptBackupError. */
export async function verifyBackupFolder(
  folder: string,
  manifest: BackupManifest,
  method: VerifyMethod,
  ctx: VerifyContext,
): Promise<BackupVerification> {
  ctx.onProgress?.({ phase: 'verifying checksums', tablesDone: 0, tablesTotal: 0, bytes: 0 });
  await verifyChecksums(folder, manifest);
  const dumpPath = join(folder, manifest.dump);
  ctx.onProgress?.({ phase: 'reading back', tablesDone: 0, tablesTotal: 0, bytes: 0 });
  if (manifest.format === 'plain') await readPlainDump(dumpPath);
  else {
    const pgRestore = await findPgClient('pg_restore', clientNeed(ctx.serverMajor ?? 0, dumpMajor(manifest)), ctx.env);
    await readWholeArchive(pgRestore.path, dumpPath).catch((error: unknown) => {
      if (!isPgstoreError(error) || !error.message.includes('cannot be read back')) throw error;
      throw new CorruptBackupError(`backup ${manifest.database}/${manifest.id} is damaged: ${error.message}`, {
        hint: error.hint,
        cause: error,
      });
    });
  }
  if (method === 'restore') await restoreIntoScratch(dumpPath, manifest, ctx);
  return { method, at: new Date().toISOString() };
}

/** Reads a plain dump to its end (decompressing it) and checks pg_dump's closing line. */
async function readPlainDump(path: string): Promise<void> {
  const gz = await isGzipFile(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? file.pipe(createGunzip()) : file;
  let tail = '';
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    stream.on('error', (error: Error) =>
      reject(new CorruptBackupError(`${path} cannot be decompressed: ${error.message}`)),
    );
    stream.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('latin1')).slice(-200);
    });
    stream.on('end', resolve);
  });
  if (!tail.includes('-- PostgreSQL database dump complete')) {
    throw new CorruptBackupError(`${path} ends before pg_dump's closing line (truncated)`);
  }
}

async function restoreIntoScratch(dumpPath: string, manifest: BackupManifest, ctx: VerifyContext): Promise<void> {
  const conn = ctx.conn;
  if (!conn || ctx.serverMajor === undefined) throw new Error('verify=restore needs a server connection');
  const scratch = `pgstore_verify_${randomBytes(6).toString('hex')}`;
  await withAdminSql(conn, (sql) => admin.createDatabase(sql, scratch, conn.user));
  try {
    await loadDump({
      conn,
      serverMajor: ctx.serverMajor,
      env: ctx.env,
      database: scratch,
      dump: {
        format: manifest.format,
        path: dumpPath,
        minClientMajor: dumpMajor(manifest),
        tablesTotal: manifest.tables.length,
      },
      jobs: manifest.format === 'plain' ? 1 : Math.max(1, ctx.jobs ?? 1),
      keepOwner: false,
      onProgress: ctx.onProgress ? (p) => ctx.onProgress!({ ...p, phase: 'test restore' }) : undefined,
    });
    ctx.onProgress?.({ phase: 'counting rows', tablesDone: 0, tablesTotal: 0, bytes: 0 });
    const problems = rowCountProblems(
      await compareRowCounts(conn, scratch, manifest.tables, ctx.serverMajor, Math.min(4, Math.max(2, ctx.jobs ?? 1))),
    );
    if (problems.length) {
      throw new CorruptBackupError(
        `a test restore of ${manifest.database}/${manifest.id} does not match its manifest: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
        {
          hint: 'Do not rely on this backup; take a new one.',
        },
      );
    }
  } finally {
    await withAdminSql(conn, (sql) => dropDatabaseForce(sql, scratch)).catch(() => undefined);
  }
}
