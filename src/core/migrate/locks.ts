/**
 * The table-level locks a migration's statements take, derived from the statement kinds as
 * PostgreSQL's documentation lists them ("Explicit Locking", table-level lock modes, and each
 * command's reference page). A static estimate: `migrate plan --rehearse` measures instead.
 */
import type { Statement } from '../sql-statements.js';
import type { LockMode, StatementLock } from '../../types/migrate-plan.js';

export type { LockMode, StatementLock } from '../../types/migrate-plan.js';

/** What other sessions cannot do on the table while a lock of this mode is held. */
export const LOCK_BLOCKS: Record<LockMode, string> = {
  'ACCESS SHARE': 'only ACCESS EXCLUSIVE (schema changes that rewrite or drop)',
  'ROW SHARE': 'EXCLUSIVE and ACCESS EXCLUSIVE',
  'ROW EXCLUSIVE': 'SHARE and stronger (e.g. CREATE INDEX without CONCURRENTLY)',
  'SHARE UPDATE EXCLUSIVE': 'schema changes, VACUUM and concurrent index builds; reads and writes go on',
  SHARE: 'writes (INSERT, UPDATE, DELETE); reads go on',
  'SHARE ROW EXCLUSIVE': 'writes and other schema changes; reads go on',
  EXCLUSIVE: 'writes and SELECT ... FOR UPDATE; plain reads go on',
  'ACCESS EXCLUSIVE': 'everything, reads included',
};

const NAME = String.raw`((?:"(?:[^"]|"")*"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")*"|[\w$]+))?)`;
const IF_EXISTS = String.raw`(?:if\s+(?:not\s+)?exists\s+)?`;
const ONLY = String.raw`(?:only\s+)?`;

interface Rule {
  re: RegExp;
  kind: string | ((m: RegExpExecArray) => string);
  lock: LockMode | null | ((m: RegExpExecArray) => LockMode | null);
  /** The capture group holding the table name. */
  table?: number;
}

/** ALTER TABLE's sub-commands that take less than ACCESS EXCLUSIVE (the docs' ALTER TABLE page). */
function alterTableLock(actions: string): { kind: string; lock: LockMode } {
  const a = actions.toLowerCase().replace(/\s+/g, ' ');
  if (/\bvalidate constraint\b/.test(a))
    return { kind: 'ALTER TABLE ... VALIDATE CONSTRAINT', lock: 'SHARE UPDATE EXCLUSIVE' };
  if (/\bdetach partition\b.*\bconcurrently\b/.test(a))
    return { kind: 'ALTER TABLE ... DETACH PARTITION CONCURRENTLY', lock: 'SHARE UPDATE EXCLUSIVE' };
  if (/\battach partition\b/.test(a))
    return { kind: 'ALTER TABLE ... ATTACH PARTITION', lock: 'SHARE UPDATE EXCLUSIVE' };
  if (/^(alter (column )?\S+ set statistics|set \(|reset \(|cluster on|set without cluster)/.test(a))
    return { kind: 'ALTER TABLE ... SET (storage parameters/statistics)', lock: 'SHARE UPDATE EXCLUSIVE' };
  if (/^(enable|disable) (replica |always )?trigger\b/.test(a))
    return { kind: 'ALTER TABLE ... ENABLE/DISABLE TRIGGER', lock: 'SHARE ROW EXCLUSIVE' };
  if (/^add (constraint \S+ )?foreign key\b/.test(a) && !/,/.test(a))
    return { kind: 'ALTER TABLE ... ADD FOREIGN KEY', lock: 'SHARE ROW EXCLUSIVE' };
  const first =
    /^(add column|add constraint|add|drop column|drop constraint|drop|alter column \S+ (?:set data type|type)|alter column \S+ set not null|alter column \S+ drop not null|alter column \S+ set default|alter column \S+ drop default|alter column|alter|rename column|rename constraint|rename to|rename|set schema|set tablespace|set logged|set unlogged|owner to|inherit|no inherit|replica identity|enable row level security|disable row level security|force row level security)/.exec(
      a,
    )?.[1];
  const label = (first ?? a.split(' ').slice(0, 2).join(' '))
    .toUpperCase()
    .replace(/ \S+ (SET DATA TYPE|TYPE|SET NOT NULL|DROP NOT NULL|SET DEFAULT|DROP DEFAULT)$/, ' ... $1');
  return { kind: `ALTER TABLE ... ${label}`, lock: 'ACCESS EXCLUSIVE' };
}

const RULES: Rule[] = [
  {
    re: new RegExp(
      String.raw`^create\s+(?:unique\s+)?index\s+concurrently\s+${IF_EXISTS}(?:[\w$"]+\s+)?on\s+${ONLY}${NAME}`,
      'is',
    ),
    kind: 'CREATE INDEX CONCURRENTLY',
    lock: 'SHARE UPDATE EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^create\s+(?:unique\s+)?index\s+${IF_EXISTS}(?:[\w$"]+\s+)?on\s+${ONLY}${NAME}`, 'is'),
    kind: 'CREATE INDEX',
    lock: 'SHARE',
    table: 1,
  },
  { re: /^drop\s+index\s+concurrently\b/is, kind: 'DROP INDEX CONCURRENTLY', lock: 'SHARE UPDATE EXCLUSIVE' },
  { re: /^drop\s+index\b/is, kind: 'DROP INDEX', lock: 'ACCESS EXCLUSIVE' },
  {
    re: new RegExp(String.raw`^reindex\s+(?:\([^)]*\)\s+)?(?:table|index)\s+concurrently\s+${NAME}`, 'is'),
    kind: 'REINDEX CONCURRENTLY',
    lock: 'SHARE UPDATE EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^reindex\s+(?:\([^)]*\)\s+)?(?:table|index)\s+${NAME}`, 'is'),
    kind: 'REINDEX',
    lock: 'SHARE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^alter\s+table\s+${IF_EXISTS}${ONLY}${NAME}\s+(.*)$`, 'is'),
    kind: (m) => alterTableLock(m[2]!).kind,
    lock: (m) => alterTableLock(m[2]!).lock,
    table: 1,
  },
  {
    re: new RegExp(String.raw`^alter\s+index\s+${IF_EXISTS}${NAME}\s+rename\b`, 'is'),
    kind: 'ALTER INDEX ... RENAME',
    lock: 'SHARE UPDATE EXCLUSIVE',
  },
  { re: /^alter\s+index\b/is, kind: 'ALTER INDEX', lock: 'ACCESS EXCLUSIVE' },
  {
    re: new RegExp(String.raw`^create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+.*?\bon\s+${NAME}`, 'is'),
    kind: 'CREATE TRIGGER',
    lock: 'SHARE ROW EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^drop\s+trigger\s+${IF_EXISTS}[\w$"]+\s+on\s+${NAME}`, 'is'),
    kind: 'DROP TRIGGER',
    lock: 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^drop\s+table\s+${IF_EXISTS}${NAME}`, 'is'),
    kind: 'DROP TABLE',
    lock: 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^truncate\s+(?:table\s+)?${ONLY}${NAME}`, 'is'),
    kind: 'TRUNCATE',
    lock: 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^vacuum\s+(?:\([^)]*full[^)]*\)|full)\s*${NAME}?`, 'is'),
    kind: 'VACUUM FULL',
    lock: 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^(?:vacuum|analyze)\b(?:\s+\([^)]*\))?\s*${NAME}?`, 'is'),
    kind: 'VACUUM/ANALYZE',
    lock: 'SHARE UPDATE EXCLUSIVE',
    table: 1,
  },
  { re: new RegExp(String.raw`^cluster\s+${NAME}?`, 'is'), kind: 'CLUSTER', lock: 'ACCESS EXCLUSIVE', table: 1 },
  {
    re: new RegExp(String.raw`^refresh\s+materialized\s+view\s+concurrently\s+${NAME}`, 'is'),
    kind: 'REFRESH MATERIALIZED VIEW CONCURRENTLY',
    lock: 'EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^refresh\s+materialized\s+view\s+${NAME}`, 'is'),
    kind: 'REFRESH MATERIALIZED VIEW',
    lock: 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^lock\s+(?:table\s+)?${ONLY}${NAME}(?:\s+in\s+(.*?)\s+mode)?`, 'is'),
    kind: 'LOCK TABLE',
    lock: (m) => (m[2]?.toUpperCase().replace(/\s+/g, ' ') as LockMode | undefined) ?? 'ACCESS EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^(?:with\b.*?\)\s*)?insert\s+into\s+${NAME}`, 'is'),
    kind: 'INSERT',
    lock: 'ROW EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^(?:with\b.*?\)\s*)?update\s+${ONLY}${NAME}`, 'is'),
    kind: 'UPDATE',
    lock: 'ROW EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^(?:with\b.*?\)\s*)?delete\s+from\s+${ONLY}${NAME}`, 'is'),
    kind: 'DELETE',
    lock: 'ROW EXCLUSIVE',
    table: 1,
  },
  { re: new RegExp(String.raw`^merge\s+into\s+${ONLY}${NAME}`, 'is'), kind: 'MERGE', lock: 'ROW EXCLUSIVE', table: 1 },
  {
    re: new RegExp(String.raw`^comment\s+on\s+(?:table|column)\s+${NAME}`, 'is'),
    kind: 'COMMENT ON',
    lock: 'SHARE UPDATE EXCLUSIVE',
    table: 1,
  },
  {
    re: new RegExp(String.raw`^create\s+statistics\b.*?\bfrom\s+${NAME}`, 'is'),
    kind: 'CREATE STATISTICS',
    lock: 'SHARE UPDATE EXCLUSIVE',
    table: 1,
  },
  {
    re: /^select\b.*\bfor\s+(?:no\s+key\s+)?(?:update|share)\b/is,
    kind: 'SELECT ... FOR UPDATE/SHARE',
    lock: 'ROW SHARE',
  },
  { re: /^select\b/is, kind: 'SELECT', lock: 'ACCESS SHARE' },
  // New objects and catalog-only changes: no lock on an existing table (a new table's foreign
  // keys take SHARE ROW EXCLUSIVE on the referenced tables, reported separately below).
  { re: /^(create|drop|alter|comment|grant|revoke|set|reset|do)\b/is, kind: (m) => m[0].toUpperCase(), lock: null },
];

/** The lock each statement takes on an existing table. */
export function statementLocks(statements: Statement[]): StatementLock[] {
  const out: StatementLock[] = [];
  for (const s of statements) {
    const text = s.text.trim();
    const rule = RULES.find((r) => r.re.test(text));
    const m = rule?.re.exec(text);
    if (!rule || !m) {
      out.push({
        line: s.line,
        kind: (text.split(/\s+/)[0] ?? '').toUpperCase(),
        table: null,
        lock: null,
        blocks: null,
      });
      continue;
    }
    const kind = typeof rule.kind === 'function' ? rule.kind(m) : rule.kind;
    const lock = typeof rule.lock === 'function' ? rule.lock(m) : rule.lock;
    const table = rule.table !== undefined ? (m[rule.table] ?? null) : null;
    const head = kind === 'CREATE' && /^create\s+table\b/i.test(text) ? 'CREATE TABLE' : kind;
    out.push({ line: s.line, kind: head, table, lock, blocks: lock ? LOCK_BLOCKS[lock] : null });
    // Foreign keys in CREATE TABLE / ALTER TABLE ADD COLUMN ... REFERENCES lock the referenced table.
    if (/^(create\s+table|alter\s+table)\b/i.test(text)) {
      for (const ref of text.matchAll(new RegExp(String.raw`\breferences\s+${NAME}`, 'gi'))) {
        out.push({
          line: s.line,
          kind: 'FOREIGN KEY (referenced table)',
          table: ref[1]!,
          lock: 'SHARE ROW EXCLUSIVE',
          blocks: LOCK_BLOCKS['SHARE ROW EXCLUSIVE'],
        });
      }
    }
  }
  return out;
}
