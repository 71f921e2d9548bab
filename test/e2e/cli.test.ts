/**
 * The CLI's basics: version, help, usage errors, bad URLs and flag values (exit 2, one line
 * and a hint). --version, --help and an unknown command run through the built binary; the
 * tables of parsing and message cases run the CLI's entry in-process
 * (test/helpers/cli-in-process.ts: same parsing, output and exit codes, no node start-up each).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('pgstore CLI basics', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version'], { env: cleanEnv() });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('lists its commands, and every command has examples in its help', async () => {
    const help = await runCli(['--help'], { env: cleanEnv() });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/health/);
    expect(help.stdout).toMatch(/server/);
    expect(help.stdout).toContain('Exit codes');
    for (const command of [
      ['health'],
      ['server'],
      ['server', 'start'],
      ['server', 'stop'],
      ['server', 'status'],
      ['server', 'url'],
    ]) {
      const result = await runCliInProcess([...command, '--help'], { env: cleanEnv() });
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout, command.join(' ')).toContain('Examples:');
    }
  });

  it('an unknown command is a usage error: exit 2, one line and a hint, no stack trace', async () => {
    const result = await runCli(['frobnicate'], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: unknown command 'frobnicate'/);
    expect(result.stderr).toMatch(/hint:/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['migrate', 'sideways'], /^error: unknown command 'sideways' for 'pgstore migrate'\n/],
    [['backup', 'lst'], /^error: unknown command 'lst' for 'pgstore backup' \(did you mean 'list'\?\)\n/],
    [['migrate', 'up', 'extra'], /^error: too many arguments for 'pgstore migrate up': 'extra'\n/],
  ])('a stray word where a subcommand belongs is named as an unknown command: %j', async (args, pattern) => {
    const result = await runCliInProcess(args, { env: cleanEnv({ PGSTORE_HOME: '/nonexistent/pgstore-home' }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).toMatch(/\nhint: /);
  });

  it.each([
    [['migrate', 'stauts'], 'stauts', 'pgstore migrate', 'status'],
    [['hosts', 'lst'], 'lst', 'pgstore hosts', 'list'],
    [['snapshot', 'craete'], 'craete', 'pgstore snapshot', 'create'],
    [['server', 'stat'], 'stat', 'pgstore server', 'status'],
    [['bakup'], 'bakup', 'pgstore', 'backup'],
  ])('a typo is reported one way everywhere: %j', async (args, word, path, near) => {
    const env = cleanEnv({ PGSTORE_HOME: '/nonexistent/pgstore-home' });
    const result = await runCliInProcess(args, { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `error: unknown command '${word}' for '${path}' (did you mean '${near}'?)\nhint: Its commands: ${result.stderr.split('Its commands: ')[1]}`,
    );
    expect(result.stderr).toMatch(
      new RegExp(`\\nhint: Its commands: [a-z, -]*\\b${near}\\b[a-z, -]*\\. See \`${path} --help\`\\.\\n$`),
    );
    const json = await runCliInProcess(['--json', ...args], { env });
    expect(json.code).toBe(2);
    expect(json.stdout).toBe('');
    const { error } = JSON.parse(json.stderr) as { error: { code: string; message: string; exitCode: number } };
    expect(error).toMatchObject({
      code: 'PGSTORE_USAGE',
      message: `unknown command '${word}' for '${path}' (did you mean '${near}'?)`,
      exitCode: 2,
    });
  });

  it('no option or argument of any command shows its default twice', async () => {
    const help = async (args: string[]) => (await runCliInProcess([...args, '--help'], { env: cleanEnv() })).stdout;
    const subcommands = (text: string) =>
      [...(text.split('\nCommands:\n')[1] ?? '').matchAll(/^ {2}([a-z]+)\b/gm)]
        .map((m) => m[1]!)
        .filter((name) => name !== 'help');
    const twice: string[] = [];
    for (const command of subcommands(await help([]))) {
      for (const args of [[command], ...subcommands(await help([command])).map((sub) => [command, sub])]) {
        // One entry per option or argument: continuation lines are indented further.
        for (const entry of (await help(args)).replace(/\n {4,}/g, ' ').split('\n')) {
          if ((entry.match(/\bdefault\b/g) ?? []).length > 1) twice.push(`${args.join(' ')}: ${entry.trim()}`);
        }
      }
    }
    expect(twice).toEqual([]);
  });

  it('backup --help names the default backup folder of this user (root: /var/lib/pgstore)', async () => {
    const xdg = '/nonexistent/xdg-data';
    const result = await runCliInProcess(['backup', '--help'], {
      env: cleanEnv({ PGSTORE_HOME: undefined, PGSTORE_BACKUP_DIR: undefined, XDG_DATA_HOME: xdg }),
    });
    const entry = result.stdout
      .replace(/\n {4,}/g, ' ')
      .split('\n')
      .find((line) => line.trim().startsWith('--dir'))!;
    expect(entry).toContain(process.getuid?.() === 0 ? '/var/lib/pgstore/backups' : `${xdg}/pgstore/backups`);
    expect(entry).not.toContain('~/.local/share');
    const set = await runCliInProcess(['backup', '--help'], {
      env: cleanEnv({ PGSTORE_HOME: '/srv/pg-home', PGSTORE_BACKUP_DIR: undefined }),
    });
    expect(set.stdout.replace(/\n {4,}/g, ' ')).toContain('/srv/pg-home/backups');
  });

  it('`backup help` prints backup help like `migrate help`', async () => {
    for (const command of ['backup', 'migrate']) {
      const result = await runCliInProcess([command, 'help'], { env: cleanEnv() });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: pgstore ${command}`));
    }
  });

  it('an unknown option is a usage error', async () => {
    const result = await runCliInProcess(['health', '--frob'], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--frob'/);
  });

  it.each([
    ['not a url', /is not a URL/],
    ['mysql://root:secret-pw@localhost/app', /unsupported scheme 'mysql'/],
    ['postgres://u:secret-pw@localhost:99999/x', /port 99999 is out of range/],
    ['postgres://u:secret-pw@localhost/x?max_connections=lots', /max_connections .* got 'lots'/],
  ])('a bad --database-url %s exits 2 naming the bad part, without the password', async (url, pattern) => {
    const result = await runCliInProcess(['health', '-d', url], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toContain('secret-pw');
    expect(result.stderr.trim().split('\n')).toHaveLength(2); // the error and its hint
  });

  it('reports every configuration problem at once', async () => {
    const result = await runCliInProcess(['health'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://localhost/x?min_connections=x', DB_MAX_CONNECTIONS: 'many' }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DB_MAX_CONNECTIONS/);
    expect(result.stderr).toMatch(/min_connections/);
  });

  it('a bad flag value is a usage error', async () => {
    const result = await runCliInProcess(['health', '--timeout', 'soon'], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--timeout must be a number/);
  });
});
