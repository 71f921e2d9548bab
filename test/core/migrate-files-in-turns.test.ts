/**
 * `migrate up` reads the files a file per turn of the event loop while it connects
 * (readMigrationsInTurns): the same files, checksums and errors as reading them at once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, readMigrations, readMigrationsInTurns } from '../../src/core/migrate/files.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-turns-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('readMigrationsInTurns', () => {
  it("reads pgstore's own files as readMigrations does", async () => {
    const at = readMigrations(defaultMigrationsDir());
    expect(at.length).toBeGreaterThan(1);
    expect(await readMigrationsInTurns(defaultMigrationsDir())).toEqual(at);
  });

  it('skips what is not a migration, and reads an empty folder as none', async () => {
    const dir = folder({ 'README.md': 'x', '1_a.sql': '-- migrate:up\nselect 1;\n', 'schema.sql': 'x' });
    expect((await readMigrationsInTurns(dir)).map((f) => f.filename)).toEqual(['1_a.sql']);
    expect(await readMigrationsInTurns(folder({}))).toEqual([]);
  });

  it('throws the same error, every problem listed', async () => {
    const dir = folder({
      '1_a.sql': '-- migrate:up\nselect 1;\n',
      '1_b.sql': '-- migrate:up\nselect 2;\n',
      '2_c.sql': 'select 3;\n',
    });
    const message = (() => {
      try {
        readMigrations(dir);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/version 1 is used by 1_a\.sql too; 2_c\.sql: no '-- migrate:up' section/);
    await expect(readMigrationsInTurns(dir)).rejects.toThrow(message!);
    await expect(readMigrationsInTurns(join(dir, 'missing'))).rejects.toThrow(/migrations folder not found/);
  });
});
