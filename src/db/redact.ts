/**
 * The one redactor. Every message that can hold a connection string or a secret goes
 * through `redact` before it is printed or logged.
 */

const secrets = new Set<string>();

/** Remembers a secret (a resolved password, a generated key) so it is masked everywhere. */
export function registerSecret(secret: string | undefined | null): void {
  if (secret && secret.length >= 3) secrets.add(secret);
}

const MASK = '***';

/** Masks passwords in URLs, key=value connection strings, and every registered secret. */
export function redact(text: string): string {
  let out = text
    // scheme://user:password@host  →  scheme://user:***@host
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):([^@\s]*)@/gi, `$1:${MASK}@`)
    // password=... in libpq keyword strings or query parameters
    .replace(/\b(password|passwd|pass|pgpassword)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,]+)/gi, `$1$2${MASK}`);
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(MASK);
  }
  return out;
}

/** A URL with its password replaced, for showing the target of an operation. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/^pass(word)?$/i.test(key)) parsed.searchParams.set(key, MASK);
    }
    return redact(parsed.toString());
  } catch {
    return redact(url);
  }
}
