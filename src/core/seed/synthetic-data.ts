/**
 * Deterministic synthetic data: the same random seed gives the same rows, byte for byte.
 * Rows are produced lazily (generators), so any volume streams in bounded memory.
 *
 * The PRNG is sfc32, written here on purpose rather than taken from a library: its output is
 * a contract (same seed → same data across pgstore versions), so it must never change under us.
 */
import type { HostEventRow, HostGroup, TenantRow, UserRow } from '../../store/admin/index.js';

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), seeded from a string. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string | number) {
    // Seed the state with a string hash (cyrb128), then warm up.
    let h1 = 1779033703,
      h2 = 3144134277,
      h3 = 1013904242,
      h4 = 2773480762;
    const text = String(seed);
    for (let i = 0; i < text.length; i++) {
      const k = text.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
    }
    this.a = h1 >>> 0;
    this.b = h2 >>> 0;
    this.c = h3 >>> 0;
    this.d = h4 >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `k` distinct items, in a stable order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const chosen = new Set<number>();
    while (chosen.size < Math.min(k, items.length)) chosen.add(this.int(items.length));
    return [...chosen].sort((x, y) => x - y).map((i) => items[i]!);
  }

  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
}

const FIRST = [
  'ada',
  'alan',
  'grace',
  'linus',
  'margaret',
  'dennis',
  'barbara',
  'ken',
  'radia',
  'edsger',
  'frances',
  'john',
  'katherine',
  'tim',
  'sophie',
  'guido',
  'hedy',
  'donald',
  'annie',
  'claude',
];
const LAST = [
  'lovelace',
  'turing',
  'hopper',
  'torvalds',
  'hamilton',
  'ritchie',
  'liskov',
  'thompson',
  'perlman',
  'dijkstra',
  'allen',
  'mccarthy',
  'johnson',
  'berners-lee',
  'wilson',
  'rossum',
  'lamarr',
  'knuth',
  'easley',
  'shannon',
];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.test', 'corp.example'];
const WORDS = [
  'acme',
  'globex',
  'initech',
  'umbrella',
  'hooli',
  'stark',
  'wayne',
  'wonka',
  'tyrell',
  'cyberdyne',
  'soylent',
  'aperture',
  'vandelay',
  'gringotts',
  'monarch',
];
const ZONES = ['lan', 'internal', 'example.com', 'corp.example', 'home.arpa', 'test'];
const ROLES = ['web', 'db', 'cache', 'queue', 'api', 'auth', 'mail', 'dns', 'proxy', 'build', 'log', 'metrics'];
export const TAGS = [
  'production',
  'staging',
  'dev',
  'blocked',
  'internal',
  'external',
  'critical',
  'legacy',
  'monitored',
  'ipv6',
  'eu',
  'us',
];

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID for a given time, its randomness from `rng` (deterministic). */
export function ulid(time: number, rng: Random): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  for (let i = 0; i < 16; i++) out += CROCKFORD[rng.int(32)];
  return out;
}

/** A version-7 UUID for a given time, its randomness from `rng` (deterministic). */
export function uuidv7(time: number, rng: Random): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const ms = hex(time, 12);
  const rand = () => hex(rng.next() & 0xffff, 4);
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${hex(rng.next() & 0xfff, 3)}-${hex(0x8000 | (rng.next() & 0x3fff), 4)}-${rand()}${rand()}${rand()}`;
}

/**
 * Six base-36 characters derived from the random seed, part of every unique name (tenant ids
 * and names, emails, host zones), so that data sets of different seeds load side by side.
 */
export function seedTag(seed: string): string {
  const rng = new Random(`${seed}:tag`);
  return ((rng.next() % 2176782336) + 2176782336).toString(36).slice(-6);
}

/** The fixed clock synthetic data starts from, so timestamps are reproducible too. */
export const EPOCH = Date.UTC(2026, 0, 1);

/** `count` users with unique emails. */
export function* syntheticUsers(seed: string, count: number): Generator<UserRow> {
  const rng = new Random(`${seed}:users`);
  const tag = seedTag(seed);
  for (let i = 0; i < count; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const created = EPOCH + i * 60_000 + rng.int(60_000);
    yield {
      id: uuidv7(created, rng),
      email: `${first}.${last}.${tag}.${i}@${rng.pick(DOMAINS)}`,
      name: `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}`,
      status: rng.chance(0.02) ? 'suspended' : 'active',
      emailVerifiedAt: rng.chance(0.8) ? new Date(created + 3_600_000) : null,
      createdAt: new Date(created),
    };
  }
}

/** `count` tenants with unique ids and names. */
export function* syntheticTenants(seed: string, count: number): Generator<TenantRow> {
  const rng = new Random(`${seed}:tenants`);
  const tag = seedTag(seed);
  for (let i = 0; i < count; i++) {
    const word = rng.pick(WORDS);
    yield {
      id: `${word}-${tag}-${i}`,
      name: `${word[0]!.toUpperCase()}${word.slice(1)} ${tag} ${i}`,
      domain: `${word}-${tag}-${i}.example.com`,
      createdAt: new Date(EPOCH + i * 3_600_000),
    };
  }
}

function ipv4(rng: Random): string {
  return `10.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
}

function ipv6(rng: Random): string {
  const group = () => (rng.next() & 0xffff).toString(16);
  return `fd00:${group()}:${group()}::${group()}`;
}

/**
 * `hosts` aggregates of `eventsPerHost` events each: a HostCreated, then changes of address,
 * name, comment, tags or aliases; about 2% end deleted. Hostnames are unique per host, so
 * live (ip, hostname) pairs never collide. Each host comes with its final state, so a bulk
 * load can write the projection directly instead of folding the log afterwards.
 */
export function* syntheticHosts(seed: string, hosts: number, eventsPerHost: number): Generator<HostGroup> {
  const rng = new Random(`${seed}:hosts`);
  const tag = seedTag(seed);
  for (let h = 0; h < hosts; h++) {
    let time = EPOCH + h * 1000;
    const aggregateId = ulid(time, rng);
    const zone = `${tag}.${rng.pick(ZONES)}`;
    let hostname = `${rng.pick(ROLES)}-${h}.${zone}`;
    let ip = rng.chance(0.1) ? ipv6(rng) : ipv4(rng);
    let tags = rng.sample(TAGS, 1 + rng.int(3));
    let aliases: string[] = rng.chance(0.3) ? [`${rng.pick(ROLES)}${h}.${zone}`] : [];
    let comment: string | null = rng.chance(0.5) ? `${rng.pick(ROLES)} server for ${rng.pick(WORDS)}` : null;
    let version: string | null = null;
    const created = new Date(time);
    const deleteAtEnd = eventsPerHost > 1 && rng.chance(0.02);
    const events: HostEventRow[] = [];
    for (let e = 0; e < eventsPerHost; e++) {
      const at = new Date(time).toISOString();
      let type: string;
      let event: Record<string, unknown>;
      if (e === 0) {
        type = 'HostCreated';
        event = { type, ipAddress: ip, hostname, aliases, comment, tags, createdAt: at };
      } else if (e === eventsPerHost - 1 && deleteAtEnd) {
        type = 'HostDeleted';
        event = { type, ipAddress: ip, hostname, deletedAt: at, reason: 'decommissioned' };
      } else {
        switch (rng.int(5)) {
          case 0: {
            const next = ip.includes(':') ? ipv6(rng) : ipv4(rng);
            event = { type: (type = 'IpAddressChanged'), oldIp: ip, newIp: next, changedAt: at };
            ip = next;
            break;
          }
          case 1: {
            const next = `${rng.pick(ROLES)}-${h}-${e}.${zone}`;
            event = { type: (type = 'HostnameChanged'), oldHostname: hostname, newHostname: next, changedAt: at };
            hostname = next;
            break;
          }
          case 2: {
            const next = rng.chance(0.2) ? null : `${rng.pick(ROLES)} for ${rng.pick(WORDS)} (rev ${e})`;
            event = { type: (type = 'CommentUpdated'), oldComment: comment, newComment: next, updatedAt: at };
            comment = next;
            break;
          }
          case 3: {
            const next = rng.sample(TAGS, 1 + rng.int(3));
            event = { type: (type = 'TagsModified'), oldTags: tags, newTags: next, modifiedAt: at };
            tags = next;
            break;
          }
          default: {
            const next = rng.chance(0.5) ? [`${rng.pick(ROLES)}${h}-${e}.${zone}`] : [];
            event = { type: (type = 'AliasesModified'), oldAliases: aliases, newAliases: next, modifiedAt: at };
            aliases = next;
          }
        }
      }
      const eventVersion = ulid(time, rng);
      events.push({
        eventId: ulid(time, rng),
        aggregateId,
        type,
        eventVersion,
        expectedVersion: version,
        event,
        createdAt: new Date(time),
      });
      version = eventVersion;
      if (e < eventsPerHost - 1) time += 60_000 + rng.int(60_000);
    }
    const updated = new Date(time);
    yield {
      events,
      live:
        deleteAtEnd || eventsPerHost === 0
          ? null
          : {
              id: aggregateId,
              ipAddress: ip,
              hostname,
              aliases,
              comment,
              tags,
              createdAt: created,
              updatedAt: updated,
              version: version!,
            },
    };
  }
}
