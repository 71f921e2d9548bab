/**
 * Shell completion: the bash script is run in a real bash with COMP_WORDS set, as bash runs
 * it on TAB; backup IDs come from `pgstore completion ids` without a server round trip (the
 * script runs the built binary for them). Printing the scripts and taking the backup run the
 * CLI's entry in-process (test/helpers/cli-in-process.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { pgstoreInProcess as pgstore, tempDir } from './backup-helpers.js';

const db = useTestDatabase();
const dir = tempDir('completion');
let script: string;
let backupId: string;

beforeAll(async () => {
  const bash = await pgstore(db.url, ['completion', 'bash']);
  expect(bash.code, bash.stderr).toBe(0);
  script = join(dir, 'pgstore.bash');
  writeFileSync(script, bash.stdout);
  const taken = await pgstore(db.url, ['backup', '--dir', dir, '--json']);
  expect(taken.code, taken.stderr).toBe(0);
  backupId = JSON.parse(taken.stdout).id;
});

/** What bash offers for the words typed so far (the last one is being completed). */
function complete(...words: string[]): string[] {
  const program = `pgstore() { ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"; }
source ${JSON.stringify(script)}
COMP_WORDS=(pgstore ${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length}
_pgstore; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync('bash', ['-c', program], {
    env: cleanEnv({ DATABASE_URL: db.url, PGSTORE_BACKUP_DIR: dir }),
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean);
}

describe('pgstore completion', () => {
  it('bash completes commands, subcommands, flags (global ones too) and choices per command', () => {
    expect(complete('')).toEqual(
      expect.arrayContaining(['setup', 'migrate', 'backup', 'restore', 'health', 'config', 'completion']),
    );
    expect(complete('ba')).toEqual(['backup']);
    expect(complete('backup', 'p')).toEqual(['prune']);
    expect(complete('backup', 'prune', '--keep-d')).toEqual(['--keep-daily', '--keep-days']);
    expect(complete('backup', 'prune', '--js')).toEqual(['--json']);
    // a flag's value is not taken for a subcommand
    expect(complete('-d', 'postgres://x/y', 'hosts', 'l')).toEqual(['list']);
    expect(complete('backup', '--format', '')).toEqual(['custom', 'directory', 'plain']);
    expect(complete('hosts', 'list', '--format', '')).toEqual(['table', 'json', 'ndjson', 'csv', 'hosts']);
    expect(complete('health', '--format', 'n')).toEqual(['nagios']);
  });

  it('offers backup IDs (and latest) where a command takes one, read from the backup folder', () => {
    expect(complete('restore', '')).toEqual(['latest', backupId]);
    expect(complete('backup', 'verify', '')).toContain(backupId);
    expect(complete('backup', 'list', '')).not.toContain(backupId);
  });

  it('prints zsh and fish scripts; an unknown shell is a usage error', async () => {
    const zsh = await pgstore(db.url, ['completion', 'zsh']);
    expect(zsh.stdout).toMatch(/^#compdef pgstore/);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await pgstore(db.url, ['completion', 'fish']);
    const lines = fish.stdout
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('#'));
    for (const line of lines) expect(line).toMatch(/^complete -c pgstore /);
    expect(fish.stdout).toContain(
      "-n '__fish_seen_subcommand_from backup; and not __fish_seen_subcommand_from list verify prune delete' -a 'prune'",
    );
    const bad = await pgstore(db.url, ['completion', 'powershell']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/powershell/);
    // `ids` is for the scripts: neither the error nor the help offers it.
    expect(bad.stderr).toMatch(/bash, zsh or fish/);
    expect(bad.stderr).not.toMatch(/ids/);
  });
});
