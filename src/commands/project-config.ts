/**
 * The project's shared settings: `pgstore.toml`, found by walking up from the current folder
 * (or named by PGSTORE_CONFIG). Precedence: flag > environment > config file > default.
 *
 * Why TOML in its own file rather than a "pgstore" key in package.json: pgstore runs the
 * PostgreSQL side of applications written in any language (dbmate's users are not all Node
 * projects), a team wants comments beside a retention policy, and an error can name the line.
 * Settings with an environment variable (dbmate's, PGSTORE_BACKUP_DIR) reach the commands as
 * that variable when it is unset; the others become option values where no flag was given.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { THRESHOLDS } from '../core/health/index.js';
import { defaultBackupDir } from '../db/home.js';
import { parseLockTimeout } from '../db/lock-timeout.js';

type Kind = 'path' | 'string' | 'count' | 'number' | 'boolean' | 'duration';

export interface Setting {
  /** Section and key as written in the file, e.g. `backup.keep_daily`. */
  key: string;
  kind: Kind;
  description: string;
  /** The environment variable it stands for, when there is one. */
  env?: string;
  /** Options it fills when not given: the command path and the option's attribute name. */
  options?: Array<{ command: string; attribute: string }>;
  /** What applies when nothing sets it (shown by `pgstore config`). */
  fallback: string;
}

const retention = (name: string, what: string): Setting => ({
  key: `backup.${name.replace(/-/g, '_')}`,
  kind: name === 'keep-within' ? 'string' : name === 'keep-days' ? 'number' : 'count',
  description: what,
  options: [
    { command: 'backup', attribute: camel(name) },
    { command: 'backup prune', attribute: camel(name) },
  ],
  fallback: 'none',
});

/** Every setting the file may hold. */
export const SETTINGS: Setting[] = [
  {
    key: 'migrations.dir',
    kind: 'path',
    env: 'DBMATE_MIGRATIONS_DIR',
    description: "the application's dbmate migrations",
    fallback: './db/migrations',
  },
  {
    key: 'migrations.table',
    kind: 'string',
    env: 'DBMATE_MIGRATIONS_TABLE',
    description: "dbmate's history table (schema-qualified allowed)",
    fallback: 'schema_migrations',
  },
  {
    key: 'migrations.schema_file',
    kind: 'path',
    env: 'DBMATE_SCHEMA_FILE',
    description: 'where `migrate up` writes the schema dump',
    fallback: './db/schema.sql',
  },
  {
    key: 'migrations.dump_schema',
    kind: 'boolean',
    env: 'DBMATE_NO_DUMP_SCHEMA',
    description: 'write the schema file after `migrate up`',
    fallback: 'true',
  },
  {
    key: 'migrations.strict',
    kind: 'boolean',
    env: 'DBMATE_STRICT',
    description: 'refuse to apply migrations out of order',
    fallback: 'false',
  },
  {
    key: 'backup.dir',
    kind: 'path',
    env: 'PGSTORE_BACKUP_DIR',
    description: 'the backup folder',
    fallback: '$PGSTORE_HOME/backups',
  },
  {
    key: 'locks.timeout',
    kind: 'duration',
    env: 'PGSTORE_LOCK_TIMEOUT',
    description: 'how long a command (all but migrate) waits for a table lock; 0 waits forever',
    fallback: '60s',
  },
  retention('keep-last', 'keep the newest N backups'),
  retention('keep-within', 'keep every backup within this period (14d, 2w, 6m, 1y)'),
  retention('keep-days', 'keep backups younger than D days'),
  retention('keep-daily', 'newest backup of each of the last N days'),
  retention('keep-weekly', 'newest backup of each of the last N weeks'),
  retention('keep-monthly', 'newest backup of each of the last N months'),
  retention('keep-yearly', 'newest backup of each of the last N years'),
  ...Object.values(THRESHOLDS).flatMap((t) =>
    (['warning', 'critical'] as const).map((level) => ({
      key: `health.${t.key.replace(/-/g, '_')}_${level}`,
      kind: 'number' as const,
      description: `${level} at this ${t.description}`,
      options: [{ command: 'health', attribute: camel(`${t.key}-${level}`) }],
      fallback: String(t[level]),
    })),
  ),
];

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export interface ConfigValue {
  setting: Setting;
  /** As the commands take it: a string for options and environment variables. */
  value: string;
  line: number;
}

export interface ProjectConfig {
  path: string;
  values: ConfigValue[];
}

/** The line a key is written on (TOML parsers do not report positions of values). */
function lineOf(lines: string[], section: string, key: string): number {
  let current = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(text);
    if (header) current = header[1]!;
    else if (current === section && new RegExp(`^["']?${key}["']?\\s*=`).test(text)) return i + 1;
  }
  return 1;
}

/** Reads and checks a config file: unknown sections and keys, and wrong types, name the file and line. */
export async function loadProjectConfig(path: string): Promise<ProjectConfig> {
  const text = readFileSync(path, 'utf8');
  const { parse, TomlError } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      throw new UsageError(
        `${path}:${error.line}: ${error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')}`,
        { hint: 'Fix the TOML syntax (https://toml.io).' },
      );
    }
    throw error;
  }
  const lines = text.split('\n');
  const known = new Map(SETTINGS.map((s) => [s.key, s]));
  const sections = new Set(SETTINGS.map((s) => s.key.split('.')[0]!));
  const values: ConfigValue[] = [];
  for (const [section, body] of Object.entries(doc)) {
    if (!sections.has(section) || typeof body !== 'object' || body === null || Array.isArray(body)) {
      const line = lines.findIndex((l) => new RegExp(`^\\s*(\\[\\s*)?${section}\\b`).test(l)) + 1 || 1;
      throw new UsageError(`${path}:${line}: unknown section '${section}'`, {
        hint: `Sections: ${[...sections].join(', ')}. \`pgstore config\` lists every setting.`,
      });
    }
    for (const [key, raw] of Object.entries(body as Record<string, unknown>)) {
      const setting = known.get(`${section}.${key}`);
      const line = lineOf(lines, section, key);
      if (!setting) {
        const inSection = SETTINGS.filter((s) => s.key.startsWith(`${section}.`)).map((s) =>
          s.key.slice(section.length + 1),
        );
        throw new UsageError(`${path}:${line}: unknown setting '${key}' in [${section}]`, {
          hint: `Settings in [${section}]: ${inSection.join(', ')}.`,
        });
      }
      values.push({ setting, value: asText(setting, raw, `${path}:${line}`, dirname(path)), line });
    }
  }
  return { path, values };
}

function asText(setting: Setting, raw: unknown, where: string, base: string): string {
  const wrong = (expected: string) =>
    new UsageError(`${where}: ${setting.key} must be ${expected}, got ${JSON.stringify(raw)}`, {
      hint: setting.description,
    });
  switch (setting.kind) {
    case 'path':
      if (typeof raw !== 'string' || raw === '') throw wrong('a path in quotes');
      // Relative to the config file's folder, wherever pgstore runs from.
      return isAbsolute(raw) ? raw : resolve(base, raw);
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw wrong('a string in quotes');
      return raw;
    case 'count':
      if (typeof raw !== 'number' && typeof raw !== 'bigint') throw wrong('a whole number ≥ 1');
      if (!Number.isInteger(Number(raw)) || Number(raw) < 1) throw wrong('a whole number ≥ 1');
      return String(raw);
    case 'number':
      if ((typeof raw !== 'number' && typeof raw !== 'bigint') || !(Number(raw) > 0)) throw wrong('a number > 0');
      return String(raw);
    case 'boolean':
      if (typeof raw !== 'boolean') throw wrong('true or false');
      return String(raw);
    case 'duration': {
      if ((typeof raw !== 'string' || raw === '') && typeof raw !== 'number' && typeof raw !== 'bigint')
        throw wrong('a duration such as "30s" or "2min" (a bare number is milliseconds)');
      try {
        parseLockTimeout(String(raw), setting.key);
      } catch (error) {
        throw new UsageError(`${where}: ${(error as Error).message}`, { hint: (error as UsageError).hint });
      }
      return String(raw);
    }
  }
}

/** The environment variable's value a setting stands for (dump_schema = false is DBMATE_NO_DUMP_SCHEMA=true). */
export function envValue(value: ConfigValue): string {
  return value.setting.key === 'migrations.dump_schema' ? String(value.value !== 'true') : value.value;
}

/** The environment with the config's variables added where the environment does not set them. */
export function withConfigEnv(
  env: Record<string, string | undefined>,
  config: ProjectConfig | undefined,
): Record<string, string | undefined> {
  if (!config) return env;
  const merged = { ...env };
  for (const v of config.values) {
    if (v.setting.env && (merged[v.setting.env] === undefined || merged[v.setting.env] === ''))
      merged[v.setting.env] = envValue(v);
  }
  return merged;
}

/** The `pgstore backup prune`-style path of a command (without the program's name). */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const RETENTION = /^backup\.keep_/;

/**
 * Fills the options of the command about to run from the config, where no flag gave them,
 * through each option's own parser (so a bad value is refused as the flag would be, naming the
 * file and line). Retention is one policy: any --keep-… flag replaces the file's whole policy.
 */
export function applyConfigOptions(action: Command, config: ProjectConfig | undefined): void {
  if (!config) return;
  const path = commandPath(action);
  const owners = (attribute: string): Command | undefined => {
    for (let c: Command | null = action; c; c = c.parent)
      if (c.options.some((o) => o.attributeName() === attribute)) return c;
    return undefined;
  };
  const given = (attribute: string): boolean => {
    for (let c: Command | null = action; c; c = c.parent) {
      const source = c.getOptionValueSource(attribute);
      if (source !== undefined && source !== 'default') return true;
    }
    return false;
  };
  const retentionGiven = SETTINGS.filter((s) => RETENTION.test(s.key)).some((s) =>
    s.options!.some((o) => o.command === path && given(o.attribute)),
  );
  for (const v of config.values) {
    for (const target of v.setting.options ?? []) {
      if (target.command !== path || given(target.attribute)) continue;
      if (retentionGiven && RETENTION.test(v.setting.key)) continue;
      const owner = owners(target.attribute);
      const option = owner?.options.find((o) => o.attributeName() === target.attribute);
      if (!owner || !option) continue;
      let value: unknown = v.value;
      try {
        if (option.parseArg) value = option.parseArg(v.value, undefined);
      } catch (error) {
        throw new UsageError(`${config.path}:${v.line}: ${v.setting.key}: ${(error as Error).message}`, {
          hint: v.setting.description,
        });
      }
      owner.setOptionValueWithSource(target.attribute, value, 'config');
    }
  }
}

export interface EffectiveSetting {
  key: string;
  value: string;
  /** `flag` never appears here: `pgstore config` shows what applies when no flag is given. */
  source: string;
  env?: string;
  description: string;
}

/** Every setting's effective value and where it came from: environment > config file > default. */
export function effectiveSettings(
  env: Record<string, string | undefined>,
  config: ProjectConfig | undefined,
): EffectiveSetting[] {
  return SETTINGS.map((setting) => {
    const fromFile = config?.values.find((v) => v.setting === setting);
    const fromEnv =
      setting.env !== undefined && env[setting.env] !== undefined && env[setting.env] !== ''
        ? env[setting.env]!
        : undefined;
    const base = { key: setting.key, description: setting.description, ...(setting.env ? { env: setting.env } : {}) };
    if (fromEnv !== undefined) {
      const value = setting.key === 'migrations.dump_schema' ? String(fromEnv !== 'true') : fromEnv;
      return { ...base, value, source: `environment ${setting.env}` };
    }
    if (fromFile) return { ...base, value: fromFile.value, source: `${config!.path}:${fromFile.line}` };
    // The backup folder's default depends on the environment (PGSTORE_HOME, the user): shown as it is here.
    const fallback = setting.key === 'backup.dir' ? defaultBackupDir(env) : setting.fallback;
    return { ...base, value: fallback, source: 'default' };
  });
}
