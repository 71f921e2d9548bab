/**
 * `pgstore server start | stop | status | url`: the embedded PostgreSQL server.
 */
import { Command } from 'commander';
import type { ServerStatus } from '../core/server/index.js';
import { type CommandContext, examples } from './context.js';
import type { Output } from '../ui/output.js';

function describe(status: ServerStatus): string[] {
  const lines = [
    `state:    ${status.running ? 'running' : status.initialized ? 'stopped' : 'not created yet'}`,
    `port:     127.0.0.1:${status.port}`,
    `home:     ${status.home}`,
    `data:     ${status.dataDir}`,
    `socket:   ${status.socketDir}`,
    `log:      ${status.logFile}`,
  ];
  if (status.pid) lines.splice(1, 0, `pid:      ${status.pid}`);
  if (status.version) lines.push(`version:  PostgreSQL ${status.version}`);
  if (status.url) lines.push(`url:      ${status.url}`);
  return lines;
}

function show(out: Output, status: ServerStatus, headline?: string): void {
  if (out.options.json) return out.json(status);
  if (headline) out.result(headline);
  out.result(describe(status).join('\n'));
}

export function serverCommand(app: CommandContext): Command {
  const server = new Command('server').description('manage the embedded PostgreSQL server (used when no database URL is configured)');

  server.addCommand(
    examples(
      new Command('start').description('start the embedded server, creating it on first use').action(async () => {
        const out = app.makeOutput();
        const { startServer } = await import('../core/server/index.js');
        const { alreadyRunning, status } = await startServer({ target: app.embedded(), log: (m) => out.info(m) });
        show(out, status, alreadyRunning ? 'The embedded server was already running.' : 'The embedded server is running.');
      }),
      ['pgstore server start', 'PGSTORE_PORT=55432 pgstore server start'],
    ),
  );
  server.addCommand(
    examples(
      new Command('stop').description('stop the embedded server (fast shutdown)').action(async () => {
        const out = app.makeOutput();
        const { stopServer } = await import('../core/server/index.js');
        const { wasRunning } = await stopServer({ target: app.embedded(), log: (m) => out.info(m) });
        if (out.options.json) out.json({ stopped: wasRunning, wasRunning });
        else out.result(wasRunning ? 'Stopped the embedded server.' : 'The embedded server was not running.');
      }),
      ['pgstore server stop'],
    ),
  );
  server.addCommand(
    examples(
      new Command('status').description('show whether the embedded server runs, and where its files are').action(async () => {
        const out = app.makeOutput();
        const { serverStatus } = await import('../core/server/index.js');
        show(out, serverStatus({ target: app.embedded() }));
      }),
      ['pgstore server status', 'pgstore server status --json'],
    ),
  );
  server.addCommand(
    examples(
      new Command('url').description('print a connection URL for the embedded server (with its password), starting it if needed').action(async () => {
        const out = app.makeOutput();
        const { serverUrl } = await import('../core/server/index.js');
        const url = await serverUrl({ target: app.embedded(), log: (m) => out.info(m) });
        if (out.options.json) out.json({ url });
        else out.raw(`${url}\n`);
      }),
      ['psql "$(pgstore server url)"', 'export DATABASE_URL="$(pgstore server url)"'],
    ),
  );
  return examples(server, ['pgstore server start', 'pgstore server status', 'psql "$(pgstore server url)"', 'pgstore server stop']);
}
