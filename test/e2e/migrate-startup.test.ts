/**
 * `migrate up` loads what it uses and nothing else (its start-up is most of pgstore's own cost
 * above dbmate's): no other command's module, no embedded-server code on a server URL, no
 * schema-dump code with --no-dump-schema, no lint code when nothing is pending. The binary runs
 * the CLI bundle (dist/bundle/, split at each dynamic import): the chunks it loads are seen
 * through a module-loader hook given to it by NODE_OPTIONS, and the source modules each chunk
 * holds are read from the bundle's metafile.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const root = mkdtempSync(join(tmpdir(), 'pgstore-startup-'));
const databases: Array<TestDatabase & { drop(): Promise<void> }> = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
  rmSync(root, { recursive: true, force: true });
});

// The hook reports each file pgstore's own dist/ loads, one line on stderr each.
writeFileSync(join(root, 'hooks.mjs'), "export async function load(url, context, next) { if (url.includes('/dist/')) process.stderr.write(`LOADED ${url.replace(/.*\\/dist\\//, 'dist/')}\\n`); return next(url, context); }\n");
writeFileSync(join(root, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
const NODE_OPTIONS = `--import ${pathToFileURL(join(root, 'register.mjs')).href}`;

/** Which source modules each file of the bundle holds ('core/migrate.js' for src/core/migrate.ts). */
const meta = JSON.parse(readFileSync(new URL('../../dist/bundle/meta.json', import.meta.url), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
function modulesIn(file: string): string[] {
  const output = meta.outputs[file];
  if (!output) throw new Error(`${file} is not in the bundle's metafile (not a bundle file, or a stale build)`);
  return Object.keys(output.inputs).map((input) => input.replace(/^src\//, '').replace(/\.ts$/, '.js'));
}

/** The source modules `migrate up args` loaded. */
async function migrateUp(url: string, args: string[]): Promise<string[]> {
  const result = await runCli(['migrate', 'up', '--no-dump-schema', ...args], { env: cleanEnv({ DATABASE_URL: url, NODE_OPTIONS }) });
  expect(result.code, result.stderr).toBe(0);
  const files = [...result.stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) expect(file, 'the binary loads the bundle only').toMatch(/^dist\/bundle\//);
  return files.flatMap(modulesIn);
}

const OTHER_COMMANDS = ['backup', 'restore', 'hosts', 'server', 'seed', 'setup', 'snapshot', 'health'].map((c) => `commands/${c}.js`);

describe('migrate up start-up', () => {
  it('loads neither other commands, nor the embedded server, nor the dump, nor the linter when nothing is pending', async () => {
    const db = await createTestDatabase('template0');
    databases.push(db);
    const dir = join(root, 'migrations');
    mkdirSync(dir);
    writeFileSync(join(dir, '20240101000000_items.sql'), '-- migrate:up\ncreate table items (id bigint primary key);\n\n-- migrate:down\ndrop table items;\n');

    const first = await migrateUp(db.url, ['--migrations-dir', dir]);
    expect(first).toContain('core/migrate.js'); // the hook sees the modules
    expect(first).toContain('core/migrate-lint.js'); // one pending file: linted
    for (const module of [...OTHER_COMMANDS, 'db/embedded.js', 'core/migrate-dump.js']) expect(first).not.toContain(module);

    const again = await migrateUp(db.url, ['--migrations-dir', dir]);
    expect(again).toContain('core/migrate.js');
    for (const module of [...OTHER_COMMANDS, 'db/embedded.js', 'core/migrate-dump.js', 'core/migrate-lint.js']) expect(again).not.toContain(module);
  });

  it('help without a command still lists every command', async () => {
    const result = await runCli(['--help'], { env: cleanEnv() });
    expect(result.code).toBe(0);
    for (const name of ['setup', 'migrate', 'reset', 'seed', 'hosts', 'snapshot', 'backup', 'restore', 'health', 'server']) expect(result.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });
});
