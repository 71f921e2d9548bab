/**
 * Global setup that holds the suite to a promise of its own: no test writes into the
 * repository. Tests that run the CLI in-process (test/helpers/cli-in-process.ts) resolve
 * relative paths against the worker's folder, the repository root, so a default such as
 * `./db/schema.sql` would land there. The files git does not know about are listed before the
 * run and after it; a new one fails the run, naming it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Untracked and changed paths, as `git status --porcelain` lists them (undefined outside git). */
function changedPaths(): Set<string> | undefined {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return new Set(out.split('\n').filter((line) => line.trim() !== ''));
  } catch {
    return undefined; // not a git checkout (a packed copy): nothing to compare
  }
}

/**
 * What the CLI reads from its working folder by default (./db/migrations, ./db/schema.sql,
 * pgstore.toml) and the repository holds: in-process runs would read it (a user's `pgstore
 * migrate new` in the clone makes `migrate`, `health` and `setup` tests see a pending file).
 */
export function workingFolderFiles(root: string): string[] {
  return ['db/migrations', 'db/schema.sql', 'pgstore.toml'].filter((path) => existsSync(join(root, path)));
}

export default function setup(): () => void {
  const found = workingFolderFiles(ROOT);
  if (found.length > 0) {
    const move = [...new Set(found.map((path) => path.split('/')[0]))].join(' ');
    throw new Error(
      `${found.join(', ')} in ${ROOT}: the tests run pgstore with this folder as its working folder, where it reads them. ` +
        `Move them out of the repository (e.g. \`mv ${move} /tmp/\`), then run the tests again.`,
    );
  }
  const before = changedPaths();
  return () => {
    if (!before) return;
    const added = [...(changedPaths() ?? [])].filter((line) => !before.has(line));
    if (added.length === 0) return;
    // vitest reports an error thrown here but still exits 0: the exit code is set as well.
    process.exitCode = 1;
    throw new Error(`the tests wrote into the repository (${ROOT}):\n${added.join('\n')}`);
  };
}
