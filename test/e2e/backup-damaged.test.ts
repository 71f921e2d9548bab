/**
 * Backups that cannot be pointed elsewhere: a manifest whose dump lies outside its folder (an
 * absolute path, `..`, a symlink) or that no checksum covers is damaged; damaged backups show
 * in every listing and `restore latest` never passes over one silently; backup folders others
 * could write to are refused.
 * The commands run through the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); backup.test.ts and
 * restore.test.ts run them through the binary.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { cloneBackup, databaseTracker, pgstoreInProcessDirect as pgstore, seed, tempDir } from './backup-helpers.js';

const db = useTestDatabase();
const dbs = databaseTracker();
const base = tempDir('backup-damaged');
/** One backup taken by pgstore; the cases damage copies of it (cloneBackup), not backups of their own. */
let original = { id: '', path: '' };

beforeAll(async () => {
  await seed(db.sql, 50);
  original = await takeBackup(join(base, 'original'));
});

/** Another backup of the database in `dir` (a copy of the original: cloneBackup). */
function anotherBackup(dir: string, label?: string): { id: string; path: string } {
  return cloneBackup(original.path, label, join(dir, db.name));
}

async function takeBackup(dir: string, label?: string): Promise<{ id: string; path: string }> {
  const r = await pgstore(db.url, ['backup', '--dir', dir, '--json', ...(label ? ['--label', label] : [])]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  return { id: out.id, path: out.path };
}

function editManifest(path: string, edit: (m: Record<string, unknown>) => void): void {
  const file = join(path, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8'));
  edit(m);
  writeFileSync(file, JSON.stringify(m));
}

describe('a backup cannot be pointed outside its folder', () => {
  it('refuses a dump path that is absolute, climbs out with .., or goes through a symlink, and a dump no checksum covers', async () => {
    const dir = join(base, 'confine');
    const outside = join(base, 'outside.dump');
    const cases: Array<{ name: string; edit: (m: Record<string, unknown>, path: string) => void; says: RegExp }> = [
      { name: 'absolute', edit: (m) => (m.dump = outside), says: /dump path '.*outside\.dump' is not a relative path/ },
      { name: 'dotdot', edit: (m) => (m.dump = '../../outside.dump'), says: /leaves the backup folder/ },
      {
        name: 'files-dotdot',
        edit: (m) => ((m.files as Array<{ path: string }>)[0]!.path = '../x'),
        says: /file path '\.\.\/x' leaves the backup folder/,
      },
      {
        name: 'symlink',
        edit: (_m, path) => {
          rmSync(join(path, 'backup.dump'));
          symlinkSync(outside, join(path, 'backup.dump'));
        },
        says: /backup\.dump is a symbolic link/,
      },
      { name: 'no-files', edit: (m) => (m.files = []), says: /no checksum covers its dump backup\.dump/ },
    ];
    for (const c of cases) {
      const taken = anotherBackup(dir, c.name);
      writeFileSync(outside, readFileSync(join(taken.path, 'backup.dump')));
      editManifest(taken.path, (m) => c.edit(m, taken.path));
      const verify = await pgstore(db.url, ['backup', 'verify', taken.id, '--dir', dir]);
      expect(verify.code, `${c.name}: ${verify.stdout}${verify.stderr}`).toBe(1);
      expect(verify.stderr, c.name).toMatch(/damaged/);
      expect(verify.stderr, c.name).toMatch(c.says);
      expect(verify.stdout, c.name).not.toMatch(/intact/);
      const target = dbs.name(`conf_${c.name.replace('-', '_')}`);
      const restore = await pgstore(db.url, [
        'restore',
        taken.id,
        '--dir',
        dir,
        '--target-db',
        target.name,
        '--create',
      ]);
      expect(restore.code, `${c.name}: ${restore.stderr}`).toBe(1);
      expect(restore.stderr, c.name).toMatch(c.says);
      // The same refusal when the backup folder is given as a path.
      const byPath = await pgstore(db.url, ['restore', taken.path, '--target-db', target.name, '--create']);
      expect(byPath.code, `${c.name}: ${byPath.stderr}`).toBe(1);
      expect(byPath.stderr, c.name).toMatch(c.says);
    }
  });
});

describe('damaged backups are listed and never skipped silently', () => {
  it('list (JSON too) marks them; restore latest refuses naming it unless --skip-damaged; prune neither counts nor deletes them', async () => {
    const dir = join(base, 'newest');
    const older = anotherBackup(dir, 'older');
    const newest = anotherBackup(dir, 'newest');
    writeFileSync(join(newest.path, 'manifest.json'), '{ "id": "trunc');

    const json = await pgstore(db.url, ['backup', 'list', '--dir', dir, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const rows = JSON.parse(json.stdout);
    expect(rows.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      [newest.id, 'damaged'],
      [older.id, 'ok'],
    ]);
    expect(rows[0].problem).toMatch(/cannot read .*manifest\.json/);

    const text = await pgstore(db.url, ['backup', 'list', '--dir', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`${newest.id}.*DAMAGED`));
    expect(text.stdout).toContain('and 1 damaged');

    const target = dbs.name('latest');
    const refused = await pgstore(db.url, ['restore', 'latest', '--dir', dir, '--target-db', target.name, '--create']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`the newest backup of ${db.name}, ${newest.id}, is damaged`);
    expect(refused.stderr).toContain('--skip-damaged');
    const verifyLatest = await pgstore(db.url, ['backup', 'verify', 'latest', '--dir', dir]);
    expect(verifyLatest.code).toBe(1);

    const skipped = await pgstore(db.url, [
      'restore',
      'latest',
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--create',
      '--skip-damaged',
    ]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain(older.id);
    expect(skipped.stderr).toContain(`passed over damaged backup ${db.name}/${newest.id}`);

    // keep-last 1 keeps the older (intact) one and leaves the damaged one alone, saying so.
    const pruned = await pgstore(db.url, ['backup', 'prune', '--keep-last', '1', '--dir', dir, '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const p = JSON.parse(pruned.stdout);
    expect(p.kept.map((k: { id: string }) => k.id)).toEqual([older.id]);
    expect(p.removed).toEqual([]);
    expect(p.damaged).toEqual([{ id: newest.id, problem: expect.stringMatching(/cannot read/) }]);
    expect(statSync(newest.path).isDirectory()).toBe(true);

    // health's last_backup: a damaged newest backup is a warning (a monitor must not say ok).
    const health = await pgstore(db.url, ['health', '--json', '--backup-dir', dir]);
    const check = JSON.parse(health.stdout).checks.find((c: { name: string }) => c.name === 'last_backup');
    expect(check.status).toBe('warning');
    expect(check.message).toContain(`newer backup ${newest.id} is damaged`);
    // Only damaged backups: critical, and the message says why.
    const onlyDamaged = join(base, 'only-damaged');
    const lone = anotherBackup(onlyDamaged, 'lone');
    writeFileSync(join(lone.path, 'manifest.json'), '{');
    const none = JSON.parse((await pgstore(db.url, ['health', '--json', '--backup-dir', onlyDamaged])).stdout);
    expect(none.checks.find((c: { name: string }) => c.name === 'last_backup')).toMatchObject({
      status: 'critical',
      message: expect.stringContaining(`${lone.id} is damaged`),
    });

    // A damaged backup can be deleted by its ID.
    const deleted = await pgstore(db.url, ['backup', 'delete', newest.id, '--yes', '--dir', dir]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = JSON.parse((await pgstore(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout);
    expect(after.map((r: { id: string }) => r.id)).toEqual([older.id]);
  });
});

describe('backup folders others could write to', () => {
  it('creates the database folder 0700 itself, and refuses an existing one that is group/other-writable or not ours', async () => {
    const fresh = join(base, 'fresh');
    const taken = await takeBackup(fresh);
    expect(statSync(join(fresh, db.name)).mode & 0o777).toBe(0o700);
    expect(taken.path).toContain(join(fresh, db.name));

    const open = join(base, 'open');
    mkdirSync(join(open, db.name), { recursive: true });
    chmodSync(join(open, db.name), 0o777);
    const refused = await pgstore(db.url, ['backup', '--dir', open]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`backup folder ${join(open, db.name)} is writable by everyone (mode 0777)`);
    expect(refused.stderr).toContain(`chmod 700 '${join(open, db.name)}'`);
    expect(statSync(join(open, db.name)).mode & 0o777).toBe(0o777);
    const restore = await pgstore(db.url, ['restore', 'latest', '--dir', open, '--target-db', 'x', '--create']);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('is writable by everyone');

    if (process.getuid?.() === 0) {
      const theirs = join(base, 'theirs');
      mkdirSync(join(theirs, db.name), { recursive: true, mode: 0o700 });
      chownSync(join(theirs, db.name), 65534, 65534);
      const notOurs = await pgstore(db.url, ['backup', '--dir', theirs]);
      expect(notOurs.code).toBe(2);
      expect(notOurs.stderr).toContain('belongs to uid 65534, not to this user (uid 0)');
    }
  });
});
