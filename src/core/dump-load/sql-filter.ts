/**
 * A plain SQL dump on its way to psql: `ALTER ... OWNER TO` statements are dropped (the
 * --no-owner default), and so are privilege statements naming roles the target lacks. Only
 * whole single-line statements at the top level are touched: COPY data and dollar-quoted
 * bodies pass through as they are. It also reports each table whose rows start (COPY).
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Role names a privilege statement refers to (not PUBLIC). */
export function rolesInPrivilegeStatement(line: string): string[] {
  const roles: string[] = [];
  const session = /^SET SESSION AUTHORIZATION (.+);$/.exec(line);
  if (session) return identifiers(session[1]!).filter((r) => r.toLowerCase() !== 'default');
  if (!/^(GRANT|REVOKE|ALTER DEFAULT PRIVILEGES) /.test(line)) return roles;
  const forRole = /\bFOR ROLE (.+?) (?:IN SCHEMA|GRANT|REVOKE)\b/.exec(line);
  if (forRole) roles.push(...identifiers(forRole[1]!));
  const body = line.replace(/;\s*$/, '');
  const grantedBy = / GRANTED BY (.+)$/.exec(body);
  if (grantedBy) roles.push(...identifiers(grantedBy[1]!));
  const core = body
    .replace(/ GRANTED BY .+$/, '')
    .replace(/ WITH GRANT OPTION$/, '')
    .replace(/ (CASCADE|RESTRICT)$/, '');
  const isRevoke = /(^REVOKE |\sREVOKE )/.test(core);
  const keyword = isRevoke ? ' FROM ' : ' TO ';
  const at = core.lastIndexOf(keyword);
  if (at >= 0) roles.push(...identifiers(core.slice(at + keyword.length)));
  // PUBLIC is not a role (and no role may be named public).
  return roles.filter((r) => r.toLowerCase() !== 'public');
}

/** "a, \"B c\", d" → ["a", "B c", "d"]. */
function identifiers(list: string): string[] {
  const out: string[] = [];
  for (const match of list.matchAll(/"((?:[^"]|"")*)"|([^,\s]+)/g)) {
    out.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!);
  }
  return out;
}

export interface SqlFilterOptions {
  /** Drop ALTER ... OWNER TO (objects end up owned by the restoring role). */
  dropOwner: boolean;
  /**
   * When owners are kept: whether a role may be given ownership here (it exists and the
   * restoring role may act as it). An ALTER ... OWNER TO naming another role is dropped.
   */
  ownerUsable?: (name: string) => boolean;
  /** Whether a role exists on the target. */
  roleExists: (name: string) => boolean;
  /** Called when a table's rows start (COPY ... FROM stdin). */
  onTable?: (qualifiedName: string) => void;
}

const COPY_END = Buffer.from('\n\\.\n');
const NEWLINE = 0x0a;

/** The filtering stream; its counters say what it dropped. */
export class DumpSqlFilter extends Transform {
  ownerStatementsDropped = 0;
  privilegeStatementsDropped = 0;
  readonly missingRoles = new Set<string>();
  /** Owners whose ALTER ... OWNER TO was dropped because ownerUsable said no. */
  readonly unusableOwners = new Set<string>();
  private pending: Buffer = Buffer.alloc(0);
  private inCopy = false;
  private copyAtLineStart = true;
  private dollarTag: string | null = null;

  constructor(private readonly options: SqlFilterOptions) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.drain(false);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.drain(true);
    if (this.pending.length)
      this.push(this.inCopy ? this.pending : (this.filterLine(this.pending.toString('utf8')) ?? ''));
    this.pending = Buffer.alloc(0);
    done();
  }

  private drain(final: boolean): void {
    for (;;) {
      if (this.inCopy) {
        if (this.copyAtLineStart && this.pending.subarray(0, 3).equals(COPY_END.subarray(1))) {
          this.push(this.pending.subarray(0, 3));
          this.pending = this.pending.subarray(3);
          this.inCopy = false;
          continue;
        }
        const at = this.pending.indexOf(COPY_END);
        if (at >= 0) {
          this.push(this.pending.subarray(0, at + COPY_END.length));
          this.pending = this.pending.subarray(at + COPY_END.length);
          this.inCopy = false;
          continue;
        }
        // Keep the last 3 bytes: they may begin the terminator.
        const keep = final ? 0 : Math.min(3, this.pending.length);
        const cut = this.pending.length - keep;
        if (cut > 0) {
          this.push(this.pending.subarray(0, cut));
          this.copyAtLineStart = this.pending[cut - 1] === NEWLINE;
          this.pending = this.pending.subarray(cut);
        }
        return;
      }
      const eol = this.pending.indexOf(NEWLINE);
      if (eol < 0) return;
      const line = this.pending.subarray(0, eol).toString('utf8');
      this.pending = this.pending.subarray(eol + 1);
      const kept = this.filterLine(line);
      if (kept !== null) this.push(`${kept}\n`);
    }
  }

  /** The line to send on, or null to drop it. */
  private filterLine(line: string): string | null {
    if (this.dollarTag === null) {
      const copy = /^COPY (.+?) (?:\(.*\) )?FROM stdin;$/.exec(line);
      if (copy) {
        this.inCopy = true;
        this.copyAtLineStart = true;
        this.options.onTable?.(copy[1]!);
        return line;
      }
      const owner = /^ALTER [A-Z ]+ .* OWNER TO (.+);$/.exec(line);
      if (owner && this.options.dropOwner) {
        this.ownerStatementsDropped++;
        return null;
      }
      const role = owner ? identifiers(owner[1]!)[0] : undefined;
      if (role !== undefined && this.options.ownerUsable && !this.options.ownerUsable(role)) {
        this.unusableOwners.add(role);
        this.ownerStatementsDropped++;
        return null;
      }
      const roles = rolesInPrivilegeStatement(line);
      const missing = roles.filter((r) => !this.options.roleExists(r));
      if (missing.length) {
        for (const r of missing) this.missingRoles.add(r);
        this.privilegeStatementsDropped++;
        return null;
      }
    }
    this.trackDollarQuotes(line);
    return line;
  }

  private trackDollarQuotes(line: string): void {
    if (!line.includes('$')) return;
    for (const match of line.matchAll(/\$([A-Za-z_][A-Za-z_0-9]*)?\$/g)) {
      const tag = match[0];
      if (this.dollarTag === null) this.dollarTag = tag;
      else if (this.dollarTag === tag) this.dollarTag = null;
    }
  }
}
