/**
 * pgstore backup and restore round trips: every format, the
 * manifest, file modes, list, metrics, retention and health's last_backup check.
 * The cases run the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); the first
 * backup and its restore, a prune's dry run and a `backup verify` run through the binary,
 * finding pg_dump and pg_restore on PATH as users do.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import {
  cloneBackup,
  databaseTracker,
  fingerprint,
  pgstore,
  pgstoreInProcessDirect as pgstoreIn,
  seed,
  tempDir,
} from './backup-helpers.js';
import { MIGRATION_COUNT, NEWEST_MIGRATION } from '../helpers/migrations.js';

const db = useTestDatabase();
const dbs = databaseTracker();

beforeAll(async () => {
  await seed(db.sql);
});

function modes(root: string): Array<{ path: string; mode: number; dir: boolean }> {
  const out: Array<{ path: string; mode: number; dir: boolean }> = [];
  const walk = (p: string) => {
    const s = statSync(p);
    out.push({ path: p, mode: s.mode & 0o777, dir: s.isDirectory() });
    if (s.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(root);
  return out;
}

describe('pgstore backup → restore round trip', () => {
  const dir = tempDir('backup');

  it('backs up a seeded database and restores it into a new one with identical rows', async () => {
    const taken = await pgstore(db.url, ['backup', '--dir', dir, '--verify', '--json']);
    expect(taken.code, taken.stderr).toBe(0);
    const result = JSON.parse(taken.stdout);
    const m = result.manifest;
    expect(Object.keys(m)).toEqual(
      expect.arrayContaining([
        'id',
        'database',
        'serverVersion',
        'pgDumpVersion',
        'pgstoreVersion',
        'format',
        'compression',
        'startedAt',
        'finishedAt',
        'durationMs',
        'sizeBytes',
        'files',
        'migrationVersion',
        'tables',
        'verified',
      ]),
    );
    expect(m).toMatchObject({
      database: db.name,
      format: 'custom',
      serverVersion: expect.stringMatching(/^15\./),
      pgDumpVersion: expect.stringMatching(/^1[5-9]/),
      migrationVersion: NEWEST_MIGRATION,
    });
    expect(m.verified).toMatchObject({ method: 'read' });
    expect(m.id).toMatch(/^\d{8}T\d{6}\.\d{3}Z$/);
    expect(result.path).toBe(join(dir, db.name, m.id));
    expect(m.tables).toContainEqual({ schema: 'auth', name: 'users', rows: 300 });
    expect(m.tables).toContainEqual({ schema: 'hosts', name: 'host_events', rows: 25 });
    expect(m.files).toEqual([
      { path: 'backup.dump', sizeBytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(m.sizeBytes).toBe(m.files[0].sizeBytes);

    // Folders 0700, files 0600; no lock or partial folder left behind.
    for (const entry of modes(join(dir, db.name))) expect(entry.mode, entry.path).toBe(entry.dir ? 0o700 : 0o600);
    expect(readdirSync(join(dir, db.name))).toEqual([m.id]);

    const target = dbs.name('rt');
    const restored = await pgstore(db.url, [
      'restore',
      m.id,
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--create',
      '--json',
    ]);
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout);
    expect(r).toMatchObject({
      database: target.name,
      mode: 'created',
      rowCountsMatch: true,
      source: { checksums: 'verified' },
    });
    expect(r.migrations).toMatchObject({
      tracked: true,
      applied: MIGRATION_COUNT,
      newest: NEWEST_MIGRATION,
      backupNewest: NEWEST_MIGRATION,
      pending: 0,
    });
    expect(await fingerprint(dbs.sql(target.url))).toEqual(await fingerprint(db.sql));
  });

  it('round-trips the directory format with 2 jobs and the plain format (gzip)', async () => {
    const expected = await fingerprint(db.sql);
    for (const args of [
      ['--format', 'directory', '--jobs', '2', '--label', 'dir'],
      ['--format', 'plain', '--compress', 'gzip:1', '--label', 'plain'],
    ]) {
      const taken = await pgstoreIn(db.url, ['backup', '--dir', dir, '--json', ...args]);
      expect(taken.code, taken.stderr).toBe(0);
      const { manifest } = JSON.parse(taken.stdout);
      const target = dbs.name('fmt');
      const restored = await pgstoreIn(db.url, [
        'restore',
        `${db.name}/${manifest.id}`,
        '--dir',
        dir,
        '--target-db',
        target.name,
        '--create',
        ...(args[1] === 'directory' ? ['--jobs', '2'] : []),
      ]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout).toContain('all as in the backup');
      expect(await fingerprint(dbs.sql(target.url))).toEqual(expected);
    }
  });

  it('lists complete backups, newest first, as a table and as JSON', async () => {
    const list = await pgstoreIn(db.url, ['backup', 'list', '--dir', dir, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const entries = JSON.parse(list.stdout);
    expect(entries.map((e: { label: string | null }) => e.label)).toEqual(['plain', 'dir', null]);
    expect(entries[0]).toMatchObject({
      database: db.name,
      format: 'plain',
      compression: 'gzip:1',
      tableCount: expect.any(Number),
    });
    const table = await pgstoreIn(db.url, ['backup', 'list', '--dir', dir]);
    expect(table.stdout).toMatch(/ID.*STARTED.*SIZE.*FORMAT/);
    expect(table.stdout).toContain(`3 backups of ${db.name}`);
  });

  it('prints nothing with --quiet and writes Prometheus metrics atomically', async () => {
    const metrics = join(dir, 'pgstore.prom');
    const quiet = await pgstoreIn(db.url, ['backup', '--dir', dir, '--quiet', '--metrics-file', metrics]);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const text = readFileSync(metrics, 'utf8');
    for (const name of [
      'pgstore_backup_last_success_timestamp_seconds',
      'pgstore_backup_duration_seconds',
      'pgstore_backup_size_bytes',
      'pgstore_backup_success',
    ]) {
      expect(text).toContain(`# TYPE ${name} gauge`);
      expect(text).toMatch(new RegExp(`^${name}\\{database="${db.name}"\\} [0-9.]+$`, 'm'));
    }
    expect(text).toMatch(/^pgstore_backup_success\{[^}]*\} 1$/m);
    const last = Number(/last_success_timestamp_seconds\{[^}]*\} (\d+)/.exec(text)![1]);
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('health reports the age of the newest backup (last_backup)', async () => {
    const ok = await pgstoreIn(db.url, ['health', '--json', '--backup-dir', dir]);
    const check = JSON.parse(ok.stdout).checks.find((c: { name: string }) => c.name === 'last_backup');
    expect(check).toMatchObject({ status: 'ok', unit: 'h' });
    const late = await pgstoreIn(
      db.url,
      ['health', '--json', '--backup-age-warning', '0', '--backup-age-critical', '100'],
      { PGSTORE_BACKUP_DIR: dir },
    );
    expect(JSON.parse(late.stdout).checks.find((c: { name: string }) => c.name === 'last_backup')).toMatchObject({
      status: 'warning',
    });
    const none = await pgstoreIn(db.url, ['health', '--json', '--backup-dir', join(dir, 'empty')]);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).checks.find((c: { name: string }) => c.name === 'last_backup')).toMatchObject({
      status: 'critical',
    });
    const unknown = await pgstoreIn(db.url, ['health', '--json'], { PGSTORE_HOME: join(dir, 'no-home') });
    expect(JSON.parse(unknown.stdout).checks.map((c: { name: string }) => c.name)).not.toContain('last_backup');
  });
});

describe('retention', () => {
  const dir = tempDir('retention');

  it('keeps the newest verified backup whatever the rule, and only prunes after a success', async () => {
    const r = await pgstoreIn(db.url, ['backup', '--dir', dir, '--json', '--verify']);
    expect(r.code, r.stderr).toBe(0);
    const verified = JSON.parse(r.stdout);
    expect(verified.manifest.verified).toMatchObject({ method: 'read' });
    // Two newer, unverified ones: copies of it (cloneBackup) with the manifest a backup without
    // --verify writes (verified: null).
    const ids: string[] = [verified.id];
    for (let i = 0; i < 2; i++) {
      const copy = cloneBackup(verified.path);
      const manifestPath = join(copy.path, 'manifest.json');
      writeFileSync(
        manifestPath,
        JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), verified: null }),
      );
      ids.push(copy.id);
    }
    const dry = await pgstoreIn(db.url, ['backup', 'prune', '--dir', dir, '--keep-last', '1', '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ removed: [ids[1]], dryRun: true });

    const pruned = await pgstoreIn(db.url, ['backup', '--dir', dir, '--keep-last', '1', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    const result = JSON.parse(pruned.stdout);
    expect(result.retention.removed.sort()).toEqual([ids[1], ids[2]].sort());
    expect(result.retention.kept).toEqual([
      { id: result.id, reasons: ['among the newest 1', 'just taken'] },
      { id: ids[0], reasons: ['newest verified backup'] },
    ]);
    const list = JSON.parse((await pgstoreIn(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout);
    expect(list.map((e: { id: string }) => e.id)).toEqual([result.id, ids[0]]);
  });

  it('--keep-days removes backups older than D days; delete removes one', async () => {
    const listed = JSON.parse((await pgstoreIn(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout);
    const newest = listed[0].id;
    // Age the newest (unverified) backup by ten days.
    const manifestPath = join(dir, db.name, newest, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.startedAt = new Date(Date.now() - 10 * 86_400_000).toISOString();
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const pruned = await pgstoreIn(db.url, ['backup', 'prune', '--dir', dir, '--keep-days', '7', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout).removed).toEqual([newest]);

    const refused = await pgstoreIn(db.url, ['backup', 'delete', listed[1].id, '--dir', dir]);
    expect(refused.code).toBe(2);
    const deleted = await pgstoreIn(db.url, ['backup', 'delete', listed[1].id, '--dir', dir, '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(readdirSync(join(dir, db.name))).toEqual([]);
  });

  it('calendar retention: --dry-run says which rule keeps each backup; prune then deletes only the rest', async () => {
    const gfs = tempDir('retention-gfs');
    const r = await pgstoreIn(db.url, ['backup', '--dir', gfs, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const first = JSON.parse(r.stdout);
    // Three more backups of the database: copies of the first (cloneBackup), as retention sees them.
    const ids: string[] = [first.id, ...[1, 2, 3].map(() => cloneBackup(first.path).id)];
    // Back-date them: two in this month, one a month ago, one two months ago (oldest first).
    const now = new Date();
    const dates = [
      new Date(now.getFullYear(), now.getMonth() - 2, 15, 12),
      new Date(now.getFullYear(), now.getMonth() - 1, 15, 12),
      new Date(now.getTime() - 120_000),
      new Date(now.getTime() - 60_000),
    ];
    ids.forEach((id, i) => {
      const path = join(gfs, db.name, id, 'manifest.json');
      writeFileSync(
        path,
        JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), startedAt: dates[i]!.toISOString() }),
      );
    });
    const dry = await pgstore(db.url, ['backup', 'prune', '--dir', gfs, '--keep-monthly', '2', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`keep    ${ids[3]}  newest of its month (monthly 1 of 2)`);
    expect(dry.stdout).toContain(`keep    ${ids[1]}  newest of its month (monthly 2 of 2)`);
    expect(dry.stdout).toContain(`delete  ${ids[2]}  no rule keeps it`);
    expect(dry.stdout).toContain(`delete  ${ids[0]}  no rule keeps it`);
    expect(
      readdirSync(join(gfs, db.name))
        .filter((n) => !n.startsWith('.'))
        .sort(),
    ).toEqual([...ids].sort());

    const pruned = await pgstoreIn(db.url, [
      'backup',
      'prune',
      '--dir',
      gfs,
      '--keep-monthly',
      '2',
      '--keep-within',
      '1h',
      '--json',
    ]);
    expect(pruned.code, pruned.stderr).toBe(0);
    const result = JSON.parse(pruned.stdout);
    expect(result.removed).toEqual([ids[0]]);
    expect(result.kept.find((k: { id: string }) => k.id === ids[2]).reasons).toEqual(['within 1h']);

    for (const bad of [
      ['--keep-within', '7'],
      ['--keep-daily', '0'],
      ['--keep-within', '1d1d'],
    ]) {
      const r = await pgstoreIn(db.url, ['backup', 'prune', '--dir', gfs, ...bad]);
      expect(r.code, `${bad.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/--keep-(within|daily)/);
    }
    const none = await pgstoreIn(db.url, ['backup', 'prune', '--dir', gfs]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('retention needs a rule');
  });

  it('rejects bad flag combinations with exit 2', async () => {
    for (const args of [
      ['--jobs', '2'],
      ['--format', 'tar'],
      ['--compress', 'brotli'],
      ['--keep-last', '0'],
      ['--label', '../x'],
      ['--compress', 'zstd'],
    ]) {
      const r = await pgstoreIn(db.url, ['backup', '--dir', dir, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^error: /);
    }
  });
});

describe('verification record', () => {
  const dir = tempDir('verify-record');
  /** One `backup --verify=restore --json` run, read by both cases (a test restore each is ~1 s of CPU). */
  let taken: Awaited<ReturnType<typeof pgstoreIn>>;
  beforeAll(async () => {
    taken = await pgstoreIn(db.url, ['backup', '--dir', dir, '--verify=restore', '--json']);
  });

  it('a read check after a test restore keeps method restore and records when it last passed', async () => {
    expect(taken.code, taken.stderr).toBe(0);
    const first = JSON.parse(taken.stdout).manifest.verified;
    expect(first.method).toBe('restore');
    const read = await pgstore(db.url, ['backup', 'verify', 'latest', '--dir', dir, '--json']);
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).verified).toMatchObject({
      method: 'restore',
      at: first.at,
      checkedAt: expect.any(String),
    });
    const listed = JSON.parse((await pgstoreIn(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout);
    expect(listed[0].verified.method).toBe('restore');
  });

  it('--verify=restore reports the time waited: the whole run, and the dump and the verification in it', async () => {
    const started = performance.now();
    const text = await pgstoreIn(db.url, ['backup', '--dir', dir, '--verify=restore']);
    const wall = (performance.now() - started) / 1000;
    expect(text.code, text.stderr).toBe(0);
    const [, total, dump, verification] =
      /, ([\d.]+) s \(dump ([\d.]+) s, verification ([\d.]+) s\), verified \(restore\)/.exec(text.stdout) ?? [];
    expect(total, text.stdout).toBeDefined();
    expect(Number(total)).toBeGreaterThanOrEqual(Number(dump) + Number(verification) - 0.15);
    expect(Number(total)).toBeLessThanOrEqual(wall + 0.05);
    expect(taken.code, taken.stderr).toBe(0);
    const json = JSON.parse(taken.stdout);
    expect(json.verifyDurationMs).toBeGreaterThan(0);
    expect(json.durationMs).toBeGreaterThanOrEqual(json.manifest.durationMs + json.verifyDurationMs - 5);
  });
});
