/**
 * Host entries (HostEntryJson: times already ISO text) as JSON, written by hand for their fixed shape: the same text as
 * JSON.stringify gives (test/unit/host-json.test.ts checks it), several times faster on a
 * 100k-entry list, where JSON.stringify's generic walk was most of `hosts list --json`'s time.
 */
import type { HostEntryJson } from '../store/hosts/index.js';

const str = JSON.stringify as (text: string) => string;

function compactList(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  let text = `[${str(items[0]!)}`;
  for (let i = 1; i < items.length; i++) text += `,${str(items[i]!)}`;
  return `${text}]`;
}

function prettyList(items: readonly string[]): string {
  if (items.length === 0) return '[]';
  let text = `[\n      ${str(items[0]!)}`;
  for (let i = 1; i < items.length; i++) text += `,\n      ${str(items[i]!)}`;
  return `${text}\n    ]`;
}

/** An entry as one line: JSON.stringify(entry). */
export function hostEntryLine(e: HostEntryJson): string {
  return (
    `{"id":${str(e.id)},"ipAddress":${str(e.ipAddress)},"hostname":${str(e.hostname)},"aliases":${compactList(e.aliases)},` +
    `"comment":${e.comment === null ? 'null' : str(e.comment)},"tags":${compactList(e.tags)},` +
    `"createdAt":"${e.createdAt}","updatedAt":"${e.updatedAt}","version":${str(e.version)}}`
  );
}

/** An entry as an element of JSON.stringify(entries, null, 2) (indented by two spaces). */
export function hostEntryElement(e: HostEntryJson): string {
  return (
    `  {\n    "id": ${str(e.id)},\n    "ipAddress": ${str(e.ipAddress)},\n    "hostname": ${str(e.hostname)},\n    "aliases": ${prettyList(e.aliases)},\n` +
    `    "comment": ${e.comment === null ? 'null' : str(e.comment)},\n    "tags": ${prettyList(e.tags)},\n` +
    `    "createdAt": "${e.createdAt}",\n    "updatedAt": "${e.updatedAt}",\n    "version": ${str(e.version)}\n  }`
  );
}
