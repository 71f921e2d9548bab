/**
 * `pgstore hosts list | add | show | update | rm | history | import | export`: hosts-file
 * entries, stored as events (every change is kept) and read from their current state.
 */
import { Command, Option } from 'commander';
import type { HostFormat } from '../core/hosts/index.js';
import { type App, examples } from './app.js';
import { describeEntry, historyTable, hostsTable } from './hosts-render.js';
import { collect, wholeNumber } from './parse.js';
import { exportCommand, importCommand } from './hosts-io.js';

interface ListFlags {
  tag: string[];
  search?: string;
  ip?: string;
  limit?: number;
  offset?: number;
  format: 'table' | 'json' | 'ndjson' | HostFormat;
}

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

export function hostsCommand(app: App): Command {
  const hosts = new Command('hosts').description('manage hosts-file entries (every change is an event; history is kept)');

  const list = new Command('list')
    .description('list live entries, ordered by IP then hostname')
    .option('--tag <tag>', 'only entries with this tag (repeat: any of them)', collect, [])
    .option('--search <text>', 'only entries whose hostname contains this text')
    .option('--ip <text>', 'only entries whose IP address contains this text')
    .addOption(new Option('--limit <n>', 'at most this many entries').argParser(wholeNumber('--limit', 1)))
    .addOption(new Option('--offset <n>', 'skip this many entries first').argParser(wholeNumber('--offset')))
    .addOption(new Option('--format <format>', 'output format (--json is --format json; ndjson: one JSON object a line, streamed)').choices(['table', 'json', 'ndjson', 'csv', 'hosts']).default('table'))
    .action(async (flags: ListFlags) => {
      const out = app.makeOutput();
      const format = out.options.json ? 'json' : flags.format;
      const options = { ...app.coreOptions((m) => out.info(m)), tags: flags.tag, search: flags.search, ip: flags.ip, limit: flags.limit, offset: flags.offset };
      if (format === 'json' || format === 'ndjson') {
        // Streamed from a cursor, never the whole list in memory.
        const [{ listHostPages }, { hostEntryElement, hostEntryLine }] = await Promise.all([import('../core/hosts/index.js'), import('../ui/host-json.js')]);
        if (format === 'json') return out.jsonArray(listHostPages(options), hostEntryElement);
        return out.ndjson(listHostPages(options), hostEntryLine);
      }
      const { listHosts } = await import('../core/hosts/index.js');
      const entries = await listHosts(options);
      if (format === 'csv' || format === 'hosts') {
        const { renderHostsPages } = await import('../core/hosts/index.js');
        return out.rawPages(renderHostsPages(entries, format, new Date()));
      }
      if (entries.length === 0) return out.result('No host entries.');
      await hostsTable(out, entries);
      out.result(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`);
    });
  hosts.addCommand(
    examples(list, ['pgstore hosts list', 'pgstore hosts list --tag prod --tag web --search api', 'pgstore hosts list --ip 192.168. --limit 20 --offset 40', 'pgstore hosts list --format hosts > /etc/hosts.d/app']),
  );

  const add = new Command('add')
    .description('add an entry')
    .requiredOption('--ip <ip>', 'IPv4 or IPv6 address')
    .requiredOption('--hostname <name>', 'the hostname')
    .option('--alias <name>', 'another name for the same address (repeatable)', collect, [])
    .option('--comment <text>', 'a comment')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .action(async (flags: { ip: string; hostname: string; alias: string[]; comment?: string; tag: string[] }) => {
      const out = app.makeOutput();
      const { addHost } = await import('../core/hosts/index.js');
      const entry = await addHost({ ...app.coreOptions((m) => out.info(m)), ip: flags.ip, hostname: flags.hostname, aliases: flags.alias, comment: flags.comment, tags: flags.tag });
      if (out.options.json) return out.json(entry);
      out.result(`Added host ${entry.id}:`);
      out.result(describeEntry(entry));
    });
  hosts.addCommand(examples(add, ['pgstore hosts add --ip 192.168.1.10 --hostname nas.lan', 'pgstore hosts add --ip ::1 --hostname api.test --alias www.api.test --tag dev --comment "local API"']));

  const show = new Command('show')
    .description('show one entry')
    .argument('<id>', 'the entry id')
    .action(async (id: string) => {
      const out = app.makeOutput();
      const { showHost } = await import('../core/hosts/index.js');
      const entry = await showHost({ ...app.coreOptions((m) => out.info(m)), id });
      if (out.options.json) return out.json(entry);
      out.result(describeEntry(entry));
    });
  hosts.addCommand(examples(show, ['pgstore hosts show 01JABCDEF0123456789ABCDEFG', 'pgstore hosts show 01JABCDEF0123456789ABCDEFG --json']));

  const update = new Command('update')
    .description('change an entry (one event per changed field, appended atomically)')
    .argument('<id>', 'the entry id')
    .option('--ip <ip>', 'new IP address')
    .option('--hostname <name>', 'new hostname')
    .addOption(new Option('--comment <text>', 'new comment').conflicts('clearComment'))
    .option('--clear-comment', 'remove the comment')
    .addOption(new Option('--tag <tag>', 'replace the tags with these (repeatable)').argParser(collect).conflicts('clearTags'))
    .option('--clear-tags', 'remove every tag')
    .addOption(new Option('--alias <name>', 'replace the aliases with these (repeatable)').argParser(collect).conflicts('clearAliases'))
    .option('--clear-aliases', 'remove every alias')
    .option('--expected-version <version>', 'fail (exit 3) unless the entry is still at this version')
    .action(async (id: string, flags: UpdateFlags) => {
      const out = app.makeOutput();
      const { updateHost } = await import('../core/hosts/index.js');
      const result = await updateHost({
        ...app.coreOptions((m) => out.info(m)),
        id,
        ip: flags.ip,
        hostname: flags.hostname,
        comment: flags.clearComment ? null : flags.comment,
        tags: flags.clearTags ? [] : flags.tag,
        aliases: flags.clearAliases ? [] : flags.alias,
        expectedVersion: flags.expectedVersion,
      });
      if (out.options.json) return out.json(result);
      out.result(result.events.length === 0 ? `Host ${id} already matches; nothing changed.` : `Updated host ${id} (${result.events.map((e) => e.event.type).join(', ')}):`);
      out.result(describeEntry(result.entry));
    });
  hosts.addCommand(
    examples(update, [
      'pgstore hosts update 01JABCDEF0123456789ABCDEFG --comment "moved to rack 2"',
      'pgstore hosts update 01JABCDEF0123456789ABCDEFG --ip 10.0.0.7 --tag prod --tag web --expected-version 01JABC...',
      'pgstore hosts update 01JABCDEF0123456789ABCDEFG --clear-comment --clear-aliases',
    ]),
  );

  const rm = new Command('rm')
    .description('delete an entry (its history is kept)')
    .argument('<id>', 'the entry id')
    .option('--reason <text>', 'why, kept in the history')
    .action(async (id: string, flags: { reason?: string }) => {
      const out = app.makeOutput();
      const { removeHost } = await import('../core/hosts/index.js');
      const { entry, event } = await removeHost({ ...app.coreOptions((m) => out.info(m)), id, reason: flags.reason });
      if (out.options.json) return out.json({ deleted: entry, event });
      out.result(`Deleted host ${entry.id} (${entry.ipAddress} ${entry.hostname}).`);
    });
  hosts.addCommand(examples(rm, ['pgstore hosts rm 01JABCDEF0123456789ABCDEFG', 'pgstore hosts rm 01JABCDEF0123456789ABCDEFG --reason "decommissioned"']));

  const history = new Command('history')
    .description("show an entry's events, oldest first (deleted entries too)")
    .argument('<id>', 'the entry id')
    .addOption(new Option('--format <format>', 'json: one document (as --json); ndjson: one JSON object a line, streamed').choices(['table', 'json', 'ndjson']).default('table'))
    .action(async (id: string, flags: { format: string }) => {
      const out = app.makeOutput();
      const { hostHistory } = await import('../core/hosts/index.js');
      const events = await hostHistory({ ...app.coreOptions((m) => out.info(m)), id });
      if (flags.format === 'ndjson') return out.ndjson(events);
      if (out.options.json || flags.format === 'json') return out.jsonArray(events);
      await historyTable(out, events);
    });
  hosts.addCommand(examples(history, ['pgstore hosts history 01JABCDEF0123456789ABCDEFG', 'pgstore hosts history 01JABCDEF0123456789ABCDEFG --json']));

  hosts.addCommand(importCommand(app));
  hosts.addCommand(exportCommand(app));
  return examples(hosts, ['pgstore hosts list', 'pgstore hosts add --ip 192.168.1.10 --hostname nas.lan', 'pgstore hosts import /etc/hosts --mode skip', 'pgstore hosts export -o hosts.txt']);
}
