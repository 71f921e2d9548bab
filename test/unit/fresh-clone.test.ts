/**
 * A user's clone has no shared folder beside it: nothing the project runs or documents may read it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') return [];
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('a fresh clone', () => {
  it('nothing in src/, test/, scripts/ or the README reads the shared folder', () => {
    const files = [
      ...['src', 'test', 'scripts', 'bin'].flatMap((d) => filesUnder(join(ROOT, d))),
      join(ROOT, 'README.md'),
    ];
    const pattern = ['\\.\\.', 'shared'].join('/');
    const offenders = files.filter((f) => new RegExp(pattern).test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the fixtures the tests read are in the repository with their source and licence', () => {
    for (const f of [
      'hosts/urlhaus.hosts',
      'hosts/SOURCE.md',
      'pagila/pagila-schema.sql',
      'pagila/pagila-data.sql',
      'pagila/SOURCE.md',
      'pagila/LICENSE.txt',
    ]) {
      expect(statSync(join(ROOT, 'test/fixtures', f)).size).toBeGreaterThan(0);
    }
  });
});
