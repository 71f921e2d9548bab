/**
 * A small SQL lexer for the statements pg_restore renders from an archive (an untrusted input):
 * enough of PostgreSQL's rules (strings with '' or E'\'', dollar quotes, nested block comments,
 * quoted identifiers) that statement boundaries fall where the server would put them. What it
 * does not know becomes a `bad` token, and a statement holding one is never used. Callers build
 * their own SQL from the tokens' values; no text of the input is ever passed through.
 */

export type Token =
  | { t: 'ident'; v: string; quoted: boolean }
  | { t: 'string'; v: string }
  | { t: 'num'; v: string }
  | { t: 'punct'; v: string }
  | { t: 'bad'; v: string };

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Top-level statements as token lists (without their semicolons); psql meta-command lines are dropped. */
export function tokenizeStatements(text: string): Token[][] {
  const out: Token[][] = [];
  let current: Token[] = [];
  let i = 0;
  const bad = (v: string) => current.push({ t: 'bad', v });
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (' \t\n\r\f\v'.includes(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      i = lineEnd(text, i);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      while (i < text.length) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          i += 2;
          if (--depth === 0) break;
        } else i++;
      }
    } else if (c === '\\' && current.length === 0) {
      i = lineEnd(text, i); // \connect, \restrict: psql's, not SQL
    } else if (c === ';') {
      if (current.length) out.push(current);
      current = [];
      i++;
    } else if (c === "'") {
      const [value, end] = quoted(text, i, "'");
      if (value === null) bad(text.slice(i));
      else current.push({ t: 'string', v: value });
      i = end;
    } else if (c === '"') {
      const [value, end] = quoted(text, i, '"');
      if (value === null || value === '') bad(text.slice(i, end));
      else current.push({ t: 'ident', v: value, quoted: true });
      i = end;
    } else if ((c === 'E' || c === 'e') && next === "'") {
      const end = escapeStringEnd(text, i + 2);
      bad(text.slice(i, end)); // E'...': pg_dump renders none with standard_conforming_strings
      i = end;
    } else if (c === '$' && /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.test(text.slice(i, i + 64))) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(text.slice(i, i + 64))![0];
      const close = text.indexOf(tag, i + tag.length);
      const end = close < 0 ? text.length : close + tag.length;
      bad(text.slice(i, end)); // dollar quotes: pg_dump renders none in these entries
      i = end;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < text.length && IDENT_PART.test(text[j]!)) j++;
      const word = text.slice(i, j);
      // U&'...' / U&"...": Unicode escapes, not rendered by pg_dump.
      if (/^u$/i.test(word) && text[j] === '&') bad(word);
      else current.push({ t: 'ident', v: word.replace(/[A-Z]+/g, (s) => s.toLowerCase()), quoted: false });
      i = j;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(text.slice(i))![0];
      current.push({ t: 'num', v: m });
      i += m.length;
    } else if (',.=()'.includes(c)) {
      current.push({ t: 'punct', v: c });
      i++;
    } else {
      bad(c);
      i++;
    }
  }
  if (current.length) out.push(current);
  return out;
}

function lineEnd(text: string, from: number): number {
  const eol = text.indexOf('\n', from);
  return eol < 0 ? text.length : eol + 1;
}

/** A '...' or "..." starting at `start` (doubled quotes inside): its value and the index after it; null when unterminated or holding a NUL. */
function quoted(text: string, start: number, q: string): [string | null, number] {
  let value = '';
  let j = start + 1;
  for (;;) {
    if (j >= text.length) return [null, text.length];
    if (text[j] === q) {
      if (text[j + 1] === q) {
        value += q;
        j += 2;
        continue;
      }
      return [value.includes('\0') ? null : value, j + 1];
    }
    value += text[j];
    j++;
  }
}

/** The index after an E'...' string whose body starts at `from` (backslash escapes a character). */
function escapeStringEnd(text: string, from: number): number {
  let j = from;
  while (j < text.length) {
    if (text[j] === '\\') j += 2;
    else if (text[j] === "'" && text[j + 1] === "'") j += 2;
    else if (text[j] === "'") return j + 1;
    else j++;
  }
  return text.length;
}

/** A quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal that reads the same whatever standard_conforming_strings is. */
export function quoteLiteral(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
