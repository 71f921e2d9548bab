/**
 * A migration's `up` section as the linter and the planner see it: the SQL with every line
 * outside the section blanked (so line N of the text is line N of the file), and its
 * top-level statements with the line each starts on. String literals, quoted identifiers,
 * dollar-quoted bodies and comments may hold `;`.
 */
import { readFileSync } from 'node:fs';

const SECTION = /^--\s*migrate:(up|down)\b(.*)$/;

export interface UpSection {
  /** The file's text with every line outside the up section blanked (line numbers kept). */
  sql: string;
  /** False for `-- migrate:up transaction:false`. */
  transactional: boolean;
  /** Whether the file had dbmate section markers at all (a plain .sql file is linted whole). */
  dbmate: boolean;
}

/** The up section of a dbmate migration file's text. */
export function upSection(text: string): UpSection {
  const lines = text.split('\n');
  const marks = lines.map((line) => SECTION.exec(line.replace(/\r$/, '')));
  if (!marks.some(Boolean)) return { sql: text, transactional: false, dbmate: false };
  const up = marks.find((m) => m?.[1] === 'up');
  return {
    sql: keepSection(lines, marks, 'up'),
    transactional: !/transaction:false/.test(up?.[2] ?? ''),
    dbmate: true,
  };
}

/**
 * One section of a dbmate migration file, as it runs: every line outside it blanked (so a
 * position the server reports in it is a position in the file). Undefined when it has none.
 */
export function sectionInPlace(text: string, section: 'up' | 'down'): string | undefined {
  const lines = text.split('\n');
  const marks = lines.map((line) => SECTION.exec(line.replace(/\r$/, '')));
  if (!marks.some((m) => m?.[1] === section)) return undefined;
  return keepSection(lines, marks, section);
}

function keepSection(lines: string[], marks: Array<RegExpExecArray | null>, section: 'up' | 'down'): string {
  let inside = false;
  return lines
    .map((line, i) => {
      const mark = marks[i];
      if (mark) {
        inside = mark[1] === section;
        return '';
      }
      return inside ? line : '';
    })
    .join('\n');
}

/** The server's message, with the file line it points at when it gives a position (`sql`: a section in place). */
export function sqlErrorText(error: unknown, sql: string): string {
  const e = error as { message?: string; position?: string };
  const message = e.message ?? String(error);
  const position = Number(e.position);
  if (!Number.isFinite(position) || position < 1) return message;
  return `line ${countLines(sql.slice(0, position - 1)) + 1}: ${message}`;
}

export function readUpSection(path: string): UpSection {
  return upSection(readFileSync(path, 'utf8'));
}

export interface Statement {
  /** 1-based line of the file where the statement starts. */
  line: number;
  text: string;
}

/** Where a plain run of SQL text may end: a comment, a quote, a dollar quote or a semicolon. */
const SPECIAL = /[-/'"$;]/g;

/**
 * Top-level statements (without their semicolons) and their first lines. Linear in the text:
 * plain runs are taken whole (a lint of many pending files spends its time in squawk, not here).
 */
export function statementsOf(sql: string): Statement[] {
  const out: Statement[] = [];
  let current = '';
  let blank = true; // whether `current` is only whitespace so far
  let startLine = 0;
  let line = 1;
  let i = 0;
  const take = (to: number) => {
    const piece = sql.slice(i, to);
    if (blank && /\S/.test(piece)) {
      startLine = line + countLines(piece.slice(0, piece.length - piece.trimStart().length));
      blank = false;
    }
    current += piece;
    line += countLines(piece);
    i = to;
  };
  const end = () => {
    if (!blank) out.push({ line: startLine, text: current.trim() });
    current = '';
    blank = true;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      if (!blank) current += ' ';
      i = eol < 0 ? sql.length : eol;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      const to = close < 0 ? sql.length : close + 2;
      line += countLines(sql.slice(i, to));
      if (!blank) current += ' ';
      i = to;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      take(Math.min(sql.length, j + 1));
      continue;
    }
    if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        take(close < 0 ? sql.length : close + tag.length);
        continue;
      }
    }
    if (c === ';') {
      end();
      i++;
      continue;
    }
    // A plain run: up to the next character that may start something else.
    SPECIAL.lastIndex = i + 1;
    const next = SPECIAL.exec(sql);
    take(next ? next.index : sql.length);
  }
  end();
  return out;
}

function countLines(text: string): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) n++;
  return n;
}
