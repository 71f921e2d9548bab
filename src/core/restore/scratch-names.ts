/**
 * The names of a restore's temporary databases: `<head>_pgstore_<purpose>_<tag><random>`,
 * where the tag is a hash of the target's name, so that a database sharing a long prefix is
 * never mistaken for the target. `restore` is the scratch copy being loaded; `old` is the
 * target's previous content, swapped out.
 */
import { createHash, randomBytes } from 'node:crypto';

/** `<head>_pgstore_<purpose>_<8 hex of the database name's hash><4 random hex>`. */
const SCRATCH = /^(.*)_pgstore_(restore|old)_([0-9a-f]{8})[0-9a-f]{4}$/s;

/** 8 hex characters that tell the scratch databases of `database` from those of a name sharing its prefix. */
function nameTag(database: string): string {
  return createHash('sha256').update(database).digest('hex').slice(0, 8);
}

/** Whether `name` is a scratch database of `database` (its head may be cut to fit 63 bytes; its tag is the name's). */
export function isScratchOf(name: string, database: string): boolean {
  const match = SCRATCH.exec(name);
  if (!match) return false;
  const [, head, , tag] = match as unknown as [string, string, string, string];
  return tag === nameTag(database) && head !== '' && database.startsWith(head);
}

/** What a scratch database of a restore is: the copy being loaded, or the original swapped out. */
export function scratchPurpose(name: string): 'restore' | 'old' | undefined {
  return SCRATCH.exec(name)?.[2] as 'restore' | 'old' | undefined;
}

/** `<database>_<purpose>_<random>`, at most 63 bytes. */
export function scratchName(database: string, purpose: 'restore' | 'old'): string {
  const suffix = `_pgstore_${purpose}_${nameTag(database)}${randomBytes(2).toString('hex')}`;
  let head = database;
  while (Buffer.byteLength(head + suffix) > 63) head = head.slice(0, -1);
  return head + suffix;
}
