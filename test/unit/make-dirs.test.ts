/**
 * makeDirs ends: where Node's mkdirSync(..., { recursive: true }) spins forever (a path under
 * /proc on Linux), it throws ENOENT naming the folder it could not make.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../../src/util/make-dirs.js';

const base = mkdtempSync(join(tmpdir(), 'pgstore-make-dirs-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('makeDirs', () => {
  it.runIf(existsSync('/proc/self'))('a folder under /proc: ENOENT at once, no endless loop', () => {
    expect(() => makeDirs('/proc/pgstore-make-dirs/x')).toThrow(
      expect.objectContaining({ code: 'ENOENT', path: '/proc/pgstore-make-dirs' }),
    );
  });

  it('a file in the way: ENOTDIR or EEXIST naming it', () => {
    const file = join(base, 'file');
    writeFileSync(file, 'x');
    expect(() => makeDirs(join(file, 'sub'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeDirs(file)).toThrow(expect.objectContaining({ code: 'EEXIST', path: file }));
  });

  it('makes every missing parent with the mode, and is happy when the folder exists', () => {
    const deep = join(base, 'a', 'b', 'c');
    makeDirs(deep, 0o700);
    makeDirs(deep, 0o700);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(statSync(join(base, 'a')).mode & 0o777).toBe(0o700);
  });
});
