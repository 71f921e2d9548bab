/**
 * Builders for the hosts store tests: envelopes with unique ids and the caller's timestamps.
 */
import { randomBytes } from 'node:crypto';
import type { EventEnvelope, HostEvent } from '../../src/store/hosts/types.js';

/** A unique id for aggregates, events and versions. */
export function uid(prefix = ''): string {
  return `${prefix}${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
}

/** An envelope for `event` on `aggregateId`, with a fresh event id and version. */
export function envelope(
  aggregateId: string,
  event: HostEvent,
  options: { at?: Date; version?: string; createdBy?: string } = {},
): EventEnvelope {
  return {
    eventId: uid('e-'),
    aggregateId,
    eventVersion: options.version ?? uid('v-'),
    createdAt: options.at ?? new Date(),
    createdBy: options.createdBy ?? null,
    event,
  };
}

export function hostCreated(
  ipAddress: string,
  hostname: string,
  extra: { aliases?: string[]; comment?: string | null; tags?: string[]; at?: Date } = {},
): HostEvent {
  return {
    type: 'HostCreated',
    ipAddress,
    hostname,
    aliases: extra.aliases ?? [],
    comment: extra.comment ?? null,
    tags: extra.tags ?? [],
    createdAt: extra.at ?? new Date(),
  };
}

export function commentUpdated(newComment: string | null, oldComment: string | null = null): HostEvent {
  return { type: 'CommentUpdated', oldComment, newComment, updatedAt: new Date() };
}

export function hostDeleted(ipAddress: string, hostname: string, reason?: string): HostEvent {
  return { type: 'HostDeleted', ipAddress, hostname, deletedAt: new Date(), reason: reason ?? null };
}
