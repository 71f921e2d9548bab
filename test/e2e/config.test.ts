/**
 * pgstore.toml through the binary: found from a subfolder, its retention policy and health
 * thresholds used where no flag is given, a flag (or the environment) winning over it, and a
 * bad file refused with its line before anything runs.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { tempDir } from './backup-helpers.js';

const db = useTestDatabase();

function projectWith(toml: string): { root: string; cwd: string } {
  const root = tempDir('config');
  const cwd = join(root, 'app', 'src');
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(root, 'pgstore.toml'), toml);
  return { root, cwd };
}

const run = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { cwd, env: cleanEnv({ DATABASE_URL: db.url, ...extra }) });

describe('pgstore.toml', () => {
  it('backup uses the folder and retention policy of the file; a --keep flag replaces the policy, the environment the folder', async () => {
    const { root, cwd } = projectWith('[backup]\ndir = "backups"   # relative to this file\nkeep_last = 1\n');
    for (let i = 0; i < 2; i++) {
      const r = await run(cwd, ['backup', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).path.startsWith(join(root, 'backups'))).toBe(true);
    }
    // keep_last = 1 from the file ran after each backup: one left.
    expect(readdirSync(join(root, 'backups', db.name)).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    await run(cwd, ['backup', '--keep-last', '5']); // the flag replaces the file's policy
    expect(readdirSync(join(root, 'backups', db.name)).filter((n) => !n.startsWith('.'))).toHaveLength(2);

    const elsewhere = tempDir('config-env');
    const r = await run(cwd, ['backup', '--json'], { PGSTORE_BACKUP_DIR: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).path.startsWith(elsewhere)).toBe(true);

    const shown = await run(cwd, ['config', '--json'], { PGSTORE_BACKUP_DIR: elsewhere });
    const settings = Object.fromEntries(
      JSON.parse(shown.stdout).settings.map((s: { key: string; source: string }) => [s.key, s.source]),
    );
    expect(settings).toMatchObject({
      'backup.dir': 'environment PGSTORE_BACKUP_DIR',
      'backup.keep_last': `${join(root, 'pgstore.toml')}:3`,
      'backup.keep_daily': 'default',
    });
  });

  it('health takes thresholds from the file unless a flag gives them', async () => {
    const { cwd } = projectWith('[health]\nlatency_warning = 0.0001\nlatency_critical = 0.0002\n');
    const fromFile = await run(cwd, ['health', '--format', 'nagios']);
    expect(fromFile.stdout).toMatch(/^PGSTORE CRITICAL/);
    expect(fromFile.code).toBe(2);
    const flagged = await run(cwd, [
      'health',
      '--format',
      'nagios',
      '--latency-warning',
      '5000',
      '--latency-critical',
      '10000',
    ]);
    expect(flagged.stdout, flagged.stderr).not.toMatch(/latency/i);
  });

  it('a bad file stops every command with its line and exit 2, before anything runs', async () => {
    const { root, cwd } = projectWith('[backup]\ndir = "backups"\nkeep_dayly = 7\n');
    const r = await run(cwd, ['backup']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(root, 'pgstore.toml')}:3: unknown setting 'keep_dayly' in [backup]`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(root)).toEqual(['app', 'pgstore.toml']);
  });
});
