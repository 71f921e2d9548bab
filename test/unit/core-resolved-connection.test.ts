/**
 * A connection is resolved once per command, at the edge (the command, or the library's
 * connect()), and core takes the resolved target: no file under src/core resolves a
 * connection or reads a URL it was given as text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sources(path) : e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('core takes a resolved connection', () => {
  it('never resolves one itself, nor takes a URL as text', () => {
    const found = sources(join(root, 'src', 'core')).flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [/\bresolveConnection\b/, /\bresolveEmbedded\b/, /\bdatabaseUrl\b/, /\bparseUrl\b/]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${relative(root, file)}: ${pattern.source}`);
    });
    expect(found).toEqual([]);
  });
});
