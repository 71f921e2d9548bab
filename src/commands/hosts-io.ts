/**
 * `pgstore hosts import` and `pgstore hosts export`.
 */
import { Command, Option } from 'commander';
import type { ImportMode, ImportResult } from '../core/hosts/index.js';
import type { HostFormat } from '../core/hosts/index.js';
import { ExitCode, UsageError } from '../errors.js';
import type { Output } from '../ui/output.js';
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { outputFile } from './parse.js';
import { plural } from '../util/format.js';

const FORMATS = ['hosts', 'jsonl', 'csv'];
const MODES = ['skip', 'replace', 'strict'];
/** Line problems printed before "... and N more" (--json has them all). */
const SHOWN_PROBLEMS = 50;

interface ImportFlags {
  format?: HostFormat;
  mode: ImportMode;
  dryRun?: boolean;
}

/** importHosts with a count of lines done on a terminal (not with --json or --quiet). */
async function importWithCount(
  hosts: typeof import('../core/hosts/index.js'),
  io: ActionIO,
  file: string,
  flags: ImportFlags,
): Promise<ImportResult> {
  const { out } = io;
  const bar = await (await import('../ui/progress-sink.js')).countProgressFor(
    out,
    flags.dryRun ? 'checking' : 'importing',
    'lines',
  );
  try {
    return await hosts.importHosts({
      ...io.core(),
      source: file,
      readStdin: () => readAll((io.ctx.streams.stdin as NodeJS.ReadableStream | undefined) ?? process.stdin),
      format: flags.format,
      mode: flags.mode,
      dryRun: !!flags.dryRun,
      onProgress: bar ? (done, total, phase) => bar.update(done, total, phase) : undefined,
    });
  } finally {
    bar?.done();
  }
}

export function importCommand(ctx: CommandContext): Command {
  const command = new Command('import')
    .description('import entries from a hosts, JSON Lines or CSV file, in one transaction')
    .argument('<file>', 'the file, or - for standard input')
    .addOption(
      new Option('--format <format>', 'the file format (default: from the extension, else hosts)').choices(FORMATS),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'for an entry that exists (same IP and hostname): skip it, replace it, or refuse the whole import (strict)',
      )
        .choices(MODES)
        .default('skip'),
    )
    .option('--dry-run', 'check and count everything, then roll back')
    .action(
      action(ctx, {
        load: () => import('../core/hosts/index.js'),
        call: (hosts, io, file: string, flags: ImportFlags) => importWithCount(hosts, io, file, flags),
        text: (out, result) => report(out, result),
        exitCode: (result) =>
          result.failed === 0
            ? undefined
            : result.errors.some((e) => e.kind === 'invalid')
              ? ExitCode.usage
              : ExitCode.conflict,
      }),
    );
  return examples(command, [
    'pgstore hosts import /etc/hosts',
    'pgstore hosts import hosts.csv --mode replace --dry-run',
    'cat hosts.jsonl | pgstore hosts import - --format jsonl --mode strict --json',
  ]);
}

function report(out: Output, result: ImportResult): void {
  for (const problem of result.errors.slice(0, SHOWN_PROBLEMS))
    out.error(`line ${problem.line}: ${problem.field}: ${problem.message}`);
  if (result.errors.length > SHOWN_PROBLEMS)
    out.error(`... and ${plural(result.errors.length - SHOWN_PROBLEMS, 'more problem')} (--json lists them all)`);
  const counts = `processed ${result.processed}, created ${result.created}, updated ${result.updated}, skipped ${result.skipped}, failed ${result.failed}`;
  const seconds = (result.durationMs / 1000).toFixed(2);
  if (result.dryRun)
    out.result(
      `Dry run of ${result.source} (${result.format}, mode ${result.mode}): ${counts}; nothing was written (${seconds} s).`,
    );
  else if (result.mode === 'strict' && result.failed > 0)
    out.result(`Refused ${result.source} (strict): ${counts}; nothing was written.`);
  else out.result(`Imported ${result.source} (${result.format}, mode ${result.mode}): ${counts} in ${seconds} s.`);
  if (result.failed > 0 && !(result.mode === 'strict'))
    out.warn(
      `${plural(result.failed, 'line')} ${result.failed === 1 ? 'was' : 'were'} not imported; fix them and import again (existing entries are skipped).`,
    );
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function exportCommand(ctx: CommandContext): Command {
  const command = new Command('export')
    .description('write every live entry, sorted by IP then hostname, to standard output or a file (atomically)')
    .addOption(
      new Option('--format <format>', 'output format (ndjson: the same as jsonl, one JSON object a line)')
        .choices([...FORMATS, 'ndjson'])
        .default('hosts'),
    )
    .option(
      '-o, --output <file>',
      'write here (temporary file, fsync, rename) instead of standard output',
      outputFile('--output'),
    )
    .action(
      action(ctx, {
        load: () => import('../core/hosts/index.js'),
        call: async (hosts, io, flags: { format: HostFormat | 'ndjson'; output?: string }, cmd: Command) => {
          // --json without --output: the entries as JSON (hosts list --json's array, streamed), not a file.
          if (io.out.options.json && !flags.output) {
            if (cmd.getOptionValueSource('format') === 'cli')
              throw new UsageError(`--json prints the entries as JSON; --format ${flags.format} needs --output`, {
                hint: 'Leave out --json, or add -o FILE (--json then prints what was written).',
              });
            return { listed: hosts.listHostRows(io.core()) };
          }
          return hosts.exportHosts({
            ...io.core(),
            format: flags.format === 'ndjson' ? 'jsonl' : flags.format,
            output: flags.output,
          });
        },
        json: false, // the file itself goes to stdout when there is no --output
        text: async (out, result) => {
          if ('listed' in result) {
            const { hostJsonFromCopy } = await import('../ui/host-json-bytes.js');
            return out.jsonText(result.listed, (rows) => hostJsonFromCopy(rows, 'element'), 'element');
          }
          if (result.pages !== null) return out.rawPages(result.pages);
          if (out.options.json)
            return out.json({
              path: result.path,
              format: result.format,
              entryCount: result.entries,
              sizeBytes: result.bytes,
            });
          out.result(
            `Wrote ${plural(result.entries, 'entry')} to ${result.path} (${result.format}, ${result.bytes} bytes).`,
          );
        },
      }),
    );
  return examples(command, [
    'pgstore hosts export > hosts.txt',
    'pgstore hosts export --output /etc/hosts.pgstore',
    'pgstore hosts export --format jsonl -o backup.jsonl',
  ]);
}
