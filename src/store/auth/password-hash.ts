/**
 * Password hashing with scrypt from node:crypto, stored as a PHC string:
 *   $scrypt$ln=17,r=8,p=1$<salt, base64 without padding>$<hash, base64 without padding>
 *
 * Why node:crypto's scrypt and not argon2id: scrypt is memory-hard, OWASP-recommended at
 * N=2^17, r=8, p=1, and ships with Node (OpenSSL), so there is no native addon to build or
 * prebuilt binary to trust and keep patched. The PHC string carries the algorithm and its
 * parameters, so stronger parameters (or another algorithm) can be rolled out with
 * rehash-on-sign-in: `needsRehash` tells when a stored hash is below the current parameters.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { PgstoreError, ValidationError } from '../../errors.js';

/** scrypt cost parameters: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/** The current parameters (OWASP password storage cheat sheet: N=2^17, r=8, p=1; 128 MiB). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ ln: 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Longest password accepted (bytes of UTF-8); longer input is a mistake or an attack. */
export const MAX_PASSWORD_BYTES = 4096;

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/;

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** Derives a key from a password: scrypt by default; tests pass a wrapper that counts the work. */
export type DeriveKey = (password: string, salt: Buffer, keyLength: number, params: ScryptParams) => Promise<Buffer>;

/** scrypt over the NFC-normalized password with the given cost parameters. */
export function scrypt(password: string, salt: Buffer, keyLength: number, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  // Node refuses when 128 * N * r exceeds maxmem (32 MiB by default); allow what the parameters need.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Rejects parameters outside a safe range (a tampered hash must not cost gigabytes). */
function checkParams(params: ScryptParams): void {
  const ok = params.ln >= 10 && params.ln <= 22 && params.r >= 1 && params.r <= 32 && params.p >= 1 && params.p <= 16;
  if (!ok)
    throw new PgstoreError(`scrypt parameters out of range (ln=${params.ln}, r=${params.r}, p=${params.p})`, {
      hint: 'Use 10 <= ln <= 22, 1 <= r <= 32, 1 <= p <= 16.',
    });
}

/** Rejects what cannot be a password (empty, not a string, too long). */
export function checkPassword(password: unknown): asserts password is string {
  if (typeof password !== 'string' || password.length === 0) {
    throw new ValidationError('password: must be a non-empty string', { field: 'password' });
  }
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new ValidationError(`password: longer than ${MAX_PASSWORD_BYTES} bytes`, { field: 'password' });
  }
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

/** Hashes a password into a PHC string with a fresh random salt. */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
  derive: DeriveKey = scrypt,
): Promise<string> {
  checkPassword(password);
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

/** The algorithm id of a PHC string ("scrypt", "argon2id", ...), or null when it is not one. */
export function phcAlgorithm(phc: string): string | null {
  return /^\$([a-z0-9-]{1,32})\$/.exec(phc)?.[1] ?? null;
}

function parse(phc: string): ParsedHash | null {
  const match = PHC.exec(phc);
  if (!match) return null;
  const [, ln, r, p, salt, hash] = match;
  return {
    params: { ln: Number(ln), r: Number(r), p: Number(p) },
    salt: Buffer.from(salt!, 'base64'),
    hash: Buffer.from(hash!, 'base64'),
  };
}

/**
 * Checks a password against a PHC string in constant time (crypto.timingSafeEqual over the
 * derived keys). A hash this module cannot verify (another algorithm) is an error, not a
 * silent false.
 */
export async function verifyPasswordHash(password: string, phc: string, derive: DeriveKey = scrypt): Promise<boolean> {
  const parsed = parse(phc);
  if (!parsed) {
    throw new PgstoreError(`cannot verify a password hash of algorithm '${phcAlgorithm(phc) ?? 'unknown'}'`, {
      hint: 'pgstore verifies $scrypt$ PHC hashes; reset this password with setPassword.',
    });
  }
  checkParams(parsed.params);
  if (
    typeof password !== 'string' ||
    password.length === 0 ||
    Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES
  ) {
    await dummyVerify('-', parsed.params, derive);
    return false;
  }
  const key = await derive(password, parsed.salt, parsed.hash.length, parsed.params);
  return key.length === parsed.hash.length && timingSafeEqual(key, parsed.hash);
}

/** True when a stored hash was made with other parameters (or another algorithm) than `params`. */
export function needsRehash(phc: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): boolean {
  const parsed = parse(phc);
  if (!parsed) return true;
  const { ln, r, p } = parsed.params;
  return (
    ln !== params.ln ||
    r !== params.r ||
    p !== params.p ||
    parsed.salt.length < SALT_BYTES ||
    parsed.hash.length !== KEY_BYTES
  );
}

const DUMMY_SALT = randomBytes(SALT_BYTES);
const DUMMY_KEY = randomBytes(KEY_BYTES);

/**
 * Spends the same work as a real verification and returns false: used when there is no
 * password to check, so response time does not reveal whether an account has one.
 */
export async function dummyVerify(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
  derive: DeriveKey = scrypt,
): Promise<false> {
  const input = typeof password === 'string' && password.length > 0 ? password.slice(0, MAX_PASSWORD_BYTES) : '-';
  const key = await derive(input, DUMMY_SALT, KEY_BYTES, params);
  timingSafeEqual(key, DUMMY_KEY);
  return false;
}
