import type { UserGroup } from './group.js';

interface Entry {
  epoch: string;
  groups: readonly UserGroup[];
}

export interface UserGroupsCacheLimits {
  /** Lists shorter than this are not kept: computing them costs about what checking the cache does. */
  minGroups: number;
  /** The most groups kept across all users (each costs about 200 bytes: its object, id and name). */
  maxGroups: number;
}

export const USER_GROUPS_CACHE_LIMITS: UserGroupsCacheLimits = { minGroups: 32, maxGroups: 100_000 };

/**
 * A user's groups (direct and nested) as last read, with the group epoch they were read under (migration
 * 2026-12-01T1600_group_epochs: the sum grows with every change to any group or membership). A read passes the
 * epoch it holds; the database compares it with the current sum in the same statement and computes the groups
 * only when they may have changed, so a hit is never stale, on any instance. Least recently used lists go first.
 */
export class UserGroupsCache {
  readonly #entries = new Map<string, Entry>();
  #groups = 0;

  constructor(private readonly limits: UserGroupsCacheLimits = USER_GROUPS_CACHE_LIMITS) {}

  /** The epoch of the user's kept list, to send with the read; undefined when none is kept. */
  epochOf(userId: string): string | undefined {
    return this.#entries.get(userId)?.epoch;
  }

  /** The kept list, if it was read under `epoch`. */
  groupsAt(userId: string, epoch: string): readonly UserGroup[] | undefined {
    const entry = this.#entries.get(userId);
    if (entry === undefined || entry.epoch !== epoch) return undefined;
    this.#entries.delete(userId);
    this.#entries.set(userId, entry);
    return entry.groups;
  }

  remember(userId: string, epoch: string, groups: readonly UserGroup[]): void {
    this.#forget(userId);
    if (groups.length < this.limits.minGroups || groups.length > this.limits.maxGroups) return;
    this.#entries.set(userId, { epoch, groups });
    this.#groups += groups.length;
    for (const [oldest] of this.#entries) {
      if (this.#groups <= this.limits.maxGroups) break;
      this.#forget(oldest);
    }
  }

  #forget(userId: string): void {
    const entry = this.#entries.get(userId);
    if (entry === undefined) return;
    this.#entries.delete(userId);
    this.#groups -= entry.groups.length;
  }
}
