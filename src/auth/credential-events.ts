import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/create-db.js';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Db, Executor, Trx } from '../db/executor.js';

/**
 * Credential revocations, told to every instance so their authentication caches forget what died.
 *
 * A transaction that takes a credential away (password change or reset, disable, demotion, rename,
 * lock, deletion, client secret rotation or deletion, a revoked login or access token) ends with one
 * statement that bumps the single `credential_epoch` row and logs the epoch and its targets in
 * `credential_events`, then NOTIFYs. The row lock makes events commit in epoch order, so a reader that
 * has seen epoch n has seen every epoch before it. Each instance polls `epoch > last seen` every half
 * of AUTH_REVOCATION_MAX_DELAY_MS and at once on a NOTIFY; its caches answer only while its last
 * successful poll started less than AUTH_REVOCATION_MAX_DELAY_MS ago. A revocation committed at t is
 * therefore never served from a cache after t + AUTH_REVOCATION_MAX_DELAY_MS, even with notifications
 * lost or the database unreachable (then the caches stand aside and requests go to the database).
 * The instance that committed the change forgets its targets at once, before it answers.
 */

/** What a revocation names: a user's account, an OAuth client, one login (grant), one access token (jti). */
export type RevocationTarget = { kind: 'user' | 'client' | 'grant' | 'token'; id: string };

export const CREDENTIAL_EVENTS_CHANNEL = 'credential_events';

export function targetTag(target: RevocationTarget): string {
  return `${target.kind}:${target.id}`;
}

/** The last statement of the revoking transaction: one epoch, its targets, a NOTIFY (sent at commit). */
export async function recordRevocation(trx: Executor, targets: readonly RevocationTarget[]): Promise<void> {
  if (targets.length === 0) return;
  const tags = [...new Set(targets.map(targetTag))].join(' ');
  await sql`
    with bumped as (update credential_epoch set epoch = epoch + 1 where id = 1 returning epoch),
      logged as (insert into credential_events (epoch, targets) select epoch, ${tags} from bumped returning epoch)
    select pg_notify(${CREDENTIAL_EVENTS_CHANNEL}, epoch::text) from logged`.execute(trx);
}

export type Revoke = (...targets: RevocationTarget[]) => void;

export interface Revocations {
  /**
   * Runs `work` in one transaction. What it revokes (through `revoke`) is recorded as the transaction's
   * last statement, and once it has committed this instance's caches forget it before `transaction` returns.
   */
  transaction<T>(db: Db, work: (trx: Trx, revoke: Revoke) => Promise<T>): Promise<T>;
}

/** `forget` drops the targets from this instance's caches (nothing, in a process without caches). */
export function createRevocations(forget: (tags: readonly string[]) => void = () => undefined): Revocations {
  return {
    async transaction(db, work) {
      const targets: RevocationTarget[] = [];
      const result = await db.transaction().execute(async (trx) => {
        const value = await work(trx, (...more) => void targets.push(...more));
        await recordRevocation(trx, targets);
        return value;
      });
      if (targets.length > 0) forget(targets.map(targetTag));
      return result;
    },
  };
}

export interface CredentialEventFeedDeps {
  db: Db;
  listen: DatabaseHandle['listen'];
  logger: Logger;
  /** The documented bound (AUTH_REVOCATION_MAX_DELAY_MS); polls run every half of it. */
  maxDelayMs: number;
  /** Targets revoked on some instance (this one included). */
  onRevoked(tags: readonly string[]): void;
  /** Events may have been missed (the feed was not current): forget everything. */
  onReset(): void;
}

export interface CredentialEventFeed {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Whether a poll that started within the bound succeeded: caches may answer only then. */
  isCurrent(): boolean;
}

const PAGE = 1000;

export function createCredentialEventFeed(deps: CredentialEventFeedDeps): CredentialEventFeed {
  const { db, maxDelayMs } = deps;
  const log = deps.logger.child({ component: 'credential-events' });
  let cursor: number | undefined;
  /** performance.now() at the start of the last successful poll. */
  let currentAsOf: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopListening: (() => Promise<void>) | undefined;
  let inFlight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  let failing = false;
  let stopped = false;

  async function pollOnce(): Promise<void> {
    const startedAt = performance.now();
    if (cursor === undefined) {
      const { rows } = await sql<{ epoch: string }>`select epoch::text as epoch from credential_epoch`.execute(db);
      cursor = Number(rows[0]?.epoch ?? 0);
    }
    const wasCurrent = currentAsOf !== undefined && startedAt - currentAsOf <= maxDelayMs;
    // Events older than the retention may be gone: whatever was cached before a gap is dropped.
    if (!wasCurrent) deps.onReset();
    for (;;) {
      const { rows } = await sql<{ epoch: string; targets: string }>`
        select epoch::text as epoch, targets from credential_events
        where epoch > ${cursor} order by epoch limit ${PAGE}`.execute(db);
      for (const row of rows) {
        deps.onRevoked(row.targets.split(' '));
        cursor = Number(row.epoch);
      }
      if (rows.length < PAGE) break;
    }
    currentAsOf = startedAt;
  }

  async function runLogged(): Promise<void> {
    try {
      await pollOnce();
      if (failing) log.info('credential events readable again; authentication caches in use');
      failing = false;
    } catch (error) {
      if (!failing) {
        log.warn(
          { reason: error instanceof Error ? error.message.slice(0, 300) : 'unknown error' },
          'credential events unreadable; authentication caches stand aside until they are',
        );
      }
      failing = true;
    }
  }

  /** Polls now, or right after the poll in flight (which may have started before what woke us). */
  function poll(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (inFlight === undefined) {
      inFlight = runLogged().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    }
    queued ??= inFlight.then(() => {
      queued = undefined;
      return poll();
    });
    return queued;
  }

  return {
    async start() {
      if (timer !== undefined || stopped) return;
      timer = setInterval(() => void poll(), Math.max(1, Math.floor(maxDelayMs / 2)));
      timer.unref();
      stopListening = await deps.listen?.(CREDENTIAL_EVENTS_CHANNEL, () => void poll());
      await poll();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await stopListening?.();
      await queued;
      await inFlight;
    },
    isCurrent() {
      return currentAsOf !== undefined && performance.now() - currentAsOf <= maxDelayMs;
    },
  };
}

/** Events outlive the bound by far; housekeeping deletes older ones (by the database's clock), `limit` at a time. */
const RETENTION_SECONDS = 600;

export async function deleteOldCredentialEvents(db: Executor, limit: number): Promise<number> {
  return deleteBatch(
    db,
    'credential_events',
    sql`created_at < now() - make_interval(secs => ${RETENTION_SECONDS})`,
    limit,
  );
}
