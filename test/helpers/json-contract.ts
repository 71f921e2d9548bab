/**
 * The JSON contract's machinery for tests: the schemas of docs/json-schema (draft 2020-12,
 * compiled once with ajv), the runnable commands of the CLI's registry, and the naming rule
 * (docs/json.md) checked on any output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Command } from 'commander';
import type { CommandContext } from '../../src/commands/context.js';

export const SCHEMA_DIR = resolve(import.meta.dirname, '../../docs/json-schema');
/** Files in docs/json-schema that are not one command's output. */
export const SHARED_SCHEMAS = ['common', 'error'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let ajv: Ajv2020 | undefined;

/** ajv with every schema of docs/json-schema loaded under its file name (refs: `common.json#/...`). */
function loaded(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  // "date-time" is documentation for other tools; the pattern beside it is what ajv checks.
  ajv.addFormat('date-time', TIMESTAMP);
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')), file);
  }
  return ajv;
}

/** The schema names (file names without .json), shared ones included. */
export function schemaNames(): string[] {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The validator of `name` (a command path joined by '-', e.g. hosts-list, or error). */
export function validatorFor(name: string): ValidateFunction {
  const validate = loaded().getSchema(`${name}.json`);
  if (!validate) throw new Error(`no schema docs/json-schema/${name}.json`);
  return validate;
}

/** Problems of `value` against the schema `name`, as lines ([] when it validates). */
export function schemaProblems(name: string, value: unknown): string[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

/**
 * Where the naming rule is broken in `value`: field names camelCase; ISO timestamps only in
 * fields named `at` or `...At`, and those hold one (or null); `...Bytes`, `...Ms`, `...Seconds`
 * hold numbers; no bare `bytes`, `seconds`, `size`, `duration`. Objects under `maps` (paths like
 * `/rows`) are data keyed by name, not fields.
 */
export function namingProblems(value: unknown, maps: string[] = [], path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => namingProblems(v, maps, `${path}/${i}`));
  if (value === null || typeof value !== 'object') return [];
  if (maps.includes(path.replace(/\/\d+(?=\/|$)/g, '/*'))) return [];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}/${key}`;
    if (!/^[a-z][a-zA-Z0-9]*$/.test(key)) problems.push(`${at}: not camelCase`);
    if (['bytes', 'seconds', 'size', 'duration', 'time', 'ms'].includes(key))
      problems.push(`${at}: say what it measures (sizeBytes, durationMs, ...)`);
    const timeField = key === 'at' || /[a-z]At$/.test(key);
    if (typeof v === 'string' && TIMESTAMP.test(v) && !timeField)
      problems.push(`${at}: a timestamp outside a ...At field`);
    if (timeField && v !== null && !(typeof v === 'string' && TIMESTAMP.test(v)))
      problems.push(`${at}: not an ISO-8601 UTC timestamp: ${JSON.stringify(v)}`);
    if (/(Bytes|Ms|Seconds)$/.test(key) && v !== null && typeof v !== 'number') problems.push(`${at}: not a number`);
    problems.push(...namingProblems(v, maps, at));
  }
  return problems;
}

/** Every command a user can run (has an action), as its path: `hosts list`, `backup`, ... */
export function runnablePaths(commands: Command[]): string[] {
  const paths: string[] = [];
  const walk = (command: Command, prefix: string) => {
    const path = prefix ? `${prefix} ${command.name()}` : command.name();
    if ((command as unknown as { _actionHandler: unknown })._actionHandler) paths.push(path);
    for (const sub of command.commands) walk(sub, path);
  };
  for (const command of commands) walk(command, '');
  return paths.sort();
}

/** The registry's commands, built as the CLI builds them (nothing runs: no action is called). */
export async function registeredCommands(): Promise<Command[]> {
  const { COMMANDS } = await import('../../src/commands/index.js');
  const ctx = {
    env: {},
    streams: { stdout: process.stdout, stderr: process.stderr },
    makeOutput: () => {
      throw new Error('not run');
    },
    setFlags: () => undefined,
    setExitCode: () => undefined,
    target: () => {
      throw new Error('not run');
    },
    embedded: () => {
      throw new Error('not run');
    },
    allCommands: async () => [],
  } as unknown as CommandContext;
  return Promise.all(COMMANDS.map(async (entry) => (await entry.load())(ctx)));
}

/** A command path's schema name: `hosts list` -> hosts-list. */
export const schemaNameOf = (path: string) => path.replace(/ /g, '-');
