/**
 * `pgstore hosts list | add | show | update | rm | history | import | export`: hosts-file
 * entries, stored as events (every change is kept) and read from their current state. One
 * factory per subcommand; `hostsCommand` registers them.
 */
import { Command, Option } from 'commander';
import { describeEntry, historyTable } from '../ui/hosts-view.js';
import { hostEventJson } from '../ui/json-views.js';
import { listFormatOption } from './list-options.js';
import { action, type CommandContext, examples } from './context.js';
import { addSubcommands } from './subcommands.js';
import { exportCommand, importCommand } from './hosts-io.js';
import { hostsListCommand } from './hosts-list.js';
import { collect } from './parse.js';

const hostsCore = () => import('../core/hosts/index.js');

interface UpdateFlags {
  ip?: string;
  hostname?: string;
  comment?: string;
  clearComment?: boolean;
  tag?: string[];
  clearTags?: boolean;
  alias?: string[];
  clearAliases?: boolean;
  expectedVersion?: string;
}

function addCommand(ctx: CommandContext): Command {
  const command = new Command('add')
    .description('add an entry')
    .requiredOption('--ip <ip>', 'IPv4 or IPv6 address')
    .requiredOption('--hostname <name>', 'the hostname')
    .option('--alias <name>', 'another name for the same address (repeatable)', collect)
    .option('--comment <text>', 'a comment')
    .option('--tag <tag>', 'a tag (repeatable)', collect)
    .action(
      action(ctx, {
        load: hostsCore,
        call: (
          hosts,
          io,
          flags: { ip: string; hostname: string; alias?: string[]; comment?: string; tag?: string[] },
        ) =>
          hosts.addHost({
            ...io.core(),
            ip: flags.ip,
            hostname: flags.hostname,
            aliases: flags.alias ?? [],
            comment: flags.comment,
            tags: flags.tag ?? [],
          }),
        text: (out, entry) => out.result(`Added host ${entry.id}:\n${describeEntry(entry)}`),
      }),
    );
  return examples(command, [
    'pgstore hosts add --ip 192.168.1.10 --hostname nas.lan',
    'pgstore hosts add --ip ::1 --hostname api.test --alias www.api.test --tag dev --comment "local API"',
  ]);
}

function showCommand(ctx: CommandContext): Command {
  const command = new Command('show')
    .description('show one entry')
    .argument('<id>', 'the entry id')
    .action(
      action(ctx, {
        load: hostsCore,
        call: (hosts, io, id: string) => hosts.showHost({ ...io.core(), id }),
        text: (out, entry) => out.result(describeEntry(entry)),
      }),
    );
  return examples(command, [
    'pgstore hosts show 01JABCDEF0123456789ABCDEFG',
    'pgstore hosts show 01JABCDEF0123456789ABCDEFG --json',
  ]);
}

function updateCommand(ctx: CommandContext): Command {
  const command = new Command('update')
    .description('change an entry (one event per changed field, appended atomically)')
    .argument('<id>', 'the entry id')
    .option('--ip <ip>', 'new IP address')
    .option('--hostname <name>', 'new hostname')
    .addOption(new Option('--comment <text>', 'new comment').conflicts('clearComment'))
    .option('--clear-comment', 'remove the comment')
    .addOption(
      new Option('--tag <tag>', 'replace the tags with these (repeatable)').argParser(collect).conflicts('clearTags'),
    )
    .option('--clear-tags', 'remove every tag')
    .addOption(
      new Option('--alias <name>', 'replace the aliases with these (repeatable)')
        .argParser(collect)
        .conflicts('clearAliases'),
    )
    .option('--clear-aliases', 'remove every alias')
    .option('--expected-version <version>', 'fail (exit 3) unless the entry is still at this version')
    .action(
      action(ctx, {
        load: hostsCore,
        call: (hosts, io, id: string, flags: UpdateFlags) =>
          hosts.updateHost({
            ...io.core(),
            id,
            ip: flags.ip,
            hostname: flags.hostname,
            comment: flags.clearComment ? null : flags.comment,
            tags: flags.clearTags ? [] : flags.tag,
            aliases: flags.clearAliases ? [] : flags.alias,
            expectedVersion: flags.expectedVersion,
          }),
        json: (out, result) => out.json({ entry: result.entry, events: result.events.map(hostEventJson) }),
        text: (out, result, [id]) => {
          out.result(
            result.events.length === 0
              ? `Host ${id} already matches; nothing changed.`
              : `Updated host ${id} (${result.events.map((e) => e.event.type).join(', ')}):`,
          );
          out.result(describeEntry(result.entry));
        },
      }),
    );
  return examples(command, [
    'pgstore hosts update 01JABCDEF0123456789ABCDEFG --comment "moved to rack 2"',
    'pgstore hosts update 01JABCDEF0123456789ABCDEFG --ip 10.0.0.7 --tag prod --tag web --expected-version 01JABC...',
    'pgstore hosts update 01JABCDEF0123456789ABCDEFG --clear-comment --clear-aliases',
  ]);
}

function rmCommand(ctx: CommandContext): Command {
  const command = new Command('rm')
    .description('delete an entry (its history is kept)')
    .argument('<id>', 'the entry id')
    .option('--reason <text>', 'why, kept in the history')
    .action(
      action(ctx, {
        load: hostsCore,
        call: (hosts, io, id: string, flags: { reason?: string }) =>
          hosts.removeHost({ ...io.core(), id, reason: flags.reason }),
        json: (out, { entry, event }) => out.json({ deleted: entry, event: hostEventJson(event) }),
        text: (out, { entry }) => out.result(`Deleted host ${entry.id} (${entry.ipAddress} ${entry.hostname}).`),
      }),
    );
  return examples(command, [
    'pgstore hosts rm 01JABCDEF0123456789ABCDEFG',
    'pgstore hosts rm 01JABCDEF0123456789ABCDEFG --reason "decommissioned"',
  ]);
}

function historyCommand(ctx: CommandContext): Command {
  const command = new Command('history')
    .description("show an entry's events, oldest first (deleted entries too)")
    .argument('<id>', 'the entry id')
    .addOption(listFormatOption())
    .action(
      action(ctx, {
        load: hostsCore,
        call: (hosts, io, id: string, _flags: { format: string }) => hosts.hostHistory({ ...io.core(), id }),
        json: (out, events) => out.jsonArray(events.map(hostEventJson)),
        text: (out, events, [, flags]) =>
          flags.format === 'ndjson'
            ? out.ndjson(events.map(hostEventJson))
            : flags.format === 'json'
              ? out.jsonArray(events.map(hostEventJson))
              : historyTable(out, events),
      }),
    );
  return examples(command, [
    'pgstore hosts history 01JABCDEF0123456789ABCDEFG',
    'pgstore hosts history 01JABCDEF0123456789ABCDEFG --json',
  ]);
}

/** `only`: the subcommand this run names, the one built in full (subcommands.ts). */
export function hostsCommand(ctx: CommandContext, only?: string): Command {
  const hosts = new Command('hosts').description(
    'manage hosts-file entries (every change is an event; history is kept)',
  );
  addSubcommands(
    hosts,
    [
      { name: 'list', build: () => hostsListCommand(ctx) },
      { name: 'add', build: () => addCommand(ctx) },
      { name: 'show', build: () => showCommand(ctx) },
      { name: 'update', build: () => updateCommand(ctx) },
      { name: 'rm', build: () => rmCommand(ctx) },
      { name: 'history', build: () => historyCommand(ctx) },
      { name: 'import', build: () => importCommand(ctx) },
      { name: 'export', build: () => exportCommand(ctx) },
    ],
    only,
  );
  return examples(hosts, [
    'pgstore hosts list',
    'pgstore hosts add --ip 192.168.1.10 --hostname nas.lan',
    'pgstore hosts import /etc/hosts --mode skip',
    'pgstore hosts export -o hosts.txt',
  ]);
}
