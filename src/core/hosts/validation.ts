/**
 * What the pgstore commands and imports accept as a host entry (pure; no I/O). The library's
 * stores do not apply these rules: they store what a caller gives them (Unicode hostnames
 * included), so other tools keep their own rules; the commands write hosts files, so they
 * hold entries to what resolvers read: IPv4/IPv6 addresses and RFC 1123 names.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/** One problem with one field of an entry (and the input line, when it came from a file). */
export interface FieldProblem {
  field: string;
  message: string;
  line?: number;
}

/** An entry as given to add/import, before it is stored. */
export interface HostInput {
  ipAddress: string;
  hostname: string;
  aliases: string[];
  comment: string | null;
  tags: string[];
}

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A whole valid hostname (the length checked apart): LABEL, dot-separated. */
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
// Control characters and line/paragraph separators: they would break a hosts file line.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const TAG_FORBIDDEN = /[\s,[\]#"]/u;
export const MAX_COMMENT_LENGTH = 10_000;
export const MAX_TAG_LENGTH = 100;
export const MAX_TAGS = 100;

/** True for an IPv4 address (dotted quad, no leading zeros) or an IPv6 address. */
export function isIpAddress(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

/** Why `value` is not a valid IP address, or null. */
export function ipProblem(value: string, field = 'ip'): FieldProblem | null {
  if (value === '') return { field, message: `${field} is required` };
  return isIpAddress(value) ? null : { field, message: `${field} '${value}' is not an IPv4 or IPv6 address` };
}

/**
 * Why `value` is not a valid hostname, or null: 1–253 characters, dot-separated labels of
 * 1–63 letters, digits and hyphens, not starting or ending with a hyphen.
 */
export function hostnameProblem(value: string, field = 'hostname'): FieldProblem | null {
  // Fast path (an import checks 200k names): a valid name in one test, no labels split.
  if (value.length <= 253 && HOSTNAME.test(value)) return null;
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  if (value === '') return { field, message: `${field} is required` };
  if (value.length > 253) return { field, message: `${field} '${shown}' is longer than 253 characters` };
  for (const label of value.split('.')) {
    if (label === '') return { field, message: `${field} '${shown}' has an empty label` };
    if (label.length > 63) return { field, message: `${field} '${shown}' has a label longer than 63 characters` };
    if (!LABEL.test(label)) {
      // eslint-disable-next-line no-control-regex
      if (/[^\x00-\x7f]/.test(label)) {
        const ascii = domainToASCII(value);
        return {
          field,
          message: `${field} '${shown}' is not ASCII${ascii ? `; use its punycode form '${ascii}'` : ''}`,
        };
      }
      return {
        field,
        message: `${field} '${shown}': labels are letters, digits and hyphens, not starting or ending with a hyphen`,
      };
    }
  }
  return null;
}

/** Why a comment cannot be stored by the commands (control characters, length), or null. */
export function commentProblem(value: string | null): FieldProblem | null {
  if (value === null) return null;
  if (value.length > MAX_COMMENT_LENGTH)
    return { field: 'comment', message: `comment is longer than ${MAX_COMMENT_LENGTH} characters` };
  if (CONTROL.test(value)) return { field: 'comment', message: 'comment contains a line break or control character' };
  return null;
}

/** Why a tag cannot be used (empty, too long, whitespace or one of , [ ] # "), or null. */
export function tagProblem(value: string): FieldProblem | null {
  if (value === '') return { field: 'tag', message: 'tag is empty' };
  if (value.length > MAX_TAG_LENGTH)
    return { field: 'tag', message: `tag '${value.slice(0, 20)}...' is longer than ${MAX_TAG_LENGTH} characters` };
  if (TAG_FORBIDDEN.test(value) || CONTROL.test(value)) {
    return { field: 'tag', message: `tag '${value}' contains whitespace or one of , [ ] # "` };
  }
  return null;
}

/** Every problem with an entry (empty when it is valid). */
export function validateHost(input: HostInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (p: FieldProblem | null) => p && problems.push(p);
  add(ipProblem(input.ipAddress));
  add(hostnameProblem(input.hostname));
  for (const alias of input.aliases) add(hostnameProblem(alias, 'alias'));
  add(commentProblem(input.comment));
  if (input.tags.length > MAX_TAGS) problems.push({ field: 'tag', message: `more than ${MAX_TAGS} tags` });
  for (const tag of input.tags) add(tagProblem(tag));
  return problems;
}

/** A list without repeats, in first-seen order. */
export function unique(values: string[]): string[] {
  if (values.length < 2) return values.slice();
  if (values.length === 2) return values[0] === values[1] ? [values[0]!] : values.slice();
  return [...new Set(values)];
}
