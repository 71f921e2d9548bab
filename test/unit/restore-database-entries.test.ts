import { describe, expect, it } from 'vitest';
import { parseDatabaseEntries } from '../../src/core/restore/database-entries.js';

const RENDERED = `--
-- Name: My "App"; Type: DATABASE; Schema: -; Owner: app_owner
--
\\restrict abc
CREATE DATABASE "My ""App""" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = 'C';
ALTER DATABASE "My ""App""" OWNER TO app_owner;
\\connect -reuse-previous=on "dbname='My \\"App\\"'"
COMMENT ON DATABASE "My ""App""" IS 'two lines;
-- not a comment; still the literal';
ALTER DATABASE "My ""App""" SET search_path TO 'auth', 'public';
ALTER ROLE "app user" IN DATABASE "My ""App""" SET work_mem TO '7MB';
GRANT CONNECT,TEMPORARY ON DATABASE "My ""App""" TO "app user";
REVOKE ALL ON DATABASE "My ""App""" FROM PUBLIC;
ALTER DATABASE "My ""App""" IS_TEMPLATE = true;
`;

describe('parseDatabaseEntries', () => {
  it('re-aims comments, grants and settings at another database and keeps the owner apart', () => {
    const parsed = parseDatabaseEntries(RENDERED)!;
    expect(parsed.name).toBe('My "App"');
    expect(parsed.owner).toBe('app_owner');
    expect(parsed.statements.map((s) => [s.kind, s.roles, s.sql('copy')])).toEqual([
      ['comment', [], `COMMENT ON DATABASE "copy" IS E'two lines;\n-- not a comment; still the literal'`],
      ['setting', [], `ALTER DATABASE "copy" SET "search_path" TO E'auth', E'public'`],
      ['setting', ['app user'], `ALTER ROLE "app user" IN DATABASE "copy" SET "work_mem" TO E'7MB'`],
      ['grant', ['app user'], `GRANT CONNECT, TEMPORARY ON DATABASE "copy" TO "app user"`],
      ['grant', [], `REVOKE ALL ON DATABASE "copy" FROM PUBLIC`],
    ]);
  });

  it('leaves out statements it cannot read whole, and rebuilds the rest', () => {
    const parsed = parseDatabaseEntries(
      [
        `CREATE DATABASE db;`,
        `COMMENT ON DATABASE db IS E'\\''; CREATE ROLE x SUPERUSER; SELECT E'\\'';`,
        `COMMENT ON DATABASE db IS $$'$$; CREATE ROLE x; SELECT $$'$$;`,
        `GRANT CONNECT ON DATABASE db TO current_user;`,
        `GRANT pg_read_server_files TO PUBLIC;`,
        `GRANT CONNECT ON DATABASE db TO a GRANTED BY b;`,
        `ALTER DATABASE db SET local_preload_libraries TO 'x';`,
        `ALTER DATABASE db SET work_mem TO DEFAULT;`,
        `ALTER DATABASE db SET work_mem = '1MB', 'x' ; -- trailing`,
        `COMMENT ON DATABASE db IS 'back\\slash''s';`,
      ].join('\n'),
    )!;
    expect(parsed.statements.map((s) => s.sql('t'))).toEqual([
      `ALTER DATABASE "t" SET "work_mem" TO E'1MB', E'x'`,
      `COMMENT ON DATABASE "t" IS E'back\\\\slash''s'`,
    ]);
  });

  it('is null without a CREATE DATABASE', () => {
    expect(parseDatabaseEntries('')).toBeNull();
  });
});
