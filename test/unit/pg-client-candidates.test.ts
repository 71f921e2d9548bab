/**
 * The client programs pgstore runs: Debian's /usr/bin/pg_dump is pg_wrapper, a Perl script in
 * front of /usr/lib/postgresql/<major>/bin/pg_dump (~30 ms of CPU at each start, twice per
 * command); pgstore runs the versioned programs itself, in the wrapper's place in the order. A
 * program on PATH that is not the wrapper keeps its place.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { candidatePaths } from '../../src/tools/pg-client.js';

// The test needs Debian's versioned client folders, which CI installs (postgresql-client).
const majors = existsSync('/usr/lib/postgresql')
  ? readdirSync('/usr/lib/postgresql').filter((d) => existsSync(join('/usr/lib/postgresql', d, 'bin', 'pg_dump')))
  : [];
const dir = mkdtempSync(join(tmpdir(), 'pgstore-wrapper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH folder whose pg_dump is a link to a file named like Debian's wrapper, and one with a plain pg_dump. */
function layout(): { wrapperBin: string; ownBin: string } {
  const wrapper = join(dir, 'share', 'postgresql-common', 'pg_wrapper');
  mkdirSync(join(dir, 'share', 'postgresql-common'), { recursive: true });
  writeFileSync(wrapper, '#!/bin/sh\nexit 0\n');
  chmodSync(wrapper, 0o755);
  const wrapperBin = join(dir, 'bin');
  mkdirSync(wrapperBin);
  symlinkSync(wrapper, join(wrapperBin, 'pg_dump'));
  const ownBin = join(dir, 'opt-pg', 'bin');
  mkdirSync(ownBin, { recursive: true });
  writeFileSync(join(ownBin, 'pg_dump'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(ownBin, 'pg_dump'), 0o755);
  return { wrapperBin, ownBin };
}

describe.runIf(majors.length > 0)('pg_dump candidates', () => {
  const { wrapperBin, ownBin } = layout();

  it('passes over pg_wrapper for the versioned programs, keeping a plain program on PATH first', () => {
    const paths = candidatePaths('pg_dump', { PATH: [ownBin, wrapperBin].join(':') });
    expect(paths[0]).toBe(join(ownBin, 'pg_dump'));
    expect(paths).not.toContain(join(wrapperBin, 'pg_dump'));
    expect(paths.slice(1).every((p) => /^\/usr\/lib\/postgresql\/\d+\/bin\/pg_dump$/.test(p))).toBe(true);
    expect(paths.length).toBe(1 + majors.length);
  });

  it("puts the versioned programs at the wrapper's place: a program later on PATH stays after them", () => {
    const paths = candidatePaths('pg_dump', { PATH: [wrapperBin, ownBin].join(':') });
    expect(paths.slice(0, majors.length).every((p) => /^\/usr\/lib\/postgresql\/\d+\/bin\/pg_dump$/.test(p))).toBe(
      true,
    );
    expect(paths[majors.length]).toBe(join(ownBin, 'pg_dump'));
    expect(paths).not.toContain(join(wrapperBin, 'pg_dump'));
  });
});
