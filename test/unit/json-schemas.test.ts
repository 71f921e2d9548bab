/**
 * Every command a user can run has a JSON Schema for its --json output (docs/json-schema/<path>.json,
 * listed in docs/json.md), and every schema compiles (ajv, strict, draft 2020-12): a new command
 * without a schema fails here. The outputs themselves are checked by test/e2e/json-contract.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  registeredCommands,
  runnablePaths,
  SCHEMA_DIR,
  schemaNameOf,
  schemaNames,
  SHARED_SCHEMAS,
  validatorFor,
} from '../helpers/json-contract.js';

describe('JSON schemas of the commands', () => {
  it('every registered command has a schema, and every schema names a command', async () => {
    const paths = runnablePaths(await registeredCommands());
    expect(paths.length).toBeGreaterThan(30);
    const names = schemaNames().filter((n) => !SHARED_SCHEMAS.includes(n));
    expect(
      paths.map(schemaNameOf).filter((n) => !names.includes(n)),
      'commands without a schema in docs/json-schema',
    ).toEqual([]);
    expect(
      names.filter((n) => !paths.map(schemaNameOf).includes(n)),
      'schemas of no command',
    ).toEqual([]);
  });

  it('every schema compiles as draft 2020-12 and docs/json.md links it', () => {
    const doc = readFileSync(join(SCHEMA_DIR, '..', 'json.md'), 'utf8');
    for (const name of schemaNames()) {
      const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.json`), 'utf8')) as { $schema: string };
      expect(schema.$schema, name).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(() => validatorFor(name), name).not.toThrow();
      expect(doc, `docs/json.md links json-schema/${name}.json`).toContain(`(json-schema/${name}.json)`);
    }
  });
});
