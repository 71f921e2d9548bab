/**
 * Where pgBackRest's things live: `<backup dir>/pgbackrest/` holds the configuration pgstore
 * writes (pgbackrest.conf), the repository (repo/), and pgBackRest's log, lock and spool
 * folders. One cluster per backup folder (the stanza is always `pgstore`).
 */
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../../errors.js';
import { type Account, findAccountByUid, firstUnreachable } from '../../../tools/accounts.js';
import { makeDirs } from '../../../util/make-dirs.js';

export const STANZA = 'pgstore';

export interface PgbackrestLayout {
  backupDir: string;
  root: string;
  config: string;
  repo: string;
  log: string;
  lock: string;
  spool: string;
}

/** The layout under a backup folder (nothing is created). */
export function pgbackrestLayout(backupDir: string): PgbackrestLayout {
  const root = join(backupDir, 'pgbackrest');
  return {
    backupDir,
    root,
    config: join(root, 'pgbackrest.conf'),
    repo: join(root, 'repo'),
    log: join(root, 'log'),
    lock: join(root, 'lock'),
    spool: join(root, 'spool'),
  };
}

/**
 * Paths that go into archive_command (run through a shell by the server) and pgbackrest.conf
 * must be plain: no spaces, quotes, `%` or shell characters. Refused otherwise, not quoted.
 */
export function checkPlainPath(path: string, what: string): string {
  if (!/^\/[A-Za-z0-9_./@+,:=-]*$/.test(path)) {
    throw new UsageError(
      `${what} ${path} cannot be used with pgBackRest: it goes into archive_command, which the server runs through a shell`,
      {
        hint: 'Choose a backup folder (--dir or PGSTORE_BACKUP_DIR) whose path has only letters, digits and . _ - / characters.',
      },
    );
  }
  return path;
}

/** The account that owns the repository (who runs `pgbackrest info` as root); undefined when not root or none yet. */
export function repositoryAccount(layout: PgbackrestLayout, root: boolean): Account | undefined {
  if (!root) return undefined;
  const info = statSync(layout.root, { throwIfNoEntry: false });
  if (!info || info.uid === 0) return undefined;
  return findAccountByUid(info.uid);
}

/** Creates a folder 0700 owned by `account` (through a descriptor, never by path), or checks an existing one is its. */
export function ownedFolder(path: string, account: Account | undefined): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    const owner = account?.uid ?? process.getuid?.();
    if (info.uid !== owner && info.uid !== process.getuid?.()) {
      throw new UsageError(`${path} belongs to uid ${info.uid}, not to ${account?.name ?? 'this user'}`, {
        hint: 'Remove it or choose another backup folder.',
      });
    }
    if (account && info.uid !== account.uid) fchownSync(fd, account.uid, account.gid);
    fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

/**
 * As root, the account the server runs as must be able to enter the backup folder: pgstore
 * makes the folder enterable (0711: enter, not list) when it is root's; a parent it cannot
 * enter is refused with the command to fix it.
 */
export function enterableBackupDir(backupDir: string, account: Account | undefined, reach: string): void {
  makeDirs(backupDir, 0o700);
  if (!account) return;
  const info = statSync(backupDir);
  if (info.uid === process.getuid?.() && (info.mode & 0o001) === 0) chmodSync(backupDir, (info.mode & 0o777) | 0o011);
  const blocked = firstUnreachable(backupDir, account);
  if (blocked) {
    throw new ConfigError([`the server account ${account.name} cannot enter ${blocked} to reach ${reach}`], {
      hint: `Let it enter (chmod o+x '${blocked}'), or choose a backup folder it can reach (--dir, PGSTORE_BACKUP_DIR).`,
    });
  }
}

/** Creates the layout's folders, owned by the account pgBackRest runs as. */
export function prepareLayout(layout: PgbackrestLayout, account: Account | undefined): void {
  checkPlainPath(layout.root, 'backup folder');
  enterableBackupDir(layout.backupDir, account, layout.root);
  for (const dir of [layout.root, layout.repo, layout.log, layout.lock, layout.spool]) ownedFolder(dir, account);
}

/** True when pgstore has written a pgBackRest configuration under this backup folder. */
export function hasPgbackrest(backupDir: string): boolean {
  return existsSync(pgbackrestLayout(backupDir).config);
}
