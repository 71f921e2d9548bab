/**
 * The table of bad invocations (test/e2e/bad-input.test.ts runs it). Each case: the
 * arguments after `pgstore`, the documented exit code, and whether it needs the test database
 * ('db': DATABASE_URL is the suite's database) or must fail before connecting ('none':
 * DATABASE_URL names a closed port, so reaching the server would exit 1, not the code expected).
 *
 * Placeholders in arguments and environment values: {db} the test database's URL, {file} a
 * regular file, {dir} an empty folder, {notbackup} a folder that is no backup, {tmp} the
 * suite's scratch folder, {hostId} a live host entry, {backupId} the suite's one backup,
 * {missingDb} a URL of the suite's server naming a database that does not exist.
 */

export interface BadCase {
  args: string[];
  code: number;
  needs: 'none' | 'db';
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** What stderr's first line must say, when a case pins it. */
  error?: RegExp;
  /** What the hint must say (without `hint: `), when a case pins it. */
  hint?: RegExp;
}

/** The hint of a bad value of a command's option: that command's help. */
const helpOf = (command: string[]): RegExp => new RegExp(`^See \`${['pgstore', ...command].join(' ')} --help\`\\.$`);

const none = (args: string[], code = 2, error?: RegExp, env?: BadCase['env']): BadCase => ({
  args,
  code,
  needs: 'none',
  error,
  env,
});
const db = (args: string[], code = 2, error?: RegExp, env?: BadCase['env']): BadCase => ({
  args,
  code,
  needs: 'db',
  error,
  env,
});

const FORTY_DIGITS = '1234567890123456789012345678901234567890';
const HUGE = '99999999999999999999';
/** Bad values for any number: each is exit 2 at the parse layer. */
const BAD_ANY = ['-1', HUGE, FORTY_DIGITS, 'NaN', '1e3', '0x10', '', ' 5', 'abc', 'Infinity'];
/** Also bad for whole numbers. */
const BAD_WHOLE = [...BAD_ANY, '1.5'];

/** Every numeric option: the command words, the flag, whole or decimal, whether 0 is allowed. */
const NUMERIC: Array<{ command: string[]; flag: string; whole: boolean; zeroOk: boolean; also?: string[] }> = [
  { command: ['migrate', 'up'], flag: '--migration-lock-timeout', whole: true, zeroOk: true },
  { command: ['migrate', 'up'], flag: '--retries', whole: true, zeroOk: true },
  { command: ['migrate', 'up'], flag: '--wait-timeout', whole: true, zeroOk: false, also: ['--wait'] },
  { command: ['migrate', 'down'], flag: '--steps', whole: true, zeroOk: false, also: ['--yes'] },
  { command: ['migrate', 'down'], flag: '--migration-lock-timeout', whole: true, zeroOk: true, also: ['--yes'] },
  { command: ['migrate', 'status'], flag: '--wait-timeout', whole: true, zeroOk: false },
  { command: ['migrate', 'verify'], flag: '--wait-timeout', whole: true, zeroOk: false },
  { command: ['setup'], flag: '--lock-timeout', whole: true, zeroOk: true },
  { command: ['reset'], flag: '--lock-timeout', whole: true, zeroOk: true, also: ['--yes'] },
  { command: ['seed'], flag: '--users', whole: true, zeroOk: true, also: ['--synthetic'] },
  { command: ['seed'], flag: '--tenants', whole: true, zeroOk: true, also: ['--synthetic'] },
  { command: ['seed'], flag: '--hosts', whole: true, zeroOk: true, also: ['--synthetic'] },
  { command: ['seed'], flag: '--events-per-host', whole: true, zeroOk: false, also: ['--synthetic'] },
  { command: ['hosts', 'list'], flag: '--limit', whole: true, zeroOk: false },
  { command: ['hosts', 'list'], flag: '--offset', whole: true, zeroOk: true },
  { command: ['snapshot', 'create'], flag: '--keep-last', whole: true, zeroOk: false },
  { command: ['snapshot', 'create'], flag: '--keep-days', whole: true, zeroOk: false },
  { command: ['snapshot', 'list'], flag: '--limit', whole: true, zeroOk: false },
  { command: ['snapshot', 'list'], flag: '--offset', whole: true, zeroOk: true },
  { command: ['snapshot', 'prune'], flag: '--keep-last', whole: true, zeroOk: false },
  { command: ['snapshot', 'prune'], flag: '--keep-days', whole: true, zeroOk: false },
  { command: ['backup'], flag: '--jobs', whole: true, zeroOk: false, also: ['--format', 'directory'] },
  { command: ['backup'], flag: '--keep-last', whole: true, zeroOk: false },
  { command: ['backup'], flag: '--keep-days', whole: false, zeroOk: false },
  { command: ['backup', 'prune'], flag: '--keep-last', whole: true, zeroOk: false },
  { command: ['backup', 'prune'], flag: '--keep-days', whole: false, zeroOk: false },
  { command: ['restore'], flag: '--jobs', whole: true, zeroOk: false, also: ['--target-db', 'bi_jobs', '--create'] },
  { command: ['health'], flag: '--timeout', whole: false, zeroOk: false },
  { command: ['health'], flag: '--latency-warning', whole: false, zeroOk: true },
  { command: ['health'], flag: '--connections-critical', whole: false, zeroOk: true },
  { command: ['health'], flag: '--disk-free-warning', whole: false, zeroOk: true },
  { command: ['health'], flag: '--backup-age-critical', whole: false, zeroOk: true },
];

/** Bad durations (`5s`, `500ms`, `2m` or bare seconds are good). */
const BAD_DURATION = [
  '-1',
  '-1s',
  HUGE,
  FORTY_DIGITS,
  'NaN',
  '1e3',
  '0x10',
  '',
  ' 5',
  '5 s',
  'abc',
  'Infinity',
  '5h',
  '1.5.2',
  '25m0s',
];
const DURATIONS: Array<{ command: string[]; flag: string; also?: string[] }> = [
  { command: ['migrate', 'up'], flag: '--lock-timeout' },
  { command: ['migrate', 'up'], flag: '--statement-timeout' },
  { command: ['migrate', 'down'], flag: '--lock-timeout', also: ['--yes'] },
  { command: ['migrate', 'down'], flag: '--statement-timeout', also: ['--yes'] },
];

function numberCases(): BadCase[] {
  const cases: BadCase[] = [];
  for (const d of DURATIONS) {
    for (const value of BAD_DURATION) {
      cases.push(
        none(
          [...d.command, ...(d.also ?? []), `${d.flag}=${value}`],
          2,
          new RegExp(`^error: .*${d.flag.replace(/-/g, '\\-')}`),
        ),
      );
    }
  }
  for (const n of NUMERIC) {
    const values = [...(n.whole ? BAD_WHOLE : BAD_ANY), ...(n.zeroOk ? [] : ['0'])];
    for (const value of values) {
      // `--flag=value` so that '-1' and '' reach the option's parser as its value.
      cases.push({
        ...none(
          [...n.command, ...(n.also ?? []), `${n.flag}=${value}`],
          2,
          new RegExp(`^error: .*${n.flag.replace(/-/g, '\\-')}`),
        ),
        hint: helpOf(n.command),
      });
    }
  }
  // Values too large for what consumes them, though below 2^53.
  cases.push(none(['health', '--timeout', '3000000'], 2, /--timeout must be at most/));
  cases.push(none(['restore', '--jobs', '100000', '--target-db', 'bi_jobs', '--create'], 2, /--jobs must be at most/));
  cases.push(none(['backup', '--format', 'directory', '--jobs', '100000'], 2, /--jobs must be at most/));
  cases.push(none(['seed', '--synthetic', '--hosts', '9999999999'], 2, /--hosts must be at most/));
  cases.push(none(['seed', '--synthetic', '--hosts', '9999999999999999999999999999999999999999'], 2, /--hosts/));
  cases.push({
    ...none(['hosts', 'list', '--limit', '9223372036854775808'], 2, /--limit/),
    hint: helpOf(['hosts', 'list']),
  });
  cases.push(none(['hosts', 'list', '--offset', '9223372036854775808'], 2, /--offset/));
  cases.push(none(['snapshot', 'prune', '--keep-days', '99999999999'], 2, /--keep-days/));
  return cases;
}

/** Connection settings that are wrong, for commands that connect. */
const BAD_URLS: Array<{ url?: string; env?: Record<string, string | undefined>; error: RegExp }> = [
  { url: '', error: /--database-url is empty/ },
  { url: '   ', error: /--database-url is empty/ },
  { url: 'mysql://u@127.0.0.1/db', error: /unsupported scheme 'mysql'/ },
  { url: 'postgres://u@127.0.0.1:99999/db', error: /port 99999 is out of range/ },
  { url: 'postgres://u@127.0.0.1:abc/db', error: /port 'abc' is not a number/ },
  { url: 'postgres://u@127.0.0.1/db?frobnicate=1', error: /unknown query parameter 'frobnicate'/ },
  { url: 'postgres://u@127.0.0.1/db?sslmod=require', error: /unknown query parameter 'sslmod'/ },
  { url: 'postgres://u@127.0.0.1/db?sslmode=bogus', error: /sslmode/ },
  { url: 'postgres://u@127.0.0.1/db?max_connections=0', error: /max_connections/ },
  { url: 'not a url', error: /is not a URL/ },
  { env: { DATABASE_URL: '' }, error: /DATABASE_URL is set but empty/ },
  { env: { DATABASE_URL: ' ' }, error: /DATABASE_URL is set but empty/ },
  { env: { DATABASE_URL: undefined, PGPORT: 'abc' }, error: /PGPORT/ },
  { env: { DB_MAX_CONNECTIONS: 'lots' }, error: /DB_MAX_CONNECTIONS/ },
];

/** Commands that connect (the destructive ones first: a bad URL must never reach them). */
const CONNECTING: string[][] = [
  ['reset', '--yes'],
  ['reset', '--yes', '--schemas-only'],
  ['setup'],
  ['seed'],
  ['restore', '--target-db', 'bi_url', '--create'],
  ['migrate', 'down', '--yes'],
  ['migrate', 'up'],
  ['migrate', 'status'],
  ['migrate', 'dump', '-o', '{tmp}/bi-url-schema.sql'],
  ['health'],
  ['hosts', 'list'],
  ['hosts', 'add', '--ip', '10.9.9.9', '--hostname', 'bi-url.example'],
  ['snapshot', 'create'],
  ['backup'],
];

function urlCases(): BadCase[] {
  const cases: BadCase[] = [];
  for (const command of CONNECTING) {
    for (const bad of BAD_URLS) {
      const args = bad.url === undefined ? command : ['-d', bad.url, ...command];
      // 'db': a URL that fell through to DATABASE_URL would reach the test database.
      cases.push(db(args, 2, bad.error, bad.env));
    }
  }
  return cases;
}

const ALL_COMMANDS: string[][] = [
  [],
  ['setup'],
  ['reset'],
  ['seed'],
  ['health'],
  ['restore'],
  ['migrate'],
  ['migrate', 'up'],
  ['migrate', 'down'],
  ['migrate', 'status'],
  ['migrate', 'verify'],
  ['migrate', 'new', 'x'],
  ['migrate', 'dump'],
  ['hosts', 'list'],
  ['hosts', 'add', '--ip', '10.0.0.1', '--hostname', 'a.example'],
  ['hosts', 'show', 'x'],
  ['hosts', 'update', 'x'],
  ['hosts', 'rm', 'x'],
  ['hosts', 'history', 'x'],
  ['hosts', 'import', 'x'],
  ['hosts', 'export'],
  ['snapshot', 'create'],
  ['snapshot', 'list'],
  ['snapshot', 'show', 'x'],
  ['snapshot', 'diff', 'x'],
  ['snapshot', 'rollback', 'x'],
  ['snapshot', 'delete', 'x'],
  ['snapshot', 'prune'],
  ['backup'],
  ['backup', 'list'],
  ['backup', 'verify', 'x'],
  ['backup', 'prune'],
  ['backup', 'delete', 'x'],
  ['server', 'start'],
  ['server', 'stop'],
  ['server', 'status'],
  ['server', 'url'],
];

function usageCases(): BadCase[] {
  const cases: BadCase[] = [];
  for (const command of ALL_COMMANDS)
    cases.push(none([...command, '--frobnicate'], 2, /unknown option '--frobnicate'/));
  for (const command of ALL_COMMANDS.filter((c) => c.length > 0))
    cases.push(none([...command, '-Z'], 2, /unknown option '-Z'/));
  // Unknown commands and subcommands.
  for (const words of [
    ['frobnicate'],
    ['migrate', 'sideways'],
    ['hosts', 'lst'],
    ['snapshot', 'make'],
    ['backup', 'lst'],
    ['server', 'restart'],
    ['hosts'],
  ]) {
    cases.push(none(words, 2));
  }
  // Missing arguments and option values.
  for (const words of [
    ['hosts', 'show'],
    ['hosts', 'update'],
    ['hosts', 'rm'],
    ['hosts', 'history'],
    ['hosts', 'import'],
    ['snapshot', 'show'],
    ['snapshot', 'diff'],
    ['snapshot', 'rollback'],
    ['snapshot', 'delete'],
    ['backup', 'verify'],
    ['backup', 'delete'],
    ['migrate', 'new'],
    ['hosts', 'add'],
    ['hosts', 'add', '--ip', '10.0.0.1'],
    ['hosts', 'add', '--hostname', 'a.example'],
    ['health', '-d'],
    ['hosts', 'list', '--limit'],
    ['backup', '--dir'],
    ['restore', '--target-db'],
    ['seed', '--file'],
    ['migrate', 'dump', '-o'],
    ['hosts', 'export', '-o'],
    ['health', '--timeout'],
    ['setup', '--env'],
  ]) {
    cases.push(none(words, 2));
  }
  // Too many arguments.
  for (const words of [
    ['hosts', 'show', 'a', 'b'],
    ['snapshot', 'diff', 'a', 'b', 'c'],
    ['restore', 'a', 'b'],
    ['migrate', 'up', 'extra'],
    ['health', 'extra'],
  ]) {
    cases.push(none(words, 2));
  }
  // Conflicting flags.
  cases.push(none(['migrate', 'down', '--steps', '1', '--to', '0', '--yes'], 2));
  // Options before a subcommand's name: said so, with the command line reordered.
  cases.push(none(['migrate', '--set', 'app', 'status'], 2, /'status' must come right after 'pgstore migrate'/));
  cases.push(none(['migrate', '--strict', 'up'], 2, /'up' must come right after 'pgstore migrate'/));
  // commander's suggestion stays on the error's line.
  cases.push(none(['hosts', 'list', '--limt', '3'], 2, /unknown option '--limt' \(did you mean --limit\?\)$/));
  // --version is the program's alone.
  cases.push(none(['backup', 'list', '-V'], 2, /unknown option '-V'/));
  cases.push(none(['seed', '--synthetic', '--file', '{file}'], 2, /do not go together/));
  cases.push(none(['seed', '--hosts', '5'], 2, /needs --synthetic/));
  cases.push(none(['seed', '--random-seed', 'x', '--users', '1'], 2, /need --synthetic/));
  cases.push(none(['hosts', 'update', 'x', '--comment', 'c', '--clear-comment'], 2));
  cases.push(none(['hosts', 'update', 'x', '--tag', 't', '--clear-tags'], 2));
  cases.push(none(['hosts', 'update', 'x', '--alias', 'a', '--clear-aliases'], 2));
  cases.push(none(['health', '--connections-warning', '90', '--connections-critical', '50'], 2, /must be at least/));
  cases.push(none(['health', '--disk-free-warning', '5', '--disk-free-critical', '10'], 2, /must be at most/));
  // Bad choices.
  for (const words of [
    ['backup', '--format', 'zip'],
    ['backup', '--verify', 'twice'],
    ['backup', 'verify', 'latest', '--method', 'look'],
    ['health', '--format', 'xml'],
    ['seed', '--env', 'production'],
    ['setup', '--env', 'staging'],
    ['reset', '--env', 'prod', '--yes'],
    ['hosts', 'list', '--format', 'yaml'],
    ['hosts', 'import', 'x', '--format', 'yaml'],
    ['hosts', 'import', 'x', '--mode', 'merge'],
    ['hosts', 'export', '--format', 'xml'],
    ['setup', '--env', ''],
  ]) {
    cases.push(none(words, 2, /argument .* is invalid|Allowed choices/));
  }
  return cases;
}

/** Paths that are wrong for what they name. */
function pathCases(): BadCase[] {
  return [
    // A folder where a file is expected; a missing parent; a file where a folder is expected.
    db(['migrate', 'dump', '-o', '/tmp'], 2, /folder/),
    db(['migrate', 'dump', '-o', '{dir}'], 2, /folder/),
    db(['migrate', 'dump', '-o', '{tmp}/no-such-dir/x.sql'], 2, /no-such-dir does not exist/),
    db(['migrate', 'dump', '-o', '{file}/x.sql'], 2),
    db(['migrate', 'dump', '-o', '/proc/pgstore-bi/x.sql'], 2),
    db(['migrate', 'dump', '-o', ''], 2),
    db(['hosts', 'export', '-o', '{dir}'], 2),
    db(['hosts', 'export', '-o', '{tmp}/no-such-dir/hosts'], 2),
    db(['hosts', 'export', '-o', '{file}/hosts'], 2),
    db(['hosts', 'import', '{tmp}/missing.hosts', '--dry-run'], 2),
    db(['hosts', 'import', '{dir}', '--dry-run'], 2),
    db(['hosts', 'import', '{file}/x', '--dry-run'], 2),
    db(['hosts', 'import', '/proc/self/nonexistent', '--dry-run'], 2),
    db(['backup', '--dir', '/etc/passwd'], 2, /--dir \/etc\/passwd: is a file, not a folder/),
    db(['backup', '--dir', '{file}'], 2),
    db(['backup', '--dir', '{file}/sub'], 2),
    db(['backup', '--dir', '/proc/pgstore-bi'], 2),
    db(['backup', '--metrics-file', '{dir}'], 2),
    db(['backup', 'list', '--dir', '{file}'], 2),
    db(['backup', 'list', '--dir', '/etc/passwd'], 2, /\/etc\/passwd: is a file/),
    db(['backup', 'verify', 'latest', '--dir', '{file}'], 2),
    db(['backup', 'prune', '--keep-last', '1', '--dir', '{file}'], 2),
    db(['backup', 'delete', 'x', '--yes', '--dir', '{file}'], 2),
    db(['restore', '{tmp}/missing.dump', '--target-db', 'bi_path', '--create'], 2),
    db(['restore', '{notbackup}', '--target-db', 'bi_path', '--create'], 2),
    db(['restore', '--dir', '{file}', '--target-db', 'bi_path', '--create'], 2),
    db(['restore', '--dir', '{dir}', '--target-db', 'bi_path', '--create'], 2),
    db(['seed', '--file', '{tmp}/missing.sql'], 2),
    db(['seed', '--file', '{dir}'], 2),
    db(['seed', '--file', '{file}/x.sql'], 2),
    db(['migrate', 'up', '--migrations-dir', '{tmp}/missing'], 2),
    db(['migrate', 'up', '--migrations-dir', '{file}'], 2),
    db(['migrate', 'status', '--migrations-dir', '{file}'], 2),
    db(['setup', '--migrations-dir', '{tmp}/missing'], 2),
    db(['restore', 'latest', '--target-db', 'bi_path', '--create', '--migrations-dir', '{file}'], 2),
    none(['migrate', 'new', 'x', '--migrations-dir', '{file}'], 2),
    none(['migrate', 'new', 'x', '--migrations-dir', '{file}/sub/migrations'], 2),
    none(['migrate', 'new', 'x', '--migrations-dir', '/proc/pgstore-bi'], 2),
    none(['migrate', 'new', '', '--migrations-dir', '{dir}'], 2),
  ];
}

/** Ids, names and values that name nothing or break a rule. */
function valueCases(): BadCase[] {
  const ULID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
  return [
    ...['not-an-id', ULID, '', "x'; drop table x; --", '%'].flatMap((id) => [
      db(['hosts', 'show', id], 2),
      db(['hosts', 'update', id, '--comment', 'x'], 2),
      db(['hosts', 'rm', id], 2),
      db(['hosts', 'history', id], 2),
      db(['snapshot', 'show', id], 2),
      db(['snapshot', 'diff', id], 2),
      db(['snapshot', 'rollback', id, '--yes'], 2),
      db(['snapshot', 'delete', id], 2),
      db(['backup', 'verify', id], 2),
      db(['backup', 'delete', id, '--yes'], 2),
    ]),
    db(['restore', 'no-such-backup', '--target-db', 'bi_id', '--create'], 2),
    db(['restore', 'nodb/latest', '--target-db', 'bi_id', '--create'], 2),
    db(['hosts', 'add', '--ip', '999.1.1.1', '--hostname', 'bi.example'], 2),
    db(['hosts', 'add', '--ip', '', '--hostname', 'bi.example'], 2),
    db(['hosts', 'add', '--ip', '10.1.1.1', '--hostname', ''], 2),
    db(['hosts', 'add', '--ip', '10.1.1.1', '--hostname', 'bad host name'], 2),
    db(['hosts', 'add', '--ip', '::zz', '--hostname', 'bi.example'], 2),
    db(['hosts', 'update', '{hostId}', '--ip', 'not-an-ip'], 2),
    db(['hosts', 'update', '{hostId}', '--hostname', '-bad-'], 2),
    db(['hosts', 'update', '{hostId}', '--comment', 'x', '--expected-version', 'abc'], 3),
    db(['restore', '{backupId}', '--target-db', 'template0', '--clean', '--yes'], 2),
    db(['restore', '{backupId}', '--target-db', '', '--create'], 2),
    // Another session (the suite's own pool) is connected: exit 3 comes before the question.
    db(['restore', '{backupId}', '--clean'], 3, /other session/),
    db(['migrate', 'down', '--to', 'abc', '--yes'], 2),
    db(['migrate', 'down', '--to', '99999999999999999999999', '--yes'], 2),
    db(['backup', '--compress', 'bogus'], 2),
    db(['backup', '--compress', 'gzip:99'], 2),
    db(['backup', '--label', 'bad/label'], 2),
    db(['backup', '--format', 'plain', '--jobs', '2'], 2),
    db(['reset', '--schemas-only'], 3, /other session/),
    db(['snapshot', 'rollback', 'latest'], 2),
    // A database that does not exist is a name that does not exist: exit 2, as restore --target-db.
    db(['hosts', 'list', '-d', '{missingDb}'], 2, /database '\w+_missing' does not exist/),
    db(['backup', '-d', '{missingDb}', '--dir', '{tmp}/missing-db'], 2, /database '\w+_missing' does not exist/),
  ];
}

export const BAD_CASES: BadCase[] = [...numberCases(), ...urlCases(), ...usageCases(), ...pathCases(), ...valueCases()];
