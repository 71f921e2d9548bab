/**
 * Unix accounts. PostgreSQL refuses to run as root, so as root the embedded server runs as an
 * existing unprivileged account. pgstore never creates one.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** Looks an account up in /etc/passwd (local accounts, which is what a server account is). */
export function findAccount(name: string, passwdPath = '/etc/passwd'): Account | undefined {
  let text: string;
  try {
    text = readFileSync(passwdPath, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    // A malformed entry (an empty uid would read as 0, root) is no account at all.
    if (user === name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid)) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/** The local account with this uid (the owner of a data folder, say). */
export function findAccountByUid(uid: number, passwdPath = '/etc/passwd'): Account | undefined {
  let text: string;
  try {
    text = readFileSync(passwdPath, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , id, gid] = line.split(':');
    if (user && id === String(uid) && gid !== undefined && /^\d+$/.test(gid))
      return { name: user, uid, gid: Number(gid) };
  }
  return undefined;
}

/** The current process's account, or the unprivileged one it must run the server as. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The first ancestor of `path` (itself included) that `account` cannot enter, or undefined
 * when every directory on the way is reachable. Only mode bits and the account's primary
 * group are considered (no ACLs, no supplementary groups). A relative path is taken from the
 * current directory; through a symbolic link, the target's ancestors are checked too.
 */
export function firstUnreachable(path: string, account: Account): string | undefined {
  const absolute = resolve(path);
  const blocked = firstBlocked(absolute, account);
  if (blocked !== undefined) return blocked;
  const real = realPathOfExisting(absolute);
  return real === absolute ? undefined : firstBlocked(real, account);
}

function firstBlocked(path: string, account: Account): string | undefined {
  const chain: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let info: ReturnType<typeof statSync>;
    try {
      info = statSync(dir);
    } catch {
      return undefined; // not created yet: whoever creates it decides its mode
    }
    const bit = info.uid === account.uid ? 0o100 : info.gid === account.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return dir;
  }
  return undefined;
}

/** The real path of the longest existing prefix of `path`, with the rest appended. */
function realPathOfExisting(path: string): string {
  const rest: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return join(realpathSync(dir), ...rest);
    } catch {
      if (dirname(dir) === dir) return path;
      rest.unshift(basename(dir));
    }
  }
}
