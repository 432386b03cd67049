import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 64;

/**
 * scrypt runs on libuv's small thread pool, which DNS and file I/O share: a flood of guesses
 * must not occupy all of it. At most `limit` hashes run at once; the others wait. Waiting hashes are
 * queued per key (the client address of a login) and the queues are served in turn, so a flood from
 * one address delays a login from another by about one hash, not by the whole backlog.
 */
let limit = 2;
let running = 0;
/** Insertion order is the rotation: a key that was served moves to the back. */
const waiting = new Map<string, (() => void)[]>();
const SHARED_QUEUE = '';

export function limitPasswordHashing(concurrency: number): void {
  limit = Math.max(1, concurrency);
}

function nextInTurn(): (() => void) | undefined {
  const first = waiting.entries().next();
  if (first.done === true) return undefined;
  const [key, queue] = first.value;
  const next = queue.shift();
  waiting.delete(key);
  if (queue.length > 0) waiting.set(key, queue);
  return next;
}

async function withHashSlot<T>(queueKey: string, work: () => Promise<T>): Promise<T> {
  // A finishing hash hands its slot straight to the next in turn, so the limit is never overrun.
  if (running >= limit) {
    await new Promise<void>((resolve) => {
      const queue = waiting.get(queueKey);
      if (queue === undefined) waiting.set(queueKey, [resolve]);
      else queue.push(resolve);
    });
  } else running += 1;
  try {
    return await work();
  } finally {
    const next = nextInTurn();
    if (next === undefined) running -= 1;
    else next();
  }
}

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions, queueKey: string): Promise<Buffer> {
  return withHashSlot(queueKey, () => scryptOnce(password, salt, options));
}

function scryptOnce(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Format: scrypt$N$r$p$salt$hash (base64url), so parameters can be raised later. */
export async function hashPassword(password: string, queueKey = SHARED_QUEUE): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, PARAMS, queueKey);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** `queueKey`: whose turn this hash waits for (see withHashSlot), the client address of a login. */
export async function verifyPassword(password: string, stored: string, queueKey = SHARED_QUEUE): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64url');
  const options = { N: Number(n), r: Number(r), p: Number(p) };
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), options, queueKey);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
