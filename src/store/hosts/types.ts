/**
 * The hosts contract (seed 001's storage traits, kept so other tools' storage test suites run
 * against pgstore): events and their envelope, the current-state entry, snapshots.
 */

/** A host entry was created (or re-created after a delete). */
export interface HostCreated {
  type: 'HostCreated';
  ipAddress: string;
  hostname: string;
  aliases?: string[];
  comment?: string | null;
  tags: string[];
  createdAt: Date;
}

export interface IpAddressChanged {
  type: 'IpAddressChanged';
  oldIp: string;
  newIp: string;
  changedAt: Date;
}

export interface HostnameChanged {
  type: 'HostnameChanged';
  oldHostname: string;
  newHostname: string;
  changedAt: Date;
}

/** A missing or null newComment clears the comment. */
export interface CommentUpdated {
  type: 'CommentUpdated';
  oldComment?: string | null;
  newComment?: string | null;
  updatedAt: Date;
}

export interface TagsModified {
  type: 'TagsModified';
  oldTags: string[];
  newTags: string[];
  modifiedAt: Date;
}

export interface AliasesModified {
  type: 'AliasesModified';
  oldAliases: string[];
  newAliases: string[];
  modifiedAt: Date;
}

/** A tombstone: the entry leaves every read; its events stay. */
export interface HostDeleted {
  type: 'HostDeleted';
  ipAddress: string;
  hostname: string;
  deletedAt: Date;
  reason?: string | null;
}

/** Every event, discriminated by `type`. */
export type HostEvent =
  | HostCreated
  | IpAddressChanged
  | HostnameChanged
  | CommentUpdated
  | TagsModified
  | AliasesModified
  | HostDeleted;
export type HostEventType = HostEvent['type'];

export const HOST_EVENT_TYPES: readonly HostEventType[] = [
  'HostCreated',
  'IpAddressChanged',
  'HostnameChanged',
  'CommentUpdated',
  'TagsModified',
  'AliasesModified',
  'HostDeleted',
];

/** An event as stored: `eventVersion` is the caller's opaque token; `createdAt` the caller's time. */
export interface EventEnvelope {
  eventId: string;
  aggregateId: string;
  eventVersion: string;
  createdAt: Date;
  createdBy?: string | null;
  event: HostEvent;
}

/** The current state of a live host entry (from the hosts.hosts projection). */
export interface HostEntry {
  id: string;
  ipAddress: string;
  hostname: string;
  aliases: string[];
  comment: string | null;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  /** eventVersion of the entry's latest event: the expectedVersion for the next append. */
  version: string;
}

/**
 * A HostEntry as JSON carries it (JSON.parse(JSON.stringify(entry))): the times as ISO 8601
 * text in UTC with milliseconds, as Date.prototype.toISOString writes them. Long lists are
 * read in this shape to be written as JSON with no Date made and turned back into text.
 */
export type HostEntryJson = Omit<HostEntry, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

/** search(): substrings (`%` and `_` are ordinary characters), ANDed; tags = any of. */
export interface HostSearch {
  ipPattern?: string | undefined;
  hostnamePattern?: string | undefined;
  tags?: string[] | undefined;
}

export type { PageOptions as Page } from '../paging.js';

/** A saved hosts file. `entries` (pgstore's addition) lets a rollback restore aliases and tags exactly. */
export interface Snapshot {
  snapshotId: string;
  createdAt: Date;
  hostsContent: string;
  entryCount: number;
  trigger: string;
  name?: string | null;
  eventLogPosition?: number | null;
  entries?: HostEntry[] | null;
}

/** What listSnapshots returns: no content. */
export interface SnapshotMetadata {
  snapshotId: string;
  createdAt: Date;
  entryCount: number;
  trigger: string;
  name: string | null;
  eventLogPosition: number | null;
}

/** Retention: delete each snapshot beyond the newest maxCount, or older than maxAgeDays. */
export interface RetentionPolicy {
  maxCount?: number | null | undefined;
  maxAgeDays?: number | null | undefined;
  /** The time ages are measured from (default: the database's now()). */
  now?: Date | undefined;
}

/** One event of a multi-aggregate batch (imports, rollbacks). */
export interface BatchItem {
  envelope: EventEnvelope;
  /** The aggregate's version this event is based on (null: the aggregate must not exist yet). */
  expectedVersion: string | null;
}

const DATE_KEYS: Record<HostEventType, string[]> = {
  HostCreated: ['createdAt'],
  IpAddressChanged: ['changedAt'],
  HostnameChanged: ['changedAt'],
  CommentUpdated: ['updatedAt'],
  TagsModified: ['modifiedAt'],
  AliasesModified: ['modifiedAt'],
  HostDeleted: ['deletedAt'],
};

/** The event with its timestamps as ISO strings from `iso` (a cache: imports share one time). */
export function eventForJson(event: HostEvent, iso: (date: Date) => string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...event };
  for (const key of DATE_KEYS[event.type] ?? []) {
    const value = copy[key];
    if (value instanceof Date) copy[key] = iso(value);
  }
  return copy;
}

/** An event read back from JSON: its timestamps as Dates again. */
export function reviveEvent(raw: Record<string, unknown>): HostEvent {
  const event: Record<string, unknown> = { ...raw };
  for (const key of DATE_KEYS[raw.type as HostEventType] ?? []) {
    if (typeof event[key] === 'string') event[key] = new Date(event[key] as string);
  }
  return event as unknown as HostEvent;
}

/**
 * date → ISO string, remembering each distinct time: a batch's events often share one
 * timestamp, and toISOString dominated encoding large batches.
 */
export function isoFormatter(): (date: Date) => string {
  const cache = new Map<number, string>();
  return (date) => {
    const time = date.getTime();
    let text = cache.get(time);
    if (text === undefined) cache.set(time, (text = date.toISOString()));
    return text;
  };
}
