/**
 * ULIDs (26 characters, Crockford base32: 48-bit milliseconds + 80 random bits), as seed 001
 * used for host ids, event ids and event versions. Monotonic within a millisecond (the
 * random part is incremented), so the ids of an import sort in creation order and go into
 * the indexes at their right edge instead of at random places (a 100k-line import inserts
 * 300k of them). Random bytes come from a pooled buffer.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL = Buffer.alloc(16 * 1024);
let poolOffset = POOL.length;

let lastTime = -1;
let lastHead = '';
let lastTail = '';
const digits = new Uint8Array(16);

/** A new ULID for `time` (default: now); later calls in the same millisecond sort after earlier ones. */
export function ulid(time: number = Date.now()): string {
  if (time !== lastTime) {
    lastTime = time;
    lastHead = encodeTime(time);
    if (poolOffset + 16 > POOL.length) {
      randomFillSync(POOL);
      poolOffset = 0;
    }
    // 5 random bits per digit (256 is a multiple of 32: uniform); the top bit of the first
    // digit is kept clear, so increments within a millisecond cannot overflow in practice.
    for (let i = 0; i < 16; i++) digits[i] = POOL[poolOffset + i]! & 31;
    digits[0]! &= 15;
    poolOffset += 16;
    lastTail = '';
    for (let i = 0; i < 16; i++) lastTail += ALPHABET[digits[i]!]!;
  } else {
    let i = 15;
    while (i >= 0 && digits[i] === 31) digits[i--] = 0;
    if (i >= 0) digits[i]! += 1;
    // Usually only the last digit changed: rebuild the tail from the first changed one.
    let changed = lastTail.slice(0, Math.max(0, i));
    for (let j = Math.max(0, i); j < 16; j++) changed += ALPHABET[digits[j]!]!;
    lastTail = changed;
  }
  return lastHead + lastTail;
}

function encodeTime(time: number): string {
  let head = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    head = ALPHABET[t % 32]! + head;
    t = Math.floor(t / 32);
  }
  return head;
}
