/**
 * connect({ replicaUrl }) against the real primary + streaming standby (test/helpers/standby.ts):
 * reads on the replica when it is caught up, read-your-writes while replay is paused, maxLagMs,
 * a replica that is down, silent, blocked or not a standby, and writes that stay on the primary.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreOptions } from '../helpers/core-options.js';
import { connect, type ConnectOptions, type Database } from '../../src/connect.js';
import { migrateUp } from '../../src/core/migrate/index.js';
import { listen, type Listener } from '../helpers/not-postgres.js';
import { type StandbyPair, standbyPair, waitUntil } from '../helpers/standby.js';

let pair: StandbyPair;
let db: Database;
const database = `replica_reads_${process.pid}`;
const open: Database[] = [];

async function connectTo(replicaUrl: string | string[], replica: ConnectOptions['replica'] = {}): Promise<Database> {
  const d = await connect({ databaseUrl: pair.urlFor('primary', database), replicaUrl, replica, env: {}, max: 4 });
  open.push(d);
  return d;
}

beforeAll(async () => {
  pair = await standbyPair();
  await pair.primary.unsafe(`drop database if exists ${database} with (force)`);
  await pair.primary.unsafe(`create database ${database}`);
  await migrateUp(coreOptions(pair.urlFor('primary', database)));
  await pair.waitForReplay();
  db = await connectTo(pair.urlFor('standby', database));
});
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
  await pair?.primary.unsafe(`drop database if exists ${database} with (force)`);
});

const freshEmail = () => `u${Date.now()}_${Math.random().toString(36).slice(2)}@example.com`;

/** A user inserted behind the library's back (no noteWrite): only replay brings it to the standby. */
async function rawUser(): Promise<string> {
  const email = freshEmail();
  const sql = (await import('postgres')).default(pair.urlFor('primary', database), {
    max: 1,
    onnotice: () => undefined,
  });
  try {
    await sql`insert into auth.users (email) values (${email})`;
  } finally {
    await sql.end();
  }
  return email;
}

describe('replica reads', () => {
  it('go to the replica when it has replayed everything (and really read there: a paused standby misses new rows)', async () => {
    await db.users.create({ email: freshEmail() });
    await db.writePosition(); // learn the position after that write
    await pair.waitForReplay();
    const before = db.replicaStats();
    const listed = await db.replica.users.list();
    expect(listed.items.length).toBeGreaterThan(0);
    const after = db.replicaStats();
    expect(after.replicaReads).toBe(before.replicaReads + 1);
    expect(after.primaryReads).toBe(before.primaryReads);

    await pair.withReplayPaused(async () => {
      const email = await rawUser();
      expect(await db.users.getByEmail(email)).not.toBeNull(); // the primary has it
      expect(await db.replica.users.getByEmail(email)).toBeNull(); // the replica answered, unaware
    });
  });

  it('read your writes while replay is paused: the read falls back to the primary', async () => {
    await pair.waitForReplay();
    await pair.withReplayPaused(async () => {
      const before = db.replicaStats();
      const user = await db.users.create({ email: freshEmail() });
      expect(await db.replica.users.get(user.id)).toMatchObject({ id: user.id }); // just wrote: primary
      expect(await db.replica.users.getByEmail(user.email)).toMatchObject({ id: user.id }); // gate says behind
      const after = db.replicaStats();
      expect(after.fallbacks.recentWrite).toBe(before.fallbacks.recentWrite + 1);
      expect(after.fallbacks.behind).toBe(before.fallbacks.behind + 1);
      expect(after.replicaReads).toBe(before.replicaReads);
    });
    await pair.waitForReplay();
    const before = db.replicaStats().replicaReads;
    expect((await db.replica.users.list()).items.length).toBeGreaterThan(0);
    expect(db.replicaStats().replicaReads).toBe(before + 1);
  });

  it('a position from writePosition() is honoured by another Database (separate connections)', async () => {
    const reader = await connectTo(pair.urlFor('standby', database));
    await pair.waitForReplay();
    await pair.withReplayPaused(async () => {
      const user = await db.users.create({ email: freshEmail() });
      const position = await db.writePosition();
      expect(await reader.replica.users.get(user.id)).toBeNull(); // no bound: the paused replica answers
      expect(await reader.onReplica({ after: position }).users.get(user.id)).toMatchObject({ id: user.id });
      expect(reader.replicaStats().fallbacks.behind).toBe(1);
    });
  });

  it('a client scope reads its own writes; another scope is not held back by them', async () => {
    await pair.waitForReplay();
    const alice = db.clientScope();
    const bob = db.clientScope();
    await bob.replica.users.list(); // bob's first read learns the replica's position
    await pair.withReplayPaused(async () => {
      const user = await alice.users.create({ email: freshEmail() });
      expect(await alice.replica.users.get(user.id)).toMatchObject({ id: user.id }); // primary: just wrote
      expect(await alice.replica.users.getByEmail(user.email)).toMatchObject({ id: user.id }); // primary: behind
      const before = db.replicaStats();
      expect(await bob.replica.users.get(user.id)).toBeNull(); // bob did not write: the replica answers
      expect(db.replicaStats().replicaReads).toBe(before.replicaReads + 1);
      expect(await db.replica.users.get(user.id)).toMatchObject({ id: user.id }); // the Database saw alice's write
      expect(await alice.onReplica({ after: await alice.writePosition() }).users.get(user.id)).toMatchObject({
        id: user.id,
      });
    });
  });

  it('maxLagMs: a replica staler than the bound is not read', async () => {
    await pair.waitForReplay();
    await db.replica.users.list(); // a gate-free read would not measure; the bounded one below does
    await pair.withReplayPaused(async () => {
      await rawUser();
      // Until the standby has received WAL it has not replayed, and its last replayed commit is
      // older than the bound (with a margin): staler than 100 ms as the gate measures it.
      await waitUntil('the paused standby to be 150 ms stale', 10_000, async () => {
        const [row] = await pair.standby<{ stale: boolean }[]>`
          select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()
             and clock_timestamp() - pg_last_xact_replay_timestamp() > interval '150 milliseconds' as stale`;
        return row!.stale === true;
      });
      const before = db.replicaStats();
      await db.onReplica({ maxLagMs: 100 }).users.list();
      const after = db.replicaStats();
      expect(after.fallbacks.lag).toBe(before.fallbacks.lag + 1);
      await db.onReplica({ maxLagMs: 600_000 }).users.list();
      expect(db.replicaStats().replicaReads).toBe(after.replicaReads + 1);
    });
    await pair.waitForReplay();
    const before = db.replicaStats();
    await db.onReplica({ maxLagMs: 200 }).users.list();
    expect(db.replicaStats().replicaReads).toBe(before.replicaReads + 1);
  });

  it('writes stay on the primary (the read-only standby would refuse them): no error, no replica use', async () => {
    const before = db.replicaStats();
    const user = await db.users.create({ email: freshEmail() });
    await db.users.update(user.id, { name: 'Ada' });
    await db.tenants.create({ id: `t${process.pid}`, name: 'T' });
    await db.transaction(async (tx) => tx.users.create({ email: freshEmail() }));
    const after = db.replicaStats();
    expect(after.replicaReads).toBe(before.replicaReads);
    expect(after.gates).toBe(before.gates);
    expect((db.replica.users as Record<string, unknown>).create).toBeUndefined();
    expect((db.replica.appKeys as Record<string, unknown>).verify).toBeUndefined();
  });
});

describe('a replica that cannot answer', () => {
  it('refusing connections: the read falls back at once, and the replica is skipped for a while', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const down = await connectTo(`postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`);
    const started = performance.now();
    expect((await down.replica.users.list()).items.length).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(1000);
    await down.replica.users.list();
    const stats = down.replicaStats();
    expect(stats.fallbacks.down).toBe(2);
    expect(stats.primaryReads).toBe(2);
    expect(stats.replicas[0]!.skippedUntil).not.toBeNull();
  });

  it('silent (accepts, never answers): the read falls back within timeoutMs', async () => {
    let silent: Listener | undefined;
    try {
      silent = await listen('silent');
      const hung = await connectTo(`postgres://postgres@127.0.0.1:${silent.port}/${database}?sslmode=disable`, {
        timeoutMs: 150,
      });
      const started = performance.now();
      expect((await hung.replica.users.list()).items.length).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(1500);
      expect(hung.replicaStats().fallbacks.timeout + hung.replicaStats().fallbacks.down).toBe(1);
    } finally {
      for (const s of silent?.sockets ?? []) s.destroy();
      silent?.server.close();
    }
  });

  it('blocked by replay (a lock the paused standby holds): statement_timeout ends it, the primary answers', async () => {
    const blocked = await connectTo(pair.urlFor('standby', database), { timeoutMs: 250 });
    await pair.waitForReplay();
    // Connected before the lock: what runs out of time below is the statement, not the connect.
    await blocked.replica.users.list();
    const locker = (await import('postgres')).default(pair.urlFor('primary', database), {
      max: 1,
      onnotice: () => undefined,
    });
    try {
      // The standby takes the primary's ACCESS EXCLUSIVE lock when it replays it and keeps it
      // until it replays the commit: paused in between, the table is locked on the standby only.
      // (Inside withReplayPaused for its lock on the pair's replay; resumed until the lock is replayed.)
      await pair.withReplayPaused(async () => {
        await pair.resumeReplay();
        await locker.begin(async (tx) => {
          await tx`lock table auth.users in access exclusive mode`;
          await pair.waitForReplay();
          await pair.pauseReplay();
        });
        const started = performance.now();
        expect((await blocked.replica.users.list()).items.length).toBeGreaterThan(0);
        expect(performance.now() - started).toBeLessThan(1500);
        expect(blocked.replicaStats().fallbacks.timeout).toBe(1);
      });
    } finally {
      await locker.end();
    }
  });

  it('a primary given as the replica is not a standby: never read from', async () => {
    const wrong = await connectTo(pair.urlFor('primary', database));
    await wrong.users.list();
    await wrong.replica.users.list();
    expect(wrong.replicaStats().fallbacks.notStandby).toBe(1);
    expect(wrong.replicaStats().replicaReads).toBe(0);
  });
});
