/**
 * `pgstore seed`: the development set, fixture folders and synthetic data, and their messages.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); the first seed runs through the built binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

type Db = TestDatabase & { drop(): Promise<void> };
const databases: Db[] = [];
const dirs: string[] = [];

async function freshDb(): Promise<Db> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

/** One database marked production, shared by the refusals (each refusal leaves it as it was). */
let production: Promise<Db> | undefined;
const productionDb = () =>
  (production ??= freshDb().then(async (db) => {
    await db.sql`insert into pgstore.environment (name) values ('production')`;
    return db;
  }));

afterAll(async () => {
  for (const db of databases) await db.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const seed = (db: TestDatabase, args: string[], extra: Record<string, string> = {}, run = runCliInProcess) =>
  run(['seed', ...args], { env: cleanEnv({ DATABASE_URL: db.url, ...extra }) });

/** A checksum of a table's whole contents, independent of physical order. */
async function checksum(db: TestDatabase, table: string): Promise<string> {
  const [row] = await db.sql.unsafe(
    `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as sum from ${table} t`,
  );
  return row!.sum as string;
}

const SYNTHETIC_TABLES = [
  'auth.users',
  'tenancy.tenants',
  'tenancy.memberships',
  'hosts.host_events',
  'hosts.streams',
  'hosts.hosts',
];

describe('pgstore seed (the development data set)', () => {
  it('loads the set once; a second run adds nothing and says what it skipped', async () => {
    const db = await freshDb();
    const first = await seed(db, ['--json'], { PGSTORE_ADMIN_EMAIL: 'boss@example.com' }, runCli);
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout);
    // A first run finds nothing already there: the roles a new user gets with its creation and
    // its verification are this run's; the built-in roles come with the schema, not the data set.
    expect(r1.skipped).toEqual([]);
    expect([...r1.created, ...r1.skipped].filter((item: string) => /^role [\w-]+$/.test(item))).toEqual([]);
    expect(r1.created).toEqual(
      expect.arrayContaining([
        'admin user boss@example.com',
        'role user for boss@example.com',
        'role email-verified for boss@example.com',
        'role admin for boss@example.com',
        'role user for alice@example.com',
        'tenant demo',
        'app demo/web',
        'branch HQ',
        'branch NORTH',
        "API key 'demo key'",
        'host 10.0.0.10 db.lan',
        "snapshot 'seed'",
      ]),
    );
    expect(r1.secrets.adminPassword).toMatch(/^[\w-]{12,}$/);
    expect(r1.secrets.apiKey).toMatch(/^pk_test_/);

    // The second run lists exactly the items of the first: all already there.
    const again = await seed(db, ['--json'], { PGSTORE_ADMIN_EMAIL: 'boss@example.com' });
    const r2 = JSON.parse(again.stdout);
    expect(r2.created).toEqual([]);
    expect([...r2.skipped].sort()).toEqual([...r1.created, ...r1.skipped].sort());
    const second = await seed(db, [], { PGSTORE_ADMIN_EMAIL: 'boss@example.com' });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`0 created, ${r1.created.length} already there`);
    expect(second.stdout).toMatch(/skipped: .*tenant demo/);
    expect(second.stdout).not.toContain(r1.secrets.adminPassword);

    const [counts] =
      await db.sql`select (select count(*) from auth.users)::int as users, (select count(*) from hosts.hosts)::int as hosts,
      (select count(*) from tenancy.app_keys)::int as keys, (select count(*) from hosts.snapshots)::int as snapshots, (select count(*) from tenancy.branches)::int as branches`;
    expect(counts).toEqual({ users: 3, hosts: 12, keys: 1, snapshots: 1, branches: 2 });
    const [admin] =
      await db.sql`select u.email, array_agg(r.name order by r.name) as roles from auth.users u join auth.user_roles ur on ur.user_id = u.id join auth.roles r on r.id = ur.role_id where u.email = 'boss@example.com' group by u.email`;
    expect(admin!.roles).toEqual(['admin', 'email-verified', 'user']);
  });

  it('--quiet prints only the secrets shown once (they would be lost otherwise)', async () => {
    const db = await freshDb();
    const r = await seed(db, ['-q']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Password for \S+ \(shown once; store it now\): [\w-]{12,}$/);
    expect(lines[1]).toMatch(/^API key secret \(shown once; store it now\): pk_test_/);
    expect((await seed(db, ['-q'])).stdout).toBe('');
  });

  it('takes the admin password from PGSTORE_ADMIN_PASSWORD and never prints it', async () => {
    const db = await freshDb();
    const run = await seed(db, ['--env', 'test'], { PGSTORE_ADMIN_PASSWORD: 'admin-secret-pw' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain('admin-secret-pw');
    expect(run.stdout).toMatch(/Seeded the test data set/);
  });

  it('refuses a database marked production unless --force-production', async () => {
    const db = await freshDb();
    await db.sql`insert into pgstore.environment (name) values ('production')`;
    const refused = await seed(db, []);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/marked as production/);
    expect((await db.sql`select count(*)::int as n from auth.users`)[0]!.n).toBe(0);
    expect((await seed(db, ['--force-production'])).code).toBe(0);
  });

  it('on production, the hint names only flags seed has (every kind of seed)', async () => {
    const db = await productionDb();
    const help = (await runCliInProcess(['seed', '--help'])).stdout;
    const dir = mkdtempSync(join(tmpdir(), 'pgstore-seed-prod-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'one.sql'), 'select 1;');
    for (const args of [[], ['--file', join(dir, 'one.sql')], ['--synthetic', '--hosts', '1']]) {
      const refused = await seed(db, args);
      expect(refused.code).toBe(2);
      const flags = refused.stderr.match(/--[a-z][a-z-]*/g) ?? [];
      expect(flags).toContain('--force-production');
      for (const flag of flags) expect(help, `${args.join(' ')}: ${flag}`).toContain(flag);
    }
  });
});

describe('pgstore seed --file', () => {
  it('runs once; a changed file needs --force; a failing folder leaves nothing behind', async () => {
    const db = await freshDb();
    const dir = mkdtempSync(join(tmpdir(), 'pgstore-seedfile-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, '01_users.sql'),
      "insert into auth.users (email, name) values ('seeded@example.com', 'Seeded');\n",
    );
    expect((await seed(db, ['--file', dir])).code).toBe(0);
    const again = await seed(db, ['--file', dir]);
    expect(again.stdout).toMatch(/Skipped file:\S*pgstore-seedfile-\w+: already applied/);
    writeFileSync(join(dir, '02_more.sql'), "insert into auth.users (email) values ('more@example.com');\n");
    const changed = await seed(db, ['--file', dir]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/changed since it was applied/);

    const broken = mkdtempSync(join(tmpdir(), 'pgstore-seedfail-'));
    dirs.push(broken);
    writeFileSync(join(broken, '01_ok.sql'), "insert into auth.users (email) values ('kept-not@example.com');\n");
    writeFileSync(
      join(broken, '02_bad.sql'),
      "select 1;\n\ninsert into auth.userz (email) values ('x@example.com');\n",
    );
    const failed = await seed(db, ['--file', broken]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/seed file .*02_bad\.sql \(line 3\) failed: relation "auth\.userz" does not exist/);
    expect(await db.sql`select email from auth.users where email = 'kept-not@example.com'`).toEqual([]);
    expect(await db.sql`select name from pgstore.applied_seeds where name like 'file:%pgstore-seedfail%'`).toEqual([]);
  });
});

describe('pgstore seed --synthetic', () => {
  it('gives the same data for the same seed, byte for byte, and other data for another seed', async () => {
    const [a, b, c] = [await freshDb(), await freshDb(), await freshDb()];
    const args = [
      '--synthetic',
      '--users',
      '200',
      '--tenants',
      '3',
      '--hosts',
      '300',
      '--events-per-host',
      '4',
      '--random-seed',
      's1',
      '--json',
    ];
    const ra = await seed(a, args);
    expect(ra.code, ra.stderr).toBe(0);
    const loaded = JSON.parse(ra.stdout);
    expect(loaded.rows).toMatchObject({ 'auth.users': 200, 'tenancy.tenants': 3, 'hosts.host_events': 1200 });
    // the total counts every table, the hosts projection included
    expect(loaded.totalRows).toBe(Object.values(loaded.rows as Record<string, number>).reduce((a, n) => a + n, 0));
    expect(loaded.rows['hosts.hosts']).toBeGreaterThan(0);
    expect((await seed(b, args)).code).toBe(0);
    expect(
      (
        await seed(
          c,
          args.map((x) => (x === 's1' ? 's2' : x)),
        )
      ).code,
    ).toBe(0);
    for (const table of SYNTHETIC_TABLES) {
      expect(await checksum(a, table), table).toBe(await checksum(b, table));
      expect(await checksum(a, table), table).not.toBe(await checksum(c, table));
    }
  });

  it('leaves the hosts projection equal to a fold of the events, and valid data', async () => {
    const db = await freshDb();
    const keys =
      () => db.sql`select c.relname::text as table, i.indexrelid::regclass::text as index, pg_get_indexdef(i.indexrelid) as def,
        coalesce(pg_get_constraintdef(k.oid), '') as constraint
      from pg_index i join pg_class c on c.oid = i.indrelid left join pg_constraint k on k.conindid = i.indexrelid and k.conrelid = c.oid
      where c.relnamespace = 'hosts'::regnamespace order by 1, 2`;
    const before = await keys();
    expect((await seed(db, ['--synthetic', '--users', '10', '--hosts', '500', '--events-per-host', '6'])).code).toBe(0);
    // The bulk load drops the keys and indexes of the empty tables and builds them again.
    expect(await keys()).toEqual(before);
    const [diff] = await db.sql`
      with fold as (select id, ip_address, hostname, aliases, comment, tags, version from hosts.fold_at('infinity')),
           proj as (select id, ip_address, hostname, aliases, comment, tags, version from hosts.hosts)
      select (select count(*) from (select * from fold except select * from proj) x)::int as missing,
             (select count(*) from (select * from proj except select * from fold) x)::int as extra,
             (select count(*) from proj)::int as live`;
    expect(diff).toMatchObject({ missing: 0, extra: 0 });
    expect(diff!.live).toBeGreaterThan(450);
    const [streams] = await db.sql`
      select count(*)::int as bad from hosts.streams s
        join (select aggregate_id, max(seq) as last_seq, count(*)::int as n from hosts.host_events group by 1) e using (aggregate_id)
       where s.last_seq <> e.last_seq or s.event_count <> e.n`;
    expect(streams!.bad).toBe(0);
    const bad =
      await db.sql`select hostname from hosts.hosts where hostname !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$' or ip_address::inet is null limit 1`;
    expect(bad).toEqual([]);
    // Appends through the normal path still work after a bulk load.
    const [host] = await db.sql`select id, version from hosts.hosts limit 1`;
    await db.sql`insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at)
      values ('after-bulk', ${host!.id}, 'CommentUpdated', 'after-bulk-v', ${host!.version}, ${db.sql.json({ type: 'CommentUpdated', newComment: 'later' })}, now())`;
    expect((await db.sql`select comment from hosts.hosts where id = ${host!.id}`)[0]!.comment).toBe('later');
  });

  it('loading the same synthetic data twice fails cleanly and keeps nothing of the second run', async () => {
    const db = await freshDb();
    const args = ['--synthetic', '--users', '5', '--tenants', '1', '--hosts', '5', '--events-per-host', '2'];
    expect((await seed(db, args)).code).toBe(0);
    const before = await checksum(db, 'hosts.host_events');
    const again = await seed(db, args);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/the server refused the rows for tenancy\.tenants/);
    expect(again.stderr).toMatch(/another --random-seed/);
    expect(await checksum(db, 'hosts.host_events')).toBe(before);
    // Another random seed loads next to the first data set: its names carry the seed's tag.
    for (const other of ['7', 's1', 's2']) {
      const r = await seed(db, [...args, '--random-seed', other]);
      expect(r.code, r.stderr).toBe(0);
    }
    const [counts] =
      await db.sql`select (select count(*) from tenancy.tenants)::int as tenants, (select count(*) from auth.users)::int as users`;
    expect(counts).toEqual({ tenants: 4, users: 20 });
  });

  it('the bar names the wait after the last row (keys and indexes, commit) instead of sitting at 100%', async () => {
    const db = await freshDb();
    const run = await runCliInProcess(['seed', '--synthetic', '--users', '10', '--tenants', '2', '--hosts', '2000'], {
      env: cleanEnv({ DATABASE_URL: db.url }),
      stderrTerminal: true,
    });
    expect(run.code, run.stderr).toBe(0);
    const frames = run.stderr.split('\r\x1b[K').filter((frame) => frame.trim() !== '');
    const lastLoading = frames.findLastIndex((frame) => frame.startsWith('Loading'));
    expect(lastLoading).toBeGreaterThanOrEqual(0);
    expect(frames.slice(lastLoading + 1).map((frame) => frame.split(' [')[0])).toEqual([
      'Building keys and indexes…',
      'Committing…',
    ]);
    expect(frames.at(-1)).toMatch(/ 100% /);
  });

  it.skipIf(!hasScript)(
    'Ctrl+C during the bar prints "Cancelled." on a line of its own, and the bar draws no more',
    async () => {
      const db = await freshDb();
      // `script` runs pgstore on a pseudo-terminal: the bar draws, and ^C reaches it as a terminal's does.
      const child = spawn(
        'script',
        ['-qefc', `exec '${process.execPath}' '${BIN}' seed --synthetic --hosts 500000`, '/dev/null'],
        {
          env: cleanEnv({ DATABASE_URL: db.url }),
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let sent = false;
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        out += d;
        if (!sent && / \d+%/.test(out)) {
          sent = true;
          child.stdin.write('\x03');
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await new Promise((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      expect(sent, out).toBe(true);
      expect(code, out).toBe(130);
      // The line ends (cleared) before "Cancelled.", not `… rows/s^CCancelled.`.
      expect(out).toMatch(/\r\x1b\[KCancelled\.\r?\n/);
      expect(out.slice(out.indexOf('Cancelled.'))).not.toMatch(/%/);
    },
  );

  it('synthetic-only flags without --synthetic are a usage error', async () => {
    // Refused before anything is read or written: any database will do.
    const db = await productionDb();
    const run = await seed(db, ['--hosts', '10']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--hosts needs --synthetic/);
  });
});
