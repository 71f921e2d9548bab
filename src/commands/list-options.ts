/**
 * Options several listing commands share, written once so their help reads the same.
 */
import { Option } from 'commander';

/** `--format table|json|ndjson` of a list (`backup list`, `hosts history`, `snapshot list`). */
export function listFormatOption(): Option {
  return new Option('--format <format>', 'json: one document (as --json); ndjson: one JSON object a line')
    .choices(['table', 'json', 'ndjson'])
    .default('table');
}

/** `--replica [url]`: the read goes to a streaming replica when it can (`hosts list`, `snapshot list`). */
export function replicaOption(): Option {
  return new Option(
    '--replica [url]',
    'read on a streaming replica (this URL, else DATABASE_REPLICA_URL); the primary answers if it cannot',
  );
}
