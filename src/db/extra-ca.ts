/**
 * NODE_EXTRA_CA_CERTS for the connections that verify the server's certificate, loaded when one
 * is made instead of at every start.
 *
 * The launcher (bin/pgstore) starts Node without NODE_EXTRA_CA_CERTS (Node 20 parses that file at
 * start, ~60 ms of CPU for a 144-certificate bundle) and bin/pgstore.js puts the variable back
 * into process.env, noting the file in a global (read here). A connection with sslmode
 * verify-full or verify-ca then gets the store Node would have made at start: its bundled roots
 * (tls.rootCertificates) plus the file's certificates; the server name checks stay the driver's
 * (driver.ts). A file that cannot be read is ignored with a one-line warning, as Node does ("Warning: Ignoring extra certs from ..."). When Node was started with the
 * variable (node bin/pgstore.js, the library), there is nothing to do: Node's store has it.
 */
import type { SecureContext } from 'node:tls';

const DEFERRED = Symbol.for('pgstore.deferredExtraCaCerts');

/** The extra CA file Node was started without (the launcher kept it back), if any. */
export function deferredExtraCaFile(): string | undefined {
  const file = (globalThis as Record<symbol, unknown>)[DEFERRED];
  return typeof file === 'string' && file !== '' ? file : undefined;
}

let context: Promise<SecureContext | undefined> | undefined;

/**
 * The secure context for a connection that verifies the server: Node's bundled roots plus the
 * deferred extra CA file, made once. Undefined when there is no deferred file or it is ignored
 * (the driver's default context is then Node's store as it is).
 */
export function extraCaSecureContext(
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<SecureContext | undefined> {
  const file = deferredExtraCaFile();
  if (file === undefined) return Promise.resolve(undefined);
  context ??= load(file, warn);
  return context;
}

async function load(file: string, warn: (line: string) => void): Promise<SecureContext | undefined> {
  // Loaded here only: commands that verify no certificate load neither.
  const [{ readFileSync }, tls] = await Promise.all([import('node:fs'), import('node:tls')]);
  try {
    const pem = readFileSync(file, 'latin1');
    // What is not a certificate is skipped, as Node does (a file of none adds nothing).
    return tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
  } catch (error) {
    warn(`warning: ignoring extra certs from \`${file}\` (NODE_EXTRA_CA_CERTS), load failed: ${reason(error)}`);
    return undefined;
  }
}

function reason(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return String(message ?? error).split('\n')[0]!;
}
