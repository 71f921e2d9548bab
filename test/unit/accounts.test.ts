/**
 * firstUnreachable: which folder stops an unprivileged account on the way to a path. The suite
 * runs as root, so a made-up account (uid/gid 54321) plays the server account.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, findAccount, firstUnreachable } from '../../src/tools/accounts.js';

const ACCOUNT: Account = { name: 'fake-pg', uid: 54321, gid: 54321 };
let base: string;
let n = 0;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'pgstore-accounts-'));
  chmodSync(base, 0o755); // mkdtemp makes 0700: nobody else could enter
  // the test is meaningless unless the account can reach the temp folder itself
  expect(firstUnreachable(base, ACCOUNT)).toBeUndefined();
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A fresh folder under base with the given mode and owner (root by default). */
function folder(mode: number, owner: { uid: number; gid: number } = { uid: 0, gid: 0 }, parent = base): string {
  const dir = join(parent, `d${++n}`);
  mkdirSync(dir);
  chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, mode);
  return dir;
}

describe('firstUnreachable', () => {
  it('undefined when every folder on the way can be entered', () => {
    const a = folder(0o755);
    const b = folder(0o711, undefined, a);
    expect(firstUnreachable(b, ACCOUNT)).toBeUndefined();
    expect(firstUnreachable(join(b, 'not', 'yet', 'made'), ACCOUNT)).toBeUndefined();
  });

  it('names the first folder the account cannot enter, the path itself included', () => {
    const closed = folder(0o700);
    const inner = folder(0o755, undefined, closed);
    expect(firstUnreachable(join(inner, 'x'), ACCOUNT)).toBe(closed);
    expect(firstUnreachable(closed, ACCOUNT)).toBe(closed);
    // read without search is not enough
    const readOnly = folder(0o744);
    expect(firstUnreachable(join(readOnly, 'x'), ACCOUNT)).toBe(readOnly);
  });

  it('a missing folder below a closed one still names the closed one', () => {
    const closed = folder(0o750);
    expect(firstUnreachable(join(closed, 'missing', 'deeper'), ACCOUNT)).toBe(closed);
  });

  it('the owner bits decide for the owner, and only they', () => {
    expect(firstUnreachable(folder(0o700, ACCOUNT), ACCOUNT)).toBeUndefined();
    expect(firstUnreachable(folder(0o100, ACCOUNT), ACCOUNT)).toBeUndefined();
    const ownerLockedOut = folder(0o077, ACCOUNT);
    expect(firstUnreachable(ownerLockedOut, ACCOUNT)).toBe(ownerLockedOut);
  });

  it('the group bits decide for a member of the group, and only they', () => {
    expect(firstUnreachable(folder(0o710, { uid: 0, gid: ACCOUNT.gid }), ACCOUNT)).toBeUndefined();
    const groupLockedOut = folder(0o701, { uid: 0, gid: ACCOUNT.gid });
    expect(firstUnreachable(groupLockedOut, ACCOUNT)).toBe(groupLockedOut);
    const otherGroup = folder(0o710, { uid: 0, gid: ACCOUNT.gid + 1 });
    expect(firstUnreachable(otherGroup, ACCOUNT)).toBe(otherGroup);
  });

  it('the other bits decide for everyone else', () => {
    expect(firstUnreachable(folder(0o701), ACCOUNT)).toBeUndefined();
    const noOther = folder(0o770);
    expect(firstUnreachable(noOther, ACCOUNT)).toBe(noOther);
  });

  it('a relative path is taken from the current folder', () => {
    const closed = folder(0o700);
    const target = join(closed, 'x');
    const rel = relative(process.cwd(), target);
    expect(rel.startsWith('/')).toBe(false);
    const expected = firstUnreachable(target, ACCOUNT);
    expect(expected).toBeDefined();
    expect(firstUnreachable(rel, ACCOUNT)).toBe(expected);
  });

  it('through a symbolic link, the target folders are checked too', () => {
    const closed = folder(0o700);
    const inner = folder(0o755, undefined, closed);
    const open = folder(0o755);
    symlinkSync(inner, join(open, 'link'));
    expect(firstUnreachable(join(open, 'link'), ACCOUNT)).toBe(closed);
    expect(firstUnreachable(join(open, 'link', 'not-yet'), ACCOUNT)).toBe(closed);
    // a link to a reachable place is fine
    const fine = folder(0o755);
    symlinkSync(fine, join(open, 'good-link'));
    expect(firstUnreachable(join(open, 'good-link', 'x'), ACCOUNT)).toBeUndefined();
  });
});

describe('findAccount', () => {
  it('reads name, uid and gid from a passwd file', () => {
    const path = join(base, 'passwd');
    writeFileSync(
      path,
      [
        'root:x:0:0:root:/root:/bin/bash',
        'postgres:x:107:114:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash',
        'broken:x::',
        'weird:x:abc:1:::',
      ].join('\n'),
    );
    expect(findAccount('postgres', path)).toEqual({ name: 'postgres', uid: 107, gid: 114 });
    expect(findAccount('nobody-here', path)).toBeUndefined();
    // a malformed entry is no account: an empty uid must never read as 0 (root)
    expect(findAccount('broken', path)).toBeUndefined();
    expect(findAccount('weird', path)).toBeUndefined();
    expect(findAccount('postgres', join(base, 'no-such-file'))).toBeUndefined();
  });
});
