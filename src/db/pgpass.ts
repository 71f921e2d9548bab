import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface PgpassQuery {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Where libpq looks for the password file: PGPASSFILE, else ~/.pgpass. */
export function pgpassPath(env: Record<string, string | undefined>, home = homedir()): string {
  return env.PGPASSFILE || join(home, '.pgpass');
}

interface Field {
  value: string;
  /** An unescaped `*`: matches anything. (`\*` is a literal star.) */
  wildcard: boolean;
}

/** Splits one .pgpass line on unescaped colons, undoing `\:` and `\\`. */
function splitFields(line: string): Field[] {
  const fields: Field[] = [];
  let current = '';
  let raw = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) {
      raw += ch + line[i + 1];
      current += line[++i];
    } else if (ch === ':') {
      fields.push({ value: current, wildcard: raw === '*' });
      current = '';
      raw = '';
    } else {
      current += ch;
      raw += ch;
    }
  }
  fields.push({ value: current, wildcard: raw === '*' });
  return fields;
}

/**
 * Finds the password for a connection in .pgpass text, the way libpq does: first match wins,
 * and the password ends at the next unescaped colon (libpq ignores any further fields).
 */
export function matchPgpass(text: string, query: PgpassQuery): string | undefined {
  const wanted = [query.host, String(query.port), query.database, query.user];
  for (const raw of text.split(/\r?\n/)) {
    if (!raw.trim() || raw.startsWith('#')) continue;
    const fields = splitFields(raw);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, i) => fields[i]!.wildcard || fields[i]!.value === value);
    if (matches) return fields[4]!.value;
  }
  return undefined;
}

/**
 * Reads the password for a connection from the password file. Like libpq, a file that
 * group or others can read is ignored.
 */
export function lookupPgpass(path: string, query: PgpassQuery): string | undefined {
  try {
    const info = statSync(path);
    if (!info.isFile() || (info.mode & 0o077) !== 0) return undefined;
    return matchPgpass(readFileSync(path, 'utf8'), query);
  } catch {
    return undefined;
  }
}
