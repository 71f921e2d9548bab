/**
 * A private certificate authority and a server certificate it signed, made with openssl in a
 * folder of their own (EC P-256 keys: cheap to make), for a test server with ssl = on.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The CA's certificate (PEM): what a client trusts. */
  caFile: string;
  /** The server's certificate and key, for ssl_cert_file and ssl_key_file. */
  certFile: string;
  keyFile: string;
  /** postgresql.conf lines that turn TLS on with them. */
  settings: string[];
}

/**
 * Makes the CA and a server certificate for `names` (subjectAltName entries, e.g.
 * `IP:127.0.0.1`, `DNS:localhost`). `account`: the server's account when running as root (the
 * key must be its own, mode 0600, or PostgreSQL refuses it).
 */
export function makeTestCertificates(names: string[], account?: { uid: number; gid: number }): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-tls-'));
  chmodSync(dir, 0o711);
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pgstore test CA');
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=pgstore test server');
  writeFileSync(
    path('server.ext'),
    `subjectAltName = ${names.join(', ')}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  chmodSync(path('server.key'), 0o600);
  chmodSync(path('server.crt'), 0o644);
  if (account) chownSync(path('server.key'), account.uid, account.gid);
  return {
    dir,
    caFile: path('ca.crt'),
    certFile: path('server.crt'),
    keyFile: path('server.key'),
    settings: ['ssl = on', `ssl_cert_file = '${path('server.crt')}'`, `ssl_key_file = '${path('server.key')}'`],
  };
}
