/**
 * pgstore.toml: found up the tree, checked (unknown keys and wrong types name the file and
 * line), merged under the environment, and shown with each value's source.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfigFile } from '../../src/commands/config-file.js';
import { effectiveSettings, loadProjectConfig, withConfigEnv } from '../../src/commands/project-config.js';

function project(toml: string): { root: string; sub: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'pgstore-config-'));
  const sub = join(root, 'services', 'api');
  mkdirSync(sub, { recursive: true });
  const file = join(root, 'pgstore.toml');
  writeFileSync(file, toml);
  return { root, sub, file };
}

describe('pgstore.toml', () => {
  it('is found by walking up from the current folder, or named by PGSTORE_CONFIG', () => {
    const { root, sub, file } = project('');
    expect(findConfigFile(sub, {})).toBe(file);
    expect(findConfigFile(root, {})).toBe(file);
    expect(findConfigFile(tmpdir(), {})).toBeUndefined();
    const other = join(root, 'ci.toml');
    writeFileSync(other, '');
    expect(findConfigFile(sub, { PGSTORE_CONFIG: other })).toBe(other);
    expect(() => findConfigFile(sub, { PGSTORE_CONFIG: join(root, 'missing.toml') })).toThrow(
      /PGSTORE_CONFIG names .*missing\.toml/,
    );
  });

  it('resolves paths against its own folder and feeds unset environment variables only', async () => {
    const { root, file } = project(
      '# team settings\n[migrations]\ndir = "db/migrations"\ndump_schema = false\n\n[backup]\ndir = "/srv/backups"\nkeep_daily = 7\n',
    );
    const config = await loadProjectConfig(file);
    expect(config.values.map((v) => [v.setting.key, v.value, v.line])).toEqual([
      ['migrations.dir', join(root, 'db/migrations'), 3],
      ['migrations.dump_schema', 'false', 4],
      ['backup.dir', '/srv/backups', 7],
      ['backup.keep_daily', '7', 8],
    ]);
    const env = withConfigEnv({ PGSTORE_BACKUP_DIR: '/from/env', DBMATE_MIGRATIONS_DIR: '' }, config);
    expect(env).toMatchObject({
      PGSTORE_BACKUP_DIR: '/from/env',
      DBMATE_MIGRATIONS_DIR: join(root, 'db/migrations'),
      DBMATE_NO_DUMP_SCHEMA: 'true',
    });
    const shown = Object.fromEntries(
      effectiveSettings({ PGSTORE_BACKUP_DIR: '/from/env' }, config).map((s) => [s.key, [s.value, s.source]]),
    );
    expect(shown['backup.dir']).toEqual(['/from/env', 'environment PGSTORE_BACKUP_DIR']);
    expect(shown['migrations.dir']).toEqual([join(root, 'db/migrations'), `${file}:3`]);
    expect(shown['backup.keep_daily']).toEqual(['7', `${file}:8`]);
    expect(shown['health.latency_warning']).toEqual(['100', 'default']);
  });

  it.each([
    ['[backup]\nkeep_dayly = 7\n', /pgstore\.toml:2: unknown setting 'keep_dayly' in \[backup\]/],
    ['[migrations]\ndir = "x"\n[backups]\ndir = "y"\n', /pgstore\.toml:3: unknown section 'backups'/],
    ['[backup]\n\n\nkeep_daily = "7"\n', /pgstore\.toml:4: backup\.keep_daily must be a whole number ≥ 1, got "7"/],
    ['[backup]\nkeep_last = 0\n', /pgstore\.toml:2: backup\.keep_last must be a whole number ≥ 1/],
    ['[health]\nlatency_warning = -1\n', /pgstore\.toml:2: health\.latency_warning must be a number > 0/],
    ['[migrations]\nstrict = "yes"\n', /pgstore\.toml:2: migrations\.strict must be true or false/],
    ['[migrations]\ndir = ""\n', /pgstore\.toml:2: migrations\.dir must be a path/],
    ['[backup\nx = 1\n', /pgstore\.toml:1: /],
    ['[backup]\ndir = "a"\ndir = "b"\n', /pgstore\.toml:3: /],
    ['backup = 3\n', /pgstore\.toml:1: unknown section 'backup'/],
  ])('refuses %j with the file and line', async (toml, message) => {
    const { file } = project(toml);
    await expect(loadProjectConfig(file)).rejects.toThrow(message);
    await expect(loadProjectConfig(file)).rejects.toMatchObject({ exitCode: 2 });
  });
});
