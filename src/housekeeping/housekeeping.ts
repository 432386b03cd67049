import { sql } from 'kysely';
import type { Logger } from 'pino';
import { deleteAuditEventsBefore } from '../audit/audit-log.js';
import { deleteOldCredentialEvents } from '../auth/credential-events.js';
import type { Db, Executor } from '../db/executor.js';
import { deleteExpiredCounters } from '../limits/rate-limiter.js';
import { deleteExpiredRefreshTokens } from '../oauth/refresh-token-repository.js';
import type { Clock } from '../shared/clock.js';
import { deleteFinishedSmsBefore } from '../sms/outbox-repository.js';
import { deleteCodesExpiredBefore } from '../verification/verification-repository.js';

export interface HousekeepingSettings {
  auditRetentionDays: number;
  /** Between two runs; the first run starts with the server. */
  intervalMs?: number;
  /** Rows per delete statement. */
  batchSize?: number;
  /** Statements per kind of row and run: a larger backlog is worked off over the next runs. */
  maxBatchesPerTask?: number;
}

export interface HousekeepingDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  settings: HousekeepingSettings;
}

export const HOUSEKEEPING_TASKS = [
  'rateLimitCounters',
  'verificationCodes',
  'smsDeliveries',
  'refreshTokens',
  'auditEvents',
  'credentialEvents',
] as const;
export type HousekeepingTask = (typeof HOUSEKEEPING_TASKS)[number];

export interface HousekeepingReport {
  /** False when another instance held the lock: it does the work. */
  ran: boolean;
  deleted: Record<HousekeepingTask, number>;
}

export interface Housekeeping {
  start(): void;
  /** Stops the timer and waits for the run in flight (it stops after its current statement). */
  stop(): Promise<void>;
  runOnce(): Promise<HousekeepingReport>;
}

const DAY_MS = 86_400_000;
/** An expired code still answers "expired" (not "invalid") for a day, then it goes. */
const EXPIRED_CODE_GRACE_MS = DAY_MS;
/** Delivery records (never their text) stay visible in /api/server/v1/sms-deliveries this long. */
export const DELIVERY_RETENTION_DAYS = 7;
const DEFAULTS = { intervalMs: 10 * 60 * 1000, batchSize: 1000, maxBatchesPerTask: 50 };
// One key for every instance: whoever holds it cleans up, the others skip the run.
const LOCK_KEY = sql`hashtext('scim-mobile-verify:housekeeping')`;

/**
 * Deletes what nothing needs any more, on one instance at a time: each batch is its own short transaction
 * that first takes a transaction-level advisory lock (pg_try_advisory_xact_lock), so requests are never
 * blocked behind a long delete and a crashed instance leaves no lock behind.
 */
export function createHousekeeping(deps: HousekeepingDeps): Housekeeping {
  const { db, clock, settings } = deps;
  const intervalMs = settings.intervalMs ?? DEFAULTS.intervalMs;
  const batchSize = settings.batchSize ?? DEFAULTS.batchSize;
  const maxBatches = settings.maxBatchesPerTask ?? DEFAULTS.maxBatchesPerTask;
  const log = deps.logger.child({ component: 'housekeeping' });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;

  const deleters: Record<HousekeepingTask, (trx: Executor, now: Date) => Promise<number>> = {
    rateLimitCounters: (trx, now) => deleteExpiredCounters(trx, now, batchSize),
    verificationCodes: (trx, now) =>
      deleteCodesExpiredBefore(trx, new Date(now.getTime() - EXPIRED_CODE_GRACE_MS), batchSize),
    smsDeliveries: (trx, now) =>
      deleteFinishedSmsBefore(trx, new Date(now.getTime() - DELIVERY_RETENTION_DAYS * DAY_MS), batchSize),
    refreshTokens: (trx, now) => deleteExpiredRefreshTokens(trx, now, batchSize),
    auditEvents: (trx, now) =>
      deleteAuditEventsBefore(trx, new Date(now.getTime() - settings.auditRetentionDays * DAY_MS), batchSize),
    credentialEvents: (trx) => deleteOldCredentialEvents(trx, batchSize),
  };

  /** One batch under the lock; undefined when another instance holds it. */
  async function deleteOneBatch(task: HousekeepingTask): Promise<number | undefined> {
    return db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${LOCK_KEY}) as locked`.execute(
        trx,
      );
      if (rows[0]?.locked !== true) return undefined;
      return deleters[task](trx, clock.now());
    });
  }

  async function runOnce(): Promise<HousekeepingReport> {
    const deleted = Object.fromEntries(HOUSEKEEPING_TASKS.map((task) => [task, 0])) as Record<HousekeepingTask, number>;
    for (const task of HOUSEKEEPING_TASKS) {
      for (let batch = 0; batch < maxBatches && !stopped; batch++) {
        const count = await deleteOneBatch(task);
        if (count === undefined) return { ran: false, deleted };
        deleted[task] += count;
        if (count < batchSize) break;
      }
    }
    return { ran: true, deleted };
  }

  async function runLogged(): Promise<void> {
    try {
      const report = await runOnce();
      const total = Object.values(report.deleted).reduce((sum, count) => sum + count, 0);
      if (!report.ran) log.debug('housekeeping skipped: another instance holds the lock');
      else if (total > 0) log.info({ deleted: report.deleted }, 'housekeeping deleted expired rows');
    } catch (error) {
      log.warn(
        { errorName: error instanceof Error ? error.name : typeof error, reason: errorMessage(error) },
        'housekeeping run failed; retried at the next interval',
      );
    }
  }

  function tick(): void {
    if (stopped || running !== undefined) return;
    running = runLogged().finally(() => {
      running = undefined;
    });
  }

  return {
    start() {
      if (timer !== undefined || stopped) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    runOnce,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 300) : 'unknown error';
}
