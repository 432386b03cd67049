import type { Logger } from 'pino';
import { recordAuditEvent, SYSTEM_CONTEXT } from '../audit/audit-log.js';
import type { SmsOutboxRow } from '../db/database.js';
import type { Db } from '../db/executor.js';
import type { Clock } from '../shared/clock.js';
import { maskPhoneNumber } from '../shared/mask.js';
import {
  claimDueSms,
  countSentSince,
  type DeliveryOutcome,
  failAbandonedSms,
  hasDueSms,
  recordDeliveryOutcome,
} from './outbox-repository.js';
import { SmsDeliveryError, type SmsProvider, type SmsSendResult } from './providers/sms-provider.js';

export interface SmsDispatcherSettings {
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
  settings: SmsDispatcherSettings;
  /** Told each recorded outcome (for /metrics). */
  onOutcome?: (provider: string, outcome: 'sent' | 'retried' | 'failed') => void;
  /** Messages claimed per statement; they are sent concurrently. */
  batchSize?: number;
}

export interface SmsDispatcher {
  /** Asks for a dispatch pass soon (after a commit that queued an SMS). No-op unless started. */
  notify(): void;
  /** Polls every pollIntervalMs, starting now. */
  start(): void;
  /** Stops polling and waits for the pass in flight. */
  stop(): Promise<void>;
  /** Claims and sends what is due now; returns how many sends it attempted. */
  dispatchDueMessages(): Promise<number>;
}

const DEFAULT_BATCH_SIZE = 10;
const MAX_BACKOFF_MS = 60 * 60 * 1000;
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

  async function dispatchDueMessages(): Promise<number> {
    await failAbandonedSms(db, clock.now(), settings.maxAttempts);
    let provider: SmsProvider;
    try {
      provider = await resolveProvider();
    } catch (error) {
      await reportProviderUnavailable(error);
      return 0;
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

  async function reportProviderUnavailable(error: unknown): Promise<void> {
    const reason = error instanceof Error ? error.message : 'unknown error';
    if (await hasDueSms(db, clock.now())) {
      log.error({ reason }, 'no usable SMS provider; due messages stay queued');
    } else {
      log.debug({ reason }, 'no usable SMS provider');
    }
  }

  /** One failed database write must not stop the other sends of the batch. */
  async function deliverSafely(provider: SmsProvider, row: SmsOutboxRow): Promise<void> {
    try {
      await deliver(provider, row);
    } catch (error) {
      log.error(
        { outboxId: row.id, attempts: row.attempts, errorName: error instanceof Error ? error.name : typeof error },
        'could not record an SMS delivery outcome; the message is retried once its lease expires',
      );
    }
  }

  async function deliver(provider: SmsProvider, row: SmsOutboxRow): Promise<void> {
    const outcome = await attempt(provider, row);
    const recorded = await db.transaction().execute(async (trx) => {
      const done = await recordDeliveryOutcome(trx, row, outcome);
      if (done && row.user_id !== null && outcome.kind !== 'retry') {
        const type = outcome.kind === 'sent' ? 'CODE_SENT' : 'DELIVERY_FAILED';
        const details = { purpose: row.purpose, attempts: row.attempts, provider: provider.name };
        await recordAuditEvent(
          trx,
          { type, userId: row.user_id, number: row.to_number, details },
          SYSTEM_CONTEXT,
          outcome.now,
        );
      }
      return done;
    });
    const context = {
      outboxId: row.id,
      to: maskPhoneNumber(row.to_number),
      attempts: row.attempts,
      provider: provider.name,
    };
    if (recorded) deps.onOutcome?.(provider.name, outcome.kind === 'retry' ? 'retried' : outcome.kind);
    if (!recorded) {
      log.warn(context, 'SMS delivery outcome not recorded: another dispatcher took the message over');
    } else if (outcome.kind === 'sent') {
      log.info({ ...context, providerMessageId: outcome.providerMessageId }, 'SMS sent');
    } else if (outcome.kind === 'retry') {
      log.warn(
        { ...context, error: outcome.lastError, nextAttemptAt: outcome.nextAttemptAt },
        'SMS not sent; will retry',
      );
    } else {
      log.error({ ...context, error: outcome.lastError }, 'SMS delivery failed; giving up');
    }
  }

  async function attempt(provider: SmsProvider, row: SmsOutboxRow): Promise<DeliveryOutcome> {
    if (row.body === null) {
      return { kind: 'failed', provider: provider.name, lastError: 'no message text to send', now: clock.now() };
    }
    try {
      const message = { to: row.to_number, body: row.body, idempotencyKey: row.id };
      const result = await withDeadline(provider.send(message), settings.sendTimeoutMs + TIMEOUT_GRACE_MS);
      return { kind: 'sent', provider: provider.name, providerMessageId: result.providerMessageId, now: clock.now() };
    } catch (error) {
      return failureOutcome(provider.name, row, error);
    }
  }

  function failureOutcome(provider: string, row: SmsOutboxRow, error: unknown): DeliveryOutcome {
    const now = clock.now();
    const lastError = describeError(error, [row.body ?? '', row.to_number]);
    const retryable = !(error instanceof SmsDeliveryError) || error.retryable;
    if (!retryable || row.attempts >= settings.maxAttempts) return { kind: 'failed', provider, lastError, now };
    const retryAfterMs = error instanceof SmsDeliveryError ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
    const delayMs = Math.max(retryAfterMs, backoffMs(row.attempts, settings.retryBaseMs));
    return { kind: 'retry', provider, lastError, nextAttemptAt: new Date(now.getTime() + delayMs), now };
  }

  return {
    notify: () => scheduler.request(),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
    dispatchDueMessages,
  };
}

/**
 * Exponential backoff with full jitter, capped. The floor of one base delay keeps a retry out of the
 * pass that just failed it.
 */
export function backoffMs(attempts: number, retryBaseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** Math.max(0, attempts - 1));
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
