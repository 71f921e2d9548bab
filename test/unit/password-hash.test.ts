/** scrypt PHC strings: format, verification, rehash detection, parameter bounds. */
import { describe, expect, it } from 'vitest';
import { PgstoreError, ValidationError } from '../../src/errors.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  phcAlgorithm,
  verifyPasswordHash,
} from '../../src/store/auth/password-hash.js';

const fast = { ln: 10, r: 8, p: 1 };

describe('password-hash', () => {
  it('makes a PHC string that verifies the password and nothing else', async () => {
    const phc = await hashPassword('pässwörd', fast);
    expect(phc).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(phcAlgorithm(phc)).toBe('scrypt');
    expect(await verifyPasswordHash('pässwörd', phc)).toBe(true);
    expect(await verifyPasswordHash('pässwörd'.normalize('NFD'), phc)).toBe(true); // Unicode-normalized
    expect(await verifyPasswordHash('passwörd', phc)).toBe(false);
    expect(await verifyPasswordHash('', phc)).toBe(false);
  });

  it('needsRehash when the parameters differ from the current ones', async () => {
    const phc = await hashPassword('x', fast);
    expect(needsRehash(phc, fast)).toBe(false);
    expect(needsRehash(phc, DEFAULT_SCRYPT_PARAMS)).toBe(true);
    expect(needsRehash(phc, { ...fast, r: 16 })).toBe(true);
    expect(needsRehash('$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
  });

  it('refuses empty passwords, absurd parameters and foreign hashes', async () => {
    await expect(hashPassword('', fast)).rejects.toBeInstanceOf(ValidationError);
    await expect(hashPassword('x'.repeat(5000), fast)).rejects.toBeInstanceOf(ValidationError);
    await expect(hashPassword('x', { ln: 30, r: 8, p: 1 })).rejects.toBeInstanceOf(PgstoreError);
    await expect(
      verifyPasswordHash(
        'x',
        '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
      ),
    ).rejects.toBeInstanceOf(PgstoreError);
    await expect(verifyPasswordHash('x', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA')).rejects.toBeInstanceOf(
      PgstoreError,
    );
  });
});
