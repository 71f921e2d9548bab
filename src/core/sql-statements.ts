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
  let inUp = false;
  let transactional = true;
  const kept = lines.map((line, i) => {
    const mark = marks[i];
    if (mark) {
      inUp = mark[1] === 'up';
      if (inUp && /transaction:false/.test(mark[2] ?? '')) transactional = false;
      return '';
    }
    return inUp ? line : '';
  });
  return { sql: kept.join('\n'), transactional, dbmate: true };
}

export function readUpSection(path: string): UpSection {
  return upSection(readFileSync(path, 'utf8'));
}

export interface Statement {
  /** 1-based line of the file where the statement starts. */
  line: number;
  text: string;
}

/** Top-level statements (without their semicolons) and their first lines. */
export function statementsOf(sql: string): Statement[] {
  const out: Statement[] = [];
  let current = '';
  let startLine = 0;
  let line = 1;
  let i = 0;
  const take = (to: number) => {
    const piece = sql.slice(i, to);
    if (current.trim() === '' && piece.trim() !== '') startLine = line + countLines(piece.slice(0, piece.length - piece.trimStart().length));
    current += piece;
    line += countLines(piece);
    i = to;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const eol = sql.indexOf('\n', i);
      const end = eol < 0 ? sql.length : eol;
      current += current.trim() === '' ? '' : ' ';
      i = end;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const to = end < 0 ? sql.length : end + 2;
      line += countLines(sql.slice(i, to));
      current += current.trim() === '' ? '' : ' ';
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
        const end = sql.indexOf(tag, i + tag.length);
        take(end < 0 ? sql.length : end + tag.length);
        continue;
      }
    }
    if (c === ';') {
      if (current.trim()) out.push({ line: startLine, text: current.trim() });
      current = '';
      i++;
      continue;
    }
    take(i + 1);
  }
  if (current.trim()) out.push({ line: startLine, text: current.trim() });
  return out;
}

function countLines(text: string): number {
  let n = 0;
  for (const ch of text) if (ch === '\n') n++;
  return n;
}
