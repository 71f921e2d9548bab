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

/** The forms a secret can take once written into a URL or a query string. */
function encodedForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const component = encodeURIComponent(secret);
  forms.add(component);
  forms.add(component.replace(/%20/g, '+')); // form encoding (URLSearchParams)
  forms.add(component.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()));
  try {
    // What URL#toString writes in the userinfo (a smaller set than encodeURIComponent).
    const url = new URL('postgres://u@h');
    url.password = secret;
    forms.add(url.password);
  } catch {
    // not representable: the other forms cover it
  }
  return [...forms].filter((form) => form.length > 0);
}

/** Masks passwords in URLs, key=value connection strings, and every registered secret. */
export function redact(text: string): string {
  let out = text
    // scheme://user:password@host  →  scheme://user:***@host (the password runs to the last @ of
    // the word: an unencoded @ in a password must not leave its tail visible)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):(\S*)@/gi, `$1:${MASK}@`)
    // password=... in libpq keyword strings, query parameters, env assignments (DB_PASSWORD=) and JSON;
    // not a path's last part (`/etc/passwd: is a file`, `$PGSTORE_HOME/password: permission denied`)
    .replace(
      /(?<![a-z0-9/\\])((?:[a-z0-9]+_)*(?:password|passwd|pass|pgpassword)["']?)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,'"}]+)/gi,
      (_match, key: string, sep: string, value: string) => {
        const quote = value.startsWith("'") || value.startsWith('"') ? value[0] : '';
        return `${key}${sep}${quote}${MASK}${quote}`;
      },
    );
  // Longest first, so that a secret containing another is masked whole.
  const forms = [...secrets].flatMap(encodedForms).sort((a, b) => b.length - a.length);
  for (const form of forms) {
    if (out.includes(form)) out = out.split(form).join(MASK);
  }
  return out;
}

/**
 * Text that should be a URL but may not parse: the user-info (everything between the first
 * colon after the scheme and the last @) is masked, since a password may hold any character.
 */
function maskUserinfo(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0].length ?? 0;
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon > at) return text;
  return `${text.slice(0, colon)}:${MASK}${text.slice(at)}`;
}

/** A URL with its password replaced, for showing the target of an operation. */
export function redactUrl(url: string): string {
  // `postgres:u:pw@h` parses, as an opaque path with no password in it: mask it by hand.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return redact(maskUserinfo(url));
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    for (const key of [...parsed.searchParams.keys()]) {
      if (/^pass(word)?$/i.test(key)) parsed.searchParams.set(key, MASK);
    }
    return redact(parsed.toString());
  } catch {
    return redact(maskUserinfo(url));
  }
}
