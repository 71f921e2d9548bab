/**
 * Parsing of connection URLs the way libpq reads them: scheme, user-info, host, port, and
 * query parameters (percent-decoding only). Problems are collected, never thrown.
 */
import { redactUrl } from '../util/redact.js';

/** Parses a connection URL; a problem (not a URL, bad scheme or port) is added to `problems`. */
export function parseUrl(text: string, from: string, problems: string[]): URL | undefined {
  // The text is never echoed as is: a URL that does not parse may still hold a password.
  const notAUrl = () =>
    problems.push(`${from} is not a URL: '${redactUrl(text)}' (expected postgres://user@host:port/database)`);
  let parsed: URL;
  try {
    parsed = new URL(withPlaceholderHost(text));
  } catch {
    // scheme://[userinfo@]host:PORT[/?#...]; skipped when an @ follows, which means the
    // "port" is really part of a password holding a / ? or #.
    const portMatch = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#@[\]]*):([^/?#@]*)(?=[/?#]|$)/i.exec(
      text,
    );
    if (portMatch?.[1] && !text.slice(portMatch[0].length).includes('@')) {
      parsePort(portMatch[1], from, problems);
      if (/^\d+$/.test(portMatch[1]) && Number(portMatch[1]) <= 65535) notAUrl();
    } else {
      notAUrl();
    }
    return undefined;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.push(
      `${from}: unsupported scheme '${parsed.protocol.replace(/:$/, '')}' (use postgres:// or postgresql://)`,
    );
    return undefined;
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    // postgres:host/db parses as a URL with no host at all
    notAUrl();
    return undefined;
  }
  return parsed;
}

/**
 * libpq accepts an empty host after user-info or before a port (`postgres://u:pw@/db?host=/sock`,
 * `postgres://:5433/db`); the WHATWG parser does not, so a placeholder stands in for it.
 */
export const NO_HOST = 'pgstore-no-host.invalid';
export function withPlaceholderHost(text: string): string {
  return text.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)((?:[^@/?#]*@)?)(?=:|\/|\?|#|$)/i,
    (whole, scheme: string, userinfo: string) =>
      userinfo || text.slice(whole.length).startsWith(':') ? `${scheme}${userinfo}${NO_HOST}` : whole,
  );
}

/**
 * Query parameters the way libpq reads them: percent-decoding only (a `+` stays a plus,
 * unlike URLSearchParams, which would turn `password=a+b` into `a b`).
 */
export function parseQuery(search: string, from: string, problems: string[]): Record<string, string> {
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    let key: string;
    try {
      key = decodeURIComponent(rawKey);
    } catch {
      problems.push(`${from}: malformed percent-encoding in a query parameter name`);
      continue;
    }
    try {
      query[key] = decodeURIComponent(rawValue);
    } catch {
      problems.push(`${from}: malformed percent-encoding in the value of query parameter '${key}'`);
    }
  }
  return query;
}

export function parsePort(value: string | undefined, from: string, problems: string[]): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    problems.push(`${from}: port '${value}' is not a number (expected 1-65535)`);
    return undefined;
  }
  const port = Number(value);
  if (port < 1 || port > 65535) {
    problems.push(`${from}: port ${value} is out of range (1-65535)`);
    return undefined;
  }
  return port;
}
