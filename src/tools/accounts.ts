/**
 * Unix accounts. PostgreSQL refuses to run as root, so as root the embedded server runs as an
 * existing unprivileged account. pgstore never creates one.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

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
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/** The current process's account, or the unprivileged one it must run the server as. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * The first ancestor of `path` (itself included) that `account` cannot enter, or undefined
 * when every directory on the way is reachable. Only mode bits are considered (no ACLs).
 */
export function firstUnreachable(path: string, account: Account): string | undefined {
  const chain: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let info;
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
