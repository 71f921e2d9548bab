/**
 * The hosts operations behind `pgstore hosts list|add|show|update|rm|history`: options in,
 * entries and events out. Inputs are validated here (host-validation.ts); every change is
 * an event appended with the entry's version, so concurrent edits conflict instead of
 * overwriting each other.
 */
import { ConcurrentWriteConflictError, NotFoundError, UsageError, ValidationError } from '../../errors.js';
import { copyHostRows, type EventEnvelope, type HostEntry, type HostEvent } from '../../store/hosts/index.js';
import { actorOf, openHostsDb, withHostsDb } from './db.js';
import type { ReplicaStores } from '../../store/replica-reads.js';
import { withReplicaReads } from './replica-db.js';
import { ulid } from './ids.js';
import { type FieldProblem, type HostInput, unique, validateHost } from './validation.js';
import type { CoreOptions } from '../options.js';

export interface ListHostsOptions extends CoreOptions {
  /** Read on a streaming replica: its URL, or true for DATABASE_REPLICA_URL. */
  replica?: string | true | undefined;
  tags?: string[];
  /** Hostname contains this (a plain substring). */
  search?: string;
  /** IP address contains this (a plain substring). */
  ip?: string;
  limit?: number;
  offset?: number;
}

/**
 * listHosts's entries as COPY text rows (store/hosts/hosts-copy-out.ts says their columns), in
 * chunks of whole rows as they arrive, for `--json` and `--format ndjson` to turn into JSON
 * bytes; the connection is closed when the loop ends (early or not).
 */
export async function* listHostRows(options: ListHostsOptions): AsyncGenerator<Buffer> {
  const { sql } = await openHostsDb(options);
  try {
    yield* copyHostRows(
      sql,
      { tags: options.tags, hostnamePattern: options.search, ipPattern: options.ip },
      { limit: options.limit, offset: options.offset },
    );
  } finally {
    // At once: a loop left early leaves the COPY running, and nothing else is waited for.
    await sql.end({ timeout: 0 }).catch(() => undefined);
  }
}

/** listHosts's page and how many entries match in all (one statement: one round trip, one snapshot). */
export async function listHostsPage(options: ListHostsOptions): Promise<{ entries: HostEntry[]; total: number }> {
  const search = (stores: Pick<ReplicaStores, 'hosts'>) =>
    stores.hosts.searchWithTotal(
      { tags: options.tags, hostnamePattern: options.search, ipPattern: options.ip },
      { limit: options.limit, offset: options.offset },
    );
  if (options.replica !== undefined) return withReplicaReads({ ...options, replica: options.replica }, search);
  return withHostsDb(options, ({ stores }) => search(stores));
}

/** Live entries matching the filters, ordered by IP then hostname. */
export async function listHosts(options: ListHostsOptions): Promise<HostEntry[]> {
  const search = (stores: Pick<ReplicaStores, 'hosts'>) =>
    stores.hosts.search(
      { tags: options.tags, hostnamePattern: options.search, ipPattern: options.ip },
      { limit: options.limit, offset: options.offset },
    );
  if (options.replica !== undefined) return withReplicaReads({ ...options, replica: options.replica }, search);
  return withHostsDb(options, ({ stores }) => search(stores));
}

export interface AddHostOptions extends CoreOptions {
  ip: string;
  hostname: string;
  aliases?: string[];
  comment?: string | null;
  tags?: string[];
  now?: Date;
}

/** Creates an entry; ValidationError naming the field, DuplicateEntryError when it is live already. */
export async function addHost(options: AddHostOptions): Promise<HostEntry> {
  const input = checked({
    ipAddress: options.ip.trim(),
    hostname: options.hostname.trim(),
    aliases: unique(options.aliases ?? []),
    comment: normalizeComment(options.comment),
    tags: unique(options.tags ?? []),
  });
  const now = options.now ?? new Date();
  const id = ulid(now.getTime());
  const event: HostEvent = { type: 'HostCreated', ...input, createdAt: now };
  return withHostsDb(options, async ({ stores }) => {
    await stores.hostEvents.appendEvent(id, envelope(id, event, now, options), null);
    return stores.hosts.getById(id);
  });
}

/** One live entry; NotFoundError when unknown or deleted. */
export async function showHost(options: CoreOptions & { id: string }): Promise<HostEntry> {
  return withHostsDb(options, ({ stores }) => stores.hosts.getById(options.id));
}

export interface UpdateHostOptions extends CoreOptions {
  id: string;
  ip?: string;
  hostname?: string;
  /** A string sets the comment, null clears it, undefined leaves it. */
  comment?: string | null;
  /** A list replaces the tags ([] clears them), undefined leaves them. */
  tags?: string[];
  aliases?: string[];
  /** The version the caller last saw; a different current version is a conflict (exit 3). */
  expectedVersion?: string;
  now?: Date;
}

export interface UpdateHostResult {
  entry: HostEntry;
  /** The events appended (none when nothing changed). */
  events: EventEnvelope[];
}

/** Changes an entry with one event per changed field, appended atomically. */
export async function updateHost(options: UpdateHostOptions): Promise<UpdateHostResult> {
  const given = [options.ip, options.hostname, options.comment, options.tags, options.aliases].some(
    (v) => v !== undefined,
  );
  if (!given)
    throw new UsageError('nothing to update', {
      hint: 'Give at least one of --ip, --hostname, --comment, --clear-comment, --tag, --clear-tags, --alias, --clear-aliases.',
    });
  const now = options.now ?? new Date();
  return withHostsDb(options, async ({ stores }) => {
    const current = await stores.hosts.getById(options.id);
    if (options.expectedVersion !== undefined && options.expectedVersion !== current.version) {
      throw new ConcurrentWriteConflictError(
        `version conflict on host ${current.id}: expected version ${options.expectedVersion}, actual version ${current.version}`,
        {
          expected: options.expectedVersion,
          actual: current.version,
          hint: `Someone changed it first. Check it with \`pgstore hosts show ${current.id}\` and retry with --expected-version ${current.version}.`,
        },
      );
    }
    const next: HostInput = checked({
      ipAddress: options.ip?.trim() ?? current.ipAddress,
      hostname: options.hostname?.trim() ?? current.hostname,
      aliases: options.aliases ? unique(options.aliases) : current.aliases,
      comment: options.comment !== undefined ? normalizeComment(options.comment) : current.comment,
      tags: options.tags ? unique(options.tags) : current.tags,
    });
    const events = changeEvents(current, next, now).map((event) => envelope(current.id, event, now, options));
    if (events.length === 0) return { entry: current, events };
    await stores.hostEvents.appendEvents(current.id, events, options.expectedVersion ?? current.version);
    return { entry: await stores.hosts.getById(current.id), events };
  });
}

/** The events that turn `from` into `to`, one per changed field. */
export function changeEvents(from: HostInput, to: HostInput, at: Date): HostEvent[] {
  const events: HostEvent[] = [];
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (from.ipAddress !== to.ipAddress)
    events.push({ type: 'IpAddressChanged', oldIp: from.ipAddress, newIp: to.ipAddress, changedAt: at });
  if (from.hostname !== to.hostname)
    events.push({ type: 'HostnameChanged', oldHostname: from.hostname, newHostname: to.hostname, changedAt: at });
  if (!same(from.aliases, to.aliases))
    events.push({ type: 'AliasesModified', oldAliases: from.aliases, newAliases: to.aliases, modifiedAt: at });
  if (from.comment !== to.comment)
    events.push({ type: 'CommentUpdated', oldComment: from.comment, newComment: to.comment, updatedAt: at });
  if (!same(from.tags, to.tags))
    events.push({ type: 'TagsModified', oldTags: from.tags, newTags: to.tags, modifiedAt: at });
  return events;
}

export interface RemoveHostResult {
  /** The entry as it was before the delete. */
  entry: HostEntry;
  event: EventEnvelope;
}

/** Deletes an entry (a tombstone event: its history stays). */
export async function removeHost(
  options: CoreOptions & { id: string; reason?: string; now?: Date },
): Promise<RemoveHostResult> {
  const now = options.now ?? new Date();
  return withHostsDb(options, async ({ stores }) => {
    const entry = await stores.hosts.getById(options.id);
    const event = envelope(
      entry.id,
      {
        type: 'HostDeleted',
        ipAddress: entry.ipAddress,
        hostname: entry.hostname,
        deletedAt: now,
        reason: options.reason ?? null,
      },
      now,
      options,
    );
    await stores.hostEvents.appendEvent(entry.id, event, entry.version);
    return { entry, event };
  });
}

/** Every event of an entry, deleted ones included, in append order; NotFoundError when none. */
export async function hostHistory(options: CoreOptions & { id: string }): Promise<EventEnvelope[]> {
  return withHostsDb(options, async ({ stores }) => {
    const events = await stores.hostEvents.loadEvents(options.id);
    if (events.length === 0)
      throw new NotFoundError('host', options.id, { hint: 'List hosts with `pgstore hosts list`.' });
    return events;
  });
}

const actors = new WeakMap<CoreOptions, string | null>();

/** An envelope with fresh ULIDs for the event id and version. */
export function envelope(aggregateId: string, event: HostEvent, at: Date, options: CoreOptions): EventEnvelope {
  // The actor is looked up once per operation: an import makes 100k envelopes, and reading
  // process.env is a system call each time.
  let actor = actors.get(options);
  if (actor === undefined) actors.set(options, (actor = actorOf(options)));
  return {
    eventId: ulid(at.getTime()),
    aggregateId,
    eventVersion: ulid(at.getTime()),
    createdAt: at,
    createdBy: actor,
    event,
  };
}

/** Comments are stored trimmed; an empty one is no comment. */
export function normalizeComment(comment: string | null | undefined): string | null {
  if (comment === undefined || comment === null) return null;
  return comment.trim() === '' ? null : comment.trim();
}

/** The input, or a ValidationError naming the first bad field (all problems in the message). */
function checked(input: HostInput): HostInput {
  const problems = validateHost(input);
  if (problems.length > 0) throw validationError(problems);
  return input;
}

/** One ValidationError for a list of problems (the first one's field). */
export function validationError(problems: FieldProblem[]): ValidationError {
  const where = (p: FieldProblem) => (p.line !== undefined ? `line ${p.line}: ` : '');
  return new ValidationError(problems.map((p) => `${where(p)}${p.message}`).join('; '), {
    field: problems[0]?.field,
    hint: 'IP addresses are IPv4 or IPv6; hostnames and aliases are 1–253 characters in labels of letters, digits and hyphens.',
  });
}
