/**
 * When `backup`/`restore --engine pgbackrest` skip pgBackRest's stanza-create (~0.6 s each):
 * only for a stanza whose current database is this cluster (system identifier and major
 * version, read from the real test server). Any other stanza goes to stanza-create, which
 * creates it or refuses it in pgBackRest's own words. (That a second backup and the restores
 * skip it end to end: test/e2e/pgbackrest.test.ts.)
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Cluster } from '../../src/core/backup/pgbackrest/cluster.js';
import { stanzaIsReady } from '../../src/core/backup/pgbackrest/take.js';
import { withAdminSql } from '../../src/db/pool.js';
import { resolveReplicas } from '../../src/db/replica-config.js';
import type { PgbackrestStanzaInfo } from '../../src/tools/pgbackrest.js';

let cluster: Cluster;
let systemId: string;
let version: string;

beforeAll(async () => {
  const [conn] = resolveReplicas(inject('pgServer').adminUrl, {}, 'test');
  const row = await withAdminSql(conn!, async (sql) => {
    const [r] = await sql<Array<{ id: string; v: number }>>`
      select system_identifier::text as id, current_setting('server_version_num')::int as v from pg_control_system()`;
    return r!;
  });
  systemId = row.id;
  version = String(Math.floor(row.v / 10000));
  cluster = { conn: conn!, facts: { versionNum: row.v } } as Cluster;
});

function info(code: number, db: PgbackrestStanzaInfo['db']): PgbackrestStanzaInfo {
  return { name: 'pgstore', status: { code, message: '' }, backup: [], archive: [], db };
}

/** The same 64-bit number plus one, as text (past a JSON number's exact range). */
const otherId = () => (BigInt(systemId) + 1n).toString();

describe('stanzaIsReady', () => {
  it('is ready when the current database is this cluster, with or without a backup yet', async () => {
    expect(await stanzaIsReady(cluster, info(0, [{ id: 1, 'system-id': systemId, version }]))).toBe(true);
    expect(await stanzaIsReady(cluster, info(2, [{ id: 1, 'system-id': systemId, version }]))).toBe(true);
    // Upgraded: the highest id is the current one.
    const upgraded = [
      { id: 2, 'system-id': systemId, version },
      { id: 1, 'system-id': otherId(), version: '14' },
    ];
    expect(await stanzaIsReady(cluster, info(0, upgraded))).toBe(true);
  });

  it("is not ready for another cluster's stanza, another version, a missing or damaged stanza", async () => {
    expect(await stanzaIsReady(cluster, info(0, [{ id: 1, 'system-id': otherId(), version }]))).toBe(false);
    expect(
      await stanzaIsReady(
        cluster,
        info(0, [
          { id: 1, 'system-id': systemId, version },
          { id: 2, 'system-id': otherId(), version },
        ]),
      ),
    ).toBe(false);
    expect(await stanzaIsReady(cluster, info(0, [{ id: 1, 'system-id': systemId, version: '14' }]))).toBe(false);
    expect(await stanzaIsReady(cluster, info(1, []))).toBe(false);
    expect(await stanzaIsReady(cluster, info(3, [{ id: 1, 'system-id': systemId, version }]))).toBe(false);
    expect(await stanzaIsReady(cluster, info(0, []))).toBe(false);
    expect(await stanzaIsReady(cluster, undefined)).toBe(false);
  });
});
