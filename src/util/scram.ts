/**
 * SCRAM-SHA-256 password verifiers, computed on the client (as psql's \password does), so a
 * plain-text password never travels in a CREATE/ALTER ROLE statement that the server may log.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * The verifier PostgreSQL stores for `password`: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
 * NFKC normalisation stands in for SASLprep (identical for the ASCII passwords pgstore makes).
 */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
