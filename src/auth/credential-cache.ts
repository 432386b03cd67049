import { createHmac, randomBytes } from 'node:crypto';

interface Entry {
  passwordHash: string;
  expiresAt: number;
}

/**
 * Remembers recently verified Basic credentials so each request does not pay for scrypt.
 * Keys are an HMAC of the credentials under a per-process key (nothing reversible is kept);
 * an entry only counts while the stored password hash is unchanged, so a password change
 * invalidates it at once.
 */
export class CredentialCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  private keyFor(userName: string, password: string): string {
    return createHmac('sha256', this.key).update(userName.toLowerCase()).update('\0').update(password).digest('hex');
  }

  isVerified(userName: string, password: string, currentHash: string, now: number): boolean {
    const entry = this.entries.get(this.keyFor(userName, password));
    return entry !== undefined && entry.expiresAt > now && entry.passwordHash === currentHash;
  }

  remember(userName: string, password: string, passwordHash: string, now: number): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(this.keyFor(userName, password), { passwordHash, expiresAt: now + this.ttlMs });
  }
}
