/**
 * dbmate reports a file as "Applied: <name> in <duration>": a file whose name holds " in "
 * (`20240101000000_log in users.sql`, which dbmate accepts) is still reported applied by
 * `migrate up`, with its checksum recorded (the name was cut at its first " in ").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateUp } from '../../src/core/migrate/index.js';
import { appliedMigrations, LEGACY_TABLE } from '../../src/store/admin/index.js';
import { on } from '../helpers/core.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'pgstore-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migrate up and file names', () => {
  it('reports a file named with " in " applied, and records its checksum', async () => {
    const name = '20240101000000_log in users.sql';
    writeFileSync(
      join(dir, name),
      '-- migrate:up\ncreate table log_in_users (id int);\n-- migrate:down\ndrop table log_in_users;\n',
    );
    const result = await migrateUp({ ...on(db.url), migrationsDir: dir });
    expect(result.applied.map((m) => m.filename)).toContain(name);
    const rows = await appliedMigrations(db.sql, LEGACY_TABLE);
    expect(rows.find((r) => r.version === '20240101000000')?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names a failing file with " in " in its name as the one that failed', async () => {
    const name = '20240102000000_fail in place.sql';
    writeFileSync(join(dir, name), '-- migrate:up\nselect no_such_column from no_such_table;\n');
    await expect(migrateUp({ ...on(db.url), migrationsDir: dir })).rejects.toThrow(
      `migration ${name} (app set) failed`,
    );
  });
});
