/**
 * The binary runs the CLI bundle (dist/bundle/, scripts/build-bundle.js): with --debug its
 * stack traces name pgstore's src/ files (source maps, turned on for --debug only), and the
 * npm package holds every file the bundle loads, the shipped migrations and the library.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Port 1 on loopback: nothing listens there, so connecting fails at once with a PgstoreError.
const UNREACHABLE = 'postgres://nobody@127.0.0.1:1/nothing';

describe('the CLI bundle', () => {
  it('--debug prints a stack trace that names src/ files and lines', async () => {
    const result = await runCli(
      ['--debug', 'migrate', 'up', '--set', 'pgstore', '--no-dump-schema', '--database-url', UNREACHABLE],
      { env: cleanEnv() },
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot connect to 127\.0\.0\.1:1/);
    expect(result.stderr).toMatch(/\n\s+at .*\/src\/db\/pool\.ts:\d+:\d+\)?\n/);
    expect(result.stderr).not.toMatch(/dist\/bundle\//);
  });

  it('without --debug the same error is one line and a hint', async () => {
    const result = await runCli(
      ['migrate', 'up', '--set', 'pgstore', '--no-dump-schema', '--database-url', UNREACHABLE],
      { env: cleanEnv() },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot connect to 127\.0\.0\.1:1[^\n]*\nhint: [^\n]+\n$/);
  });

  it('the npm package holds every file of the bundle, the migrations and the library, and not the metafile', () => {
    // --ignore-scripts: no `prepare` build while other test files run the binary.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' }),
    ) as Array<{ files: Array<{ path: string; mode: number }> }>;
    const files = new Set(packed[0]!.files.map((f) => f.path));
    // The binary is the sh launcher (bin/pgstore, README "Installation"), executable in the package.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin).toEqual({ pgstore: 'bin/pgstore' });
    expect((packed[0]!.files.find((f) => f.path === 'bin/pgstore')?.mode ?? 0) & 0o111).toBe(0o111);
    const meta = JSON.parse(readFileSync(new URL('../../dist/bundle/meta.json', import.meta.url), 'utf8')) as {
      outputs: Record<string, unknown>;
    };
    const bundle = Object.keys(meta.outputs);
    expect(bundle).toContain('dist/bundle/cli.cjs');
    for (const file of bundle) expect(files, file).toContain(file);
    const migrations = readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) => f.endsWith('.sql'));
    expect(migrations.length).toBeGreaterThan(0);
    for (const file of migrations) expect(files, file).toContain(`migrations/${file}`);
    // bin/package.json makes bin/pgstore.js CommonJS: without it the binary would not run.
    for (const file of [
      'bin/pgstore',
      'bin/pgstore.js',
      'bin/package.json',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
    ])
      expect(files, file).toContain(file);
    expect(files).not.toContain('dist/bundle/meta.json');
    expect([...files].filter((f) => f.startsWith('src/') || f.startsWith('scripts/') || f.startsWith('test/'))).toEqual(
      [],
    );
  });
});
