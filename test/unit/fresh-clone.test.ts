/**
 * A user's clone has no shared folder beside it: nothing the project runs or documents may read it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workingFolderFiles } from '../helpers/repository-clean-setup.js';

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

  it('every dependency with an install script is reviewed in allowScripts (npm ci prints no advisory; npm 12 blocks unreviewed ones)', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((name) => !(name in pkg.allowScripts))).toEqual([]);
  });

  it('the suite names what the CLI would read from the clone as its working folder (the run stops before any test)', () => {
    const root = mkdtempSync(join(tmpdir(), 'pgstore-clone-'));
    try {
      expect(workingFolderFiles(root)).toEqual([]);
      mkdirSync(join(root, 'db/migrations'), { recursive: true });
      writeFileSync(join(root, 'pgstore.toml'), '');
      expect(workingFolderFiles(root)).toEqual(['db/migrations', 'pgstore.toml']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
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
