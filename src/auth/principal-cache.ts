import { createHmac, randomBytes } from 'node:crypto';
import type { Principal } from './principal.js';

export interface PrincipalCacheSettings {
  /** Most entries kept; the least recently used go first. 0 with ttlMs 0: no caching at all. */
  maxEntries: number;
  /** Longest an entry is kept (AUTH_CACHE_TTL_SECONDS); 0 disables the cache. */
  ttlMs: number;
  /** The application clock (ms), for entry and token expiry. */
  now: () => number;
  /** False while revocations from other instances may be unseen (src/auth/credential-events.ts). */
  isCurrent: () => boolean;
}

interface Entry {
  principal: Principal;
  expiresAt: number;
  tags: readonly string[];
}

/**
 * Who a credential (a Basic user name and password, a bearer token) resolved to, so a request with a
 * credential seen moments ago costs no query, no scrypt and no signature check. Keys are an HMAC of the
 * credential under a per-process key (nothing reversible is kept). Each entry carries tags
 * (`user:<id>`, `client:<id>`, `grant:<id>`, `token:<jti>`); a revocation naming a tag drops the entries.
 *
 * A lookup that began before a revocation was applied must not store what it read: `ticket()` is taken
 * before reading, and `put` refuses when any revocation was applied since.
 */
export class PrincipalCache {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private generation = 0;

  constructor(private readonly settings: PrincipalCacheSettings) {}

  get enabled(): boolean {
    return this.settings.ttlMs > 0 && this.settings.maxEntries > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cache key of a credential given as its parts (scheme first). */
  keyOf(...parts: string[]): string {
    const hmac = createHmac('sha256', this.key);
    for (const part of parts) hmac.update(part).update('\0');
    return hmac.digest('base64url');
  }

  ticket(): number {
    return this.generation;
  }

  get(key: string): Principal | undefined {
    if (!this.enabled || !this.settings.isCurrent()) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.settings.now()) {
      this.delete(key);
      return undefined;
    }
    // Most recently used last: eviction takes from the front.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.principal;
  }

  /** Stores what a lookup that took `ticket` found, unless a revocation was applied meanwhile. */
  put(ticket: number, key: string, principal: Principal, tags: readonly string[], notAfter?: number): void {
    if (!this.enabled || ticket !== this.generation || !this.settings.isCurrent()) return;
    const now = this.settings.now();
    const expiresAt = Math.min(now + this.settings.ttlMs, notAfter ?? Number.POSITIVE_INFINITY);
    if (expiresAt <= now) return;
    this.delete(key);
    while (this.entries.size >= this.settings.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
    this.entries.set(key, { principal: Object.freeze(principal), expiresAt, tags });
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (keys === undefined) {
        keys = new Set();
        this.byTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  /** Drops every entry carrying one of `tags`; lookups in flight will not store what they read. */
  revoke(tags: readonly string[]): void {
    this.generation += 1;
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      for (const key of [...keys]) this.delete(key);
    }
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.byTag.clear();
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }
}
