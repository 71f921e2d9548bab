/**
 * pgstore's layers as rules (ARCHITECTURE: "arrows point down"), checked by
 * test/unit/architecture.test.ts in `npm test` and by `npm run depcruise`.
 *
 *   cli (src/cli.ts, src/classify-error.ts)     library entry (src/index.ts, src/connect.ts)
 *     -> commands -> ui | core -> store -> db -> tools -> util
 *   and at the bottom, importable by every layer: src/errors.ts and src/types/ (the shapes that
 *   cross layers: what core returns and ui draws, what a child program needs to connect).
 *
 * An arrow may skip layers downwards (core uses util directly); it never points up or sideways
 * between ui and core. Type-only imports and dynamic imports are arrows too
 * (tsPreCompilationDeps below). The library entry sits beside the cli at the top: it may import
 * core, store, db, tools, util, types and errors, and nothing imports it.
 */
const CLI = '^src/(cli|classify-error)\\.ts$';
const ENTRY = '^src/(index|connect)\\.ts$';
const COMMANDS = '^src/commands/';
const UI = '^src/ui/';
const CORE = '^src/core/';
const STORE = '^src/store/';
const DB = '^src/db/';
const TOOLS = '^src/tools/';
const UTIL = '^src/util/';
const TYPES = '^src/types/';
const ERRORS = '^src/errors\\.ts$';

/** Files in src/commands that are not commands: the registry and what every command shares. */
// Modules of commands/ that are not commands: the registry, the context, parsers, the project
// config, and the pieces two commands share (retention flags; physical backups for backup and restore).
const COMMAND_SHARED = '^src/commands/(index|context|parse|unknown-subcommand|subcommands|config-file|project-config|retention-flags|list-options|backup-physical)\\.ts$';

const down = (name, from, above, comment) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: above } });

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import circles (type-only and dynamic imports count): a circle has no bottom layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    down('errors-is-leaf', ERRORS, '^src/', 'errors.ts is the bottom: it imports nothing from pgstore.'),
    {
      name: 'types-are-leaf',
      comment: 'src/types holds only shapes shared across layers; it imports nothing but other src/types modules.',
      severity: 'error',
      from: { path: TYPES },
      to: { path: '^src/', pathNot: TYPES },
    },
    {
      name: 'util-is-leaf',
      comment: 'util holds leaf helpers: no pgstore imports except errors.ts, src/types and other util files.',
      severity: 'error',
      from: { path: UTIL },
      to: { path: '^src/', pathNot: [UTIL, TYPES, ERRORS] },
    },
    down('tools-not-db', TOOLS, DB, 'tools (child programs) import nothing from db: the redactor is in util, libpqEnv in tools.'),
    down('tools-only-down', TOOLS, `${STORE}|${CORE}|${UI}|${COMMANDS}|${CLI}|${ENTRY}`, 'tools import only util, src/types and errors.'),
    down('db-only-down', DB, `${STORE}|${CORE}|${UI}|${COMMANDS}|${CLI}|${ENTRY}`, 'db imports only tools, util, src/types and errors.'),
    down('store-not-core', STORE, `${CORE}|${UI}|${COMMANDS}|${CLI}|${ENTRY}`, 'The store imports nothing above it (core, ui, commands, cli, the library entry).'),
    down('core-not-commands-or-ui', CORE, `${UI}|${COMMANDS}|${CLI}|${ENTRY}`, 'core never prints or parses flags: it imports no ui, command, cli or library-entry module.'),
    down('ui-not-core', UI, CORE, 'ui takes no types from core: the shapes it draws live in src/types (or the store).'),
    down('ui-only-down', UI, `${COMMANDS}|${CLI}|${ENTRY}`, 'ui imports no command, cli or library-entry module.'),
    down('commands-not-cli', COMMANDS, `${CLI}|${ENTRY}`, 'Commands do not import the cli or the library entry.'),
    {
      name: 'commands-not-commands',
      comment:
        'A command does not import another command (shared renderers go to ui/). Allowed: its own split files ' +
        '(hosts.ts -> hosts-io.ts), the shared context/parse helpers, and the registry (index.ts) loading every command.',
      severity: 'error',
      from: { path: '^src/commands/([a-z]+)', pathNot: '^src/commands/index\\.ts$' },
      to: { path: COMMANDS, pathNot: [COMMAND_SHARED, '^src/commands/$1[.-]'] },
    },
    down('library-entry-not-cli', ENTRY, `${COMMANDS}|${UI}|${CLI}`, 'The library entry imports no command, ui or cli module.'),
    {
      name: 'nothing-imports-the-top',
      comment: 'Nothing imports the cli or the library entry (index.ts may import connect.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: [CLI, '^src/index\\.ts$'] },
      to: { path: `${CLI}|${ENTRY}` },
    },
    {
      name: 'feature-index-only',
      comment: 'Outside a feature folder of core/ or store/, import only the folder\'s index.ts (its public face).',
      severity: 'error',
      from: { path: '^(src/[^/]+/[^/]+)/' },
      // A subfolder of a feature (core/backup/pgbackrest/) has its own index as its public face.
      to: { path: '^src/(core|store)/[^/]+/', pathNot: ['^$1/', '^src/(core|store)/[^/]+/index\\.ts$', '^src/(core|store)/[^/]+/[^/]+/index\\.ts$'] },
    },
    {
      name: 'feature-index-only-from-top',
      comment: 'The same rule for files that are in no feature folder (commands, ui, src/*.ts, core/options.ts, ...).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/[^/]+/[^/]+/' },
      to: { path: '^src/(core|store)/[^/]+/', pathNot: ['^src/(core|store)/[^/]+/index\\.ts$', '^src/(core|store)/[^/]+/[^/]+/index\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
