/**
 * `pgstore server start | stop | status | url`: the embedded PostgreSQL server. One factory
 * per subcommand; `serverCommand` registers them.
 */
import { Command } from 'commander';
import type { ServerStatus } from '../core/server/index.js';
import { action, type CommandContext, examples } from './context.js';
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
  if (out.options.json) {
    out.json(status);
    return;
  }
  if (headline) out.result(headline);
  out.result(describe(status).join('\n'));
}

const serverCore = () => import('../core/server/index.js');

function startCommand(ctx: CommandContext): Command {
  const command = new Command('start').description('start the embedded server, creating it on first use').action(
    action(ctx, {
      load: serverCore,
      call: (server, io) => server.startServer({ target: ctx.embedded(), log: io.log }),
      json: false,
      text: (out, { alreadyRunning, status }) =>
        show(
          out,
          status,
          alreadyRunning ? 'The embedded server was already running.' : 'The embedded server is running.',
        ),
    }),
  );
  return examples(command, ['pgstore server start', 'PGSTORE_PORT=55432 pgstore server start']);
}

function stopCommand(ctx: CommandContext): Command {
  const command = new Command('stop').description('stop the embedded server (fast shutdown)').action(
    action(ctx, {
      load: serverCore,
      call: (server, io) => server.stopServer({ target: ctx.embedded(), log: io.log }),
      json: (out, { wasRunning }) => out.json({ stopped: wasRunning, wasRunning }),
      text: (out, { wasRunning }) =>
        out.result(wasRunning ? 'Stopped the embedded server.' : 'The embedded server was not running.'),
    }),
  );
  return examples(command, ['pgstore server stop']);
}

function statusCommand(ctx: CommandContext): Command {
  const command = new Command('status')
    .description('show whether the embedded server runs, and where its files are')
    .action(
      action(ctx, {
        load: serverCore,
        call: (server) => server.serverStatus({ target: ctx.embedded() }),
        json: false,
        text: (out, status) => show(out, status),
      }),
    );
  return examples(command, ['pgstore server status', 'pgstore server status --json']);
}

function urlCommand(ctx: CommandContext): Command {
  const command = new Command('url')
    .description('print a connection URL for the embedded server (with its password), starting it if needed')
    .action(
      action(ctx, {
        load: serverCore,
        call: (server, io) => server.serverUrl({ target: ctx.embedded(), log: io.log }),
        json: (out, url) => out.json({ url }),
        text: (out, url) => out.raw(`${url}\n`),
      }),
    );
  return examples(command, ['psql "$(pgstore server url)"', 'export DATABASE_URL="$(pgstore server url)"']);
}

export function serverCommand(ctx: CommandContext): Command {
  const server = new Command('server').description(
    'manage the embedded PostgreSQL server (used when no database URL is configured)',
  );
  for (const make of [startCommand, stopCommand, statusCommand, urlCommand]) server.addCommand(make(ctx));
  return examples(server, [
    'pgstore server start',
    'pgstore server status',
    'psql "$(pgstore server url)"',
    'pgstore server stop',
  ]);
}
