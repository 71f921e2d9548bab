/**
 * Checksums recorded while dbmate runs, not after it: each file's checksum goes out as soon as
 * dbmate reports the file applied (its history row is committed by then), on the session that
 * holds the migration lock. One update is in flight at a time; files reported meanwhile go in
 * the next one. When dbmate exits, what is left is at most the last file's update, usually
 * answered already. An update for a file whose transaction failed (dbmate reports those too)
 * finds no row and changes nothing: recordChecksums fills only rows without a checksum.
 */
import type { Db } from '../../db/pool.js';
import { type MigrationTable, recordChecksums } from '../../store/admin/index.js';
import type { MigrationFile } from './files.js';

export interface ChecksumWriter {
  /** Queues the files' checksums (each file once), written as soon as the session is free. */
  add(files: MigrationFile[]): void;
  /** Resolves when every queued checksum is written; rejects with the first failure. */
  flush(): Promise<void>;
}

export function checksumWriter(sql: Db, table: MigrationTable): ChecksumWriter {
  const queued = new Set<string>();
  let waiting: MigrationFile[] = [];
  let running: Promise<void> | undefined;
  let failure: unknown;
  const pump = async () => {
    while (waiting.length && failure === undefined) {
      const batch = waiting;
      waiting = [];
      try {
        await recordChecksums(sql, table, batch);
      } catch (error) {
        failure = error;
      }
    }
    running = undefined;
  };
  return {
    add(files) {
      for (const file of files) {
        if (queued.has(file.version)) continue;
        queued.add(file.version);
        waiting.push(file);
      }
      if (!running && waiting.length) running = pump();
    },
    async flush() {
      while (running) await running;
      if (failure !== undefined) throw failure;
    },
  };
}
