/**
 * The tests' servers store their superuser's password as a SCRAM-SHA-256 verifier with 1,000
 * PBKDF2 iterations instead of the server's 4096. SCRAM makes the client do the iterations at
 * every connection (~1.5 ms of CPU for postgres.js at 4096, also paid by psql, pg_dump and
 * dbmate), and a run opens ~2,000 connections. 1,000 is the fewest dbmate's driver takes (Go's
 * lib/pq refuses "i=999": "server sent an invalid SCRAM-SHA-256 iteration count"). The password and the protocol are unchanged: a wrong password
 * is still refused; pgstore's own servers keep the server's default (src/db/embedded.ts).
 * PostgreSQL stores a verifier given to ALTER ROLE ... PASSWORD (or initdb --pwfile) as it is
 * (RFC 7677, and the format of PostgreSQL's src/common/scram-common.c).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

const ITERATIONS = 1000;

export function cheapScramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, ITERATIONS, 32, 'sha256');
  const hmac = (text: string) => createHmac('sha256', salted).update(text).digest();
  const storedKey = createHash('sha256').update(hmac('Client Key')).digest();
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${hmac('Server Key').toString('base64')}`;
}
