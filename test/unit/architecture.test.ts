/**
 * The layers are a test: dependency-cruiser runs the rules of .dependency-cruiser.cjs over src/
 * (type-only and dynamic imports included), and a wrong arrow fails with the rule's name.
 * The second test proves each rule can fail: a small tree with one wrong arrow per rule.
 * The cruise of src/ (~2 s of CPU) is remembered under a hash of everything it reads: every file
 * of src/, the rules, tsconfig, package.json and dependency-cruiser's version; any change cruises
 * again. (dependency-cruiser's own cache is not used: under vitest it lists no file as scannable,
 * marks every module deleted, and so serves a stale result after a change.)
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

async function check(baseDir: string, options: ICruiseOptions): Promise<string[]> {
  const tsConfig = extractTSConfig(join(baseDir, 'tsconfig.json'));
  const { output } = await cruise(['src'], { ...options, baseDir, outputType: 'json' }, undefined, { tsConfig });
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return result.summary.violations
    .filter((v) => v.rule.severity === 'error')
    .map(
      (v) =>
        `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (circle: ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`,
    );
}

/** A hash of every input of the cruise of src/: any byte changed in one of them changes it. */
function inputsHash(): string {
  const hash = createHash('sha256');
  const add = (name: string, path: string) => hash.update(`${name}\0`).update(readFileSync(path)).update('\0');
  for (const file of ['.dependency-cruiser.cjs', 'tsconfig.json', 'package.json']) add(file, join(root, file));
  add('dependency-cruiser', join(root, 'node_modules/dependency-cruiser/package.json'));
  for (const file of readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(root, 'src', file);
    if (statSync(path).isFile()) add(`src/${file}`, path);
  }
  return hash.digest('hex');
}

/** check(root) of src/, remembered in node_modules/.cache by the hash of its inputs. */
async function checkSrc(options: ICruiseOptions): Promise<string[]> {
  const file = join(root, 'node_modules/.cache/pgstore-architecture', `${inputsHash()}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as string[];
  } catch {
    // not checked yet with these inputs (or an unreadable file): cruise
  }
  const violations = await check(root, options);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(violations));
  renameSync(`${file}.${process.pid}`, file);
  return violations;
}

async function ruleSet(): Promise<ICruiseOptions> {
  return extractDepcruiseOptions(join(root, '.dependency-cruiser.cjs'));
}

describe('the layers (.dependency-cruiser.cjs)', () => {
  it('src/ breaks no rule', async () => {
    expect(await checkSrc(await ruleSet())).toEqual([]);
  }, 60_000);

  it('no SQL outside src/store and src/db (a tagged template or unsafe() that runs a statement)', () => {
    // A handle (sql, tx, ...) tagging a template, typed or not, that starts with a statement; or unsafe(). Comments skipped.
    const statement =
      /\b(sql|tx|db|s|admin|reserved)(<[^`]*>)?`\s*(select|insert|update|delete|with|create|drop|alter|copy|set|lock|begin|commit)\b|\.unsafe\(/i;
    const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !/^(store|db)[\\/]/.test(f),
    );
    const found = files.flatMap((f) =>
      readFileSync(join(root, 'src', f), 'utf8')
        .split('\n')
        .flatMap((line, n) =>
          statement.test(line) && !/^\s*(\*|\/\/|\/\*)/.test(line) ? [`src/${f}:${n + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(found).toEqual([]);
  });

  describe('each rule catches its wrong arrow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgstore-layers-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
        include: ['src/**/*.ts'],
      }),
    );
    // One file per wrong arrow; each imports a file of the layer it must not reach.
    const cases: Array<[rule: string, from: string, imports: string]> = [
      ['no-circular', 'src/store/a.ts', './b.js'],
      ['errors-is-leaf', 'src/errors.ts', './util/x.js'],
      ['types-are-leaf', 'src/types/shape.ts', '../db/pool.js'],
      ['util-is-leaf', 'src/util/x.ts', '../db/pool.js'],
      ['tools-not-db', 'src/tools/run.ts', '../db/pool.js'],
      ['tools-only-down', 'src/tools/psql.ts', '../store/b.js'],
      ['db-only-down', 'src/db/pool.ts', '../core/options.js'],
      ['store-not-core', 'src/store/b.ts', '../core/options.js'],
      ['core-not-commands-or-ui', 'src/core/options.ts', '../ui/output.js'],
      ['ui-not-core', 'src/ui/output.ts', '../core/backup/index.js'],
      ['ui-only-down', 'src/ui/table.ts', '../commands/context.js'],
      ['commands-not-cli', 'src/commands/context.ts', '../cli.js'],
      ['commands-not-commands', 'src/commands/restore.ts', './backup.js'],
      ['library-entry-not-cli', 'src/connect.ts', './ui/table.js'],
      ['nothing-imports-the-top', 'src/core/backup/index.ts', '../../index.js'],
      ['feature-index-only', 'src/core/restore/index.ts', '../backup/backup.js'],
      ['feature-index-only-from-top', 'src/commands/backup.ts', '../core/backup/backup.js'],
    ];
    const files = new Map<string, string[]>();
    for (const [, from, imports] of cases) files.set(from, [...(files.get(from) ?? []), imports]);
    files.set('src/store/b.ts', [...(files.get('src/store/b.ts') ?? []), './a.js']); // closes the circle
    const targets = [
      'src/util/x.ts',
      'src/db/pool.ts',
      'src/store/b.ts',
      'src/core/options.ts',
      'src/ui/output.ts',
      'src/core/backup/index.ts',
      'src/commands/context.ts',
      'src/cli.ts',
      'src/commands/backup.ts',
      'src/ui/table.ts',
      'src/index.ts',
      'src/core/backup/backup.ts',
    ];
    for (const target of targets) if (!files.has(target)) files.set(target, []);
    for (const [file, imports] of files)
      write(
        file,
        `${imports.map((i, n) => `import * as m${n} from '${i}';\nexport const x${n} = m${n};`).join('\n')}\nexport const here = 1;\n`,
      );

    let cruised: Promise<string[]> | undefined;
    it.each(cases.map(([rule, from, imports]) => ({ rule, from, imports })))(
      '$rule: $from imports $imports',
      async ({ rule, from }) => {
        cruised ??= ruleSet().then((options) => check(dir, options));
        const found = await cruised;
        expect(found.filter((v) => v.startsWith(`${rule}: ${from} ->`))).not.toEqual([]);
      },
      60_000,
    );
  });
});
