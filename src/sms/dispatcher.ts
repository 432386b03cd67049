import type { Logger } from 'pino';
import { recordAuditEvent, SYSTEM_CONTEXT } from '../audit/audit-log.js';
import type { SmsOutboxRow } from '../db/database.js';
import type { Db, Executor } from '../db/executor.js';
import type { Clock } from '../shared/clock.js';
import { maskPhoneNumber } from '../shared/mask.js';
import {
  claimDueSms,
  countSentSince,
  type DeliveryOutcome,
  type ExpiredSms,
  expireOverdueSms,
  failAbandonedSms,
  hasDueSms,
  recordDeliveryOutcome,
} from './outbox-repository.js';
import { SmsDeliveryError, type SmsProvider, type SmsSendResult } from './providers/sms-provider.js';
import { openSmsBody } from './sms-body.js';

export interface SmsDispatcherSettings {
  /** Attempts of a message without an expiry; one that carries a code is retried until the code expires. */
  maxAttempts: number;
  retryBaseMs: number;
  pollIntervalMs: number;
  sendTimeoutMs: number;
  /** Circuit breaker: above this many SMS in the last hour, sending pauses (codes are still queued). */
  globalPerHour: number;
}

export interface SmsDispatcherDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  resolveProvider: () => Promise<SmsProvider>;
  /** Opens the sealed texts (src/sms/sms-body.ts). */
  bodyKey: Buffer;
  settings: SmsDispatcherSettings;
  /** Messages claimed per statement; they are sent concurrently. */
  batchSize?: number;
}

/** What became of one delivery attempt, for metrics. `unrecorded`: sent or failed, but the outcome waits to be written. */
export type DispatchOutcomeKind = 'sent' | 'retry' | 'failed' | 'expired' | 'unrecorded';

export interface DispatchEvent {
  kind: DispatchOutcomeKind;
  provider: string | null;
}

export interface SmsDispatcher {
  /** Called for every outcome (also each message found expired); the metrics module counts them. */
  onOutcome(listener: (event: DispatchEvent) => void): void;
  /** Outcomes that could not be written yet (database unavailable); written before anything else is claimed. */
  readonly unrecordedOutcomes: number;
  /** Asks for a dispatch pass soon (after a commit that queued an SMS). No-op unless started. */
  notify(): void;
  /** Polls every pollIntervalMs, starting now. */
  start(): void;
  /** Stops polling, waits for the pass in flight, then writes the outcomes still unrecorded (if it can). */
  stop(): Promise<void>;
  /** Claims and sends what is due now; returns how many sends it attempted. */
  dispatchDueMessages(): Promise<number>;
}

const DEFAULT_BATCH_SIZE = 10;
/** A code lives minutes: between two attempts never more than this, whatever the backoff or the provider's Retry-After. */
export const MAX_RETRY_DELAY_MS = 60 * 1000;
const LEASE_MARGIN_MS = 30_000;
// Providers enforce sendTimeoutMs themselves; this outer deadline only catches one that does not.
const TIMEOUT_GRACE_MS = 1000;
const MAX_ERROR_LENGTH = 500;
const HOUR_MS = 60 * 60 * 1000;

export function createSmsDispatcher(deps: SmsDispatcherDeps): SmsDispatcher {
  const { db, clock, logger, resolveProvider, settings } = deps;
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  // Long enough for every send of a batch (they run concurrently); a crashed owner's rows become due after it.
  const leaseMs = 2 * settings.sendTimeoutMs + LEASE_MARGIN_MS;
  const log = logger.child({ component: 'sms-dispatcher' });
  const scheduler = createPassScheduler(dispatchDueMessages, settings.pollIntervalMs, log);
  const listeners: ((event: DispatchEvent) => void)[] = [];
  // Outcomes of provider calls whose write failed (database down mid-send), by outbox id. Resending such a
  // message would send it twice, so the outcome is kept and written as soon as the database answers.
  const unrecorded = new Map<string, UnrecordedOutcome>();

  function emit(kind: DispatchOutcomeKind, provider: string | null): void {
    for (const listener of listeners) listener({ kind, provider });
  }

  async function dispatchDueMessages(): Promise<number> {
    await writeUnrecordedOutcomes();
    await expireOverdue();
    await failAbandonedSms(db, clock.now(), settings.maxAttempts);
    let provider: SmsProvider;
    try {
      provider = await resolveProvider();
    } catch (error) {
      await reportProviderUnavailable(error);
      return 0;
    }
    if (unavailableReason !== null) {
      log.info('an SMS provider is usable again; sending queued messages');
      unavailableReason = null;
    }
    let attempted = 0;
    for (;;) {
      const now = clock.now();
      const allowance = await hourlyAllowance(now);
      if (allowance === 0) return attempted;
      const claimed = await claimDueSms(db, {
        now,
        leaseUntil: new Date(now.getTime() + leaseMs),
        limit: Math.min(batchSize, allowance),
        maxAttempts: settings.maxAttempts,
      });
      await Promise.all(claimed.map((row) => deliverSafely(provider, row)));
      attempted += claimed.length;
      if (claimed.length < batchSize || scheduler.stopped) return attempted;
    }
  }

  /** Throws while the database is unavailable, so the pass claims nothing until every kept outcome is written. */
  async function writeUnrecordedOutcomes(): Promise<void> {
    for (const pending of [...unrecorded.values()]) {
      await recordOutcome(pending.provider, pending.row, pending.outcome);
      unrecorded.delete(pending.row.id);
    }
  }

  async function expireOverdue(): Promise<void> {
    const now = clock.now();
    const expired = await db.transaction().execute(async (trx) => {
      const rows = await expireOverdueSms(trx, now);
      for (const row of rows) await auditExpired(trx, row, now);
      return rows;
    });
    for (const row of expired) {
      log.warn(
        { outboxId: row.id, to: maskPhoneNumber(row.to_number), attempts: row.attempts, error: row.last_error },
        'SMS not delivered before its code expired; marked expired',
      );
      emit('expired', null);
    }
  }

  let circuitOpen = false;

  /** How many more SMS may go out this hour; at the ceiling the breaker opens and an alert is logged once. */
  async function hourlyAllowance(now: Date): Promise<number> {
    const sent = await countSentSince(db, new Date(now.getTime() - HOUR_MS));
    const allowance = Math.max(0, settings.globalPerHour - sent);
    if (allowance === 0 && !circuitOpen && (await hasDueSms(db, now))) {
      log.error(
        { alert: 'sms_circuit_open', sentLastHour: sent, ceiling: settings.globalPerHour },
        'SMS ceiling reached: sending paused, messages stay queued',
      );
      circuitOpen = true;
    } else if (allowance > 0 && circuitOpen) {
      log.warn({ alert: 'sms_circuit_closed' }, 'SMS sending resumed');
      circuitOpen = false;
    }
    return allowance;
  }

  /** The reason last logged as an error, so a poll loop logs it once, not every few seconds. */
  let unavailableReason: string | null = null;

  async function reportProviderUnavailable(error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : 'unknown error';
    if (reason !== unavailableReason && (await hasDueSms(db, clock.now()))) {
      log.error({ reason }, 'no usable SMS provider; due messages stay queued');
      unavailableReason = reason;
    } else {
      log.debug({ reason }, 'no usable SMS provider');
    }
  }

  /** One failed database write must not stop the other sends of the batch. */
  async function deliverSafely(provider: SmsProvider, row: SmsOutboxRow): Promise<void> {
    const outcome = await attempt(provider, row);
    try {
      await recordOutcome(provider.name, row, outcome);
    } catch (error) {
      unrecorded.set(row.id, { provider: provider.name, row, outcome });
      emit('unrecorded', provider.name);
      log.error(
        {
          outboxId: row.id,
          attempts: row.attempts,
          outcome: outcome.kind,
          errorName: error instanceof Error ? error.name : typeof error,
        },
        'could not record an SMS delivery outcome; it is kept and written once the database answers',
      );
    }
  }

  async function recordOutcome(providerName: string, row: SmsOutboxRow, outcome: DeliveryOutcome): Promise<void> {
    const recorded = await db.transaction().execute(async (trx) => {
      const done = await recordDeliveryOutcome(trx, row, outcome);
      if (done && row.user_id !== null && outcome.kind !== 'retry') {
        if (outcome.kind === 'expired') {
          await auditExpired(trx, { ...row, last_error: null }, outcome.now);
        } else {
          const type = outcome.kind === 'sent' ? 'CODE_SENT' : 'DELIVERY_FAILED';
          const details = { purpose: row.purpose, attempts: row.attempts, provider: providerName };
          await recordAuditEvent(
            trx,
            { type, userId: row.user_id, number: row.to_number, details },
            SYSTEM_CONTEXT,
            outcome.now,
          );
        }
      }
      return done;
    });
    const context = {
      outboxId: row.id,
      to: maskPhoneNumber(row.to_number),
      attempts: row.attempts,
      provider: providerName,
    };
    if (!recorded) {
      log.warn(context, 'SMS delivery outcome not recorded: another dispatcher took the message over');
      return;
    }
    emit(outcome.kind, providerName);
    if (outcome.kind === 'sent') {
      log.info({ ...context, providerMessageId: outcome.providerMessageId }, 'SMS sent');
    } else if (outcome.kind === 'retry') {
      log.warn(
        { ...context, error: outcome.lastError, nextAttemptAt: outcome.nextAttemptAt },
        'SMS not sent; will retry',
      );
    } else if (outcome.kind === 'expired') {
      log.warn(context, 'SMS not sent: its code expired');
    } else {
      log.error({ ...context, error: outcome.lastError }, 'SMS delivery failed; giving up');
    }
  }

  async function attempt(provider: SmsProvider, row: SmsOutboxRow): Promise<DeliveryOutcome> {
    const failed = (lastError: string): DeliveryOutcome => ({
      kind: 'failed',
      provider: provider.name,
      lastError,
      now: clock.now(),
    });
    let text: string | null;
    try {
      text = openSmsBody(deps.bodyKey, row);
    } catch {
      return failed('the message text cannot be decrypted (SECRET_KEY changed?)');
    }
    if (text === null) return failed('no message text to send');
    if (row.expires_at !== null && row.expires_at.getTime() <= clock.now().getTime()) {
      return { kind: 'expired', provider: provider.name, now: clock.now() };
    }
    try {
      const message = { to: row.to_number, body: text, idempotencyKey: row.id };
      const result = await withDeadline(provider.send(message), settings.sendTimeoutMs + TIMEOUT_GRACE_MS);
      return { kind: 'sent', provider: provider.name, providerMessageId: result.providerMessageId, now: clock.now() };
    } catch (error) {
      return failureOutcome(provider.name, row, text, error);
    }
  }

  function failureOutcome(provider: string, row: SmsOutboxRow, text: string, error: unknown): DeliveryOutcome {
    const now = clock.now();
    const lastError = describeError(error, [text, row.to_number]);
    const retryable = !(error instanceof SmsDeliveryError) || error.retryable;
    // A code's message is worth trying as long as the code lives; anything else has a number of attempts.
    const outOfAttempts = row.expires_at === null && row.attempts >= settings.maxAttempts;
    if (!retryable || outOfAttempts) return { kind: 'failed', provider, lastError, now };
    const retryAfterMs = error instanceof SmsDeliveryError ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
    const delayMs = Math.min(MAX_RETRY_DELAY_MS, Math.max(retryAfterMs, backoffMs(row.attempts, settings.retryBaseMs)));
    return { kind: 'retry', provider, lastError, nextAttemptAt: new Date(now.getTime() + delayMs), now };
  }

  async function auditExpired(trx: Executor, row: ExpiredSms, now: Date): Promise<void> {
    if (row.user_id === null) return;
    const details = {
      purpose: row.purpose,
      attempts: row.attempts,
      ...(row.last_error === null ? {} : { lastError: row.last_error }),
    };
    await recordAuditEvent(
      trx,
      { type: 'DELIVERY_EXPIRED', userId: row.user_id, number: row.to_number, details },
      SYSTEM_CONTEXT,
      now,
    );
  }

  return {
    notify: () => scheduler.request(),
    start: () => scheduler.start(),
    async stop() {
      await scheduler.stop();
      if (unrecorded.size === 0) return;
      try {
        await writeUnrecordedOutcomes();
      } catch {
        log.error(
          { outboxIds: [...unrecorded.keys()] },
          'stopping with SMS delivery outcomes that could not be written; these messages will be sent again',
        );
      }
    },
    dispatchDueMessages,
    onOutcome: (listener) => {
      listeners.push(listener);
    },
    get unrecordedOutcomes() {
      return unrecorded.size;
    },
  };
}

interface UnrecordedOutcome {
  provider: string;
  row: SmsOutboxRow;
  outcome: DeliveryOutcome;
}

/**
 * Exponential backoff with full jitter, capped. The floor of one base delay keeps a retry out of the
 * pass that just failed it.
 */
export function backoffMs(attempts: number, retryBaseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.max(Math.min(retryBaseMs, ceiling), Math.floor(random() * ceiling));
}

/**
 * Provider errors are written without secrets by contract; anything else may carry request details,
 * so only its type is kept. The text and the number are blanked out in any case.
 */
function describeError(error: unknown, sensitive: readonly string[]): string {
  let text: string;
  if (error instanceof SmsDeliveryError) text = error.message;
  else text = `unexpected error (${error instanceof Error ? error.name : typeof error})`;
  for (const value of sensitive) {
    if (value.length > 0) text = text.split(value).join('[redacted]');
  }
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

async function withDeadline(sending: Promise<SmsSendResult>, ms: number): Promise<SmsSendResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SmsDeliveryError(`provider call did not finish within ${ms} ms`, { retryable: true })),
      ms,
    );
  });
  try {
    return await Promise.race([sending, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface PassScheduler {
  readonly stopped: boolean;
  request(): void;
  start(): void;
  stop(): Promise<void>;
}

/** Runs one pass at a time; requests during a pass coalesce into a single follow-up pass. */
function createPassScheduler(pass: () => Promise<number>, pollIntervalMs: number, log: Logger): PassScheduler {
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function runPasses(): Promise<void> {
    do {
      again = false;
      try {
        await pass();
      } catch (error) {
        log.error(
          { errorName: error instanceof Error ? error.name : typeof error, reason: errorMessage(error) },
          'SMS dispatch pass failed',
        );
      }
    } while (again && !stopped);
  }

  function request(): void {
    if (!started || stopped) return;
    if (running !== undefined) {
      again = true;
      return;
    }
    // Deferred, so the request that queued the message answers first.
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(runPasses).finally(() => {
      running = undefined;
    });
  }

  return {
    get stopped() {
      return stopped;
    },
    request,
    start() {
      if (started || stopped) return;
      started = true;
      timer = setInterval(request, pollIntervalMs);
      timer.unref();
      request();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Pass failures come from the database layer; their messages name SQL problems, not message contents. */
function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, MAX_ERROR_LENGTH) : 'unknown error';
}
