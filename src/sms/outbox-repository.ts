import { randomUUID } from 'node:crypto';
import { sql, type Updateable } from 'kysely';
import { countRows } from '../db/count-rows.js';
import type { SmsOutboxRow, SmsOutboxTable, SmsState } from '../db/database.js';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Executor } from '../db/executor.js';
import { sealSmsBody } from './sms-body.js';

export interface QueuedSms {
  userId: string | null;
  purpose: string;
  to: string;
  body: string;
  now: Date;
  /** When the code the message carries expires; it is retried until then and never sent after. */
  expiresAt?: Date | null;
}

/**
 * Called inside the transaction that creates what the message carries (outbox pattern). The text is stored
 * sealed with `bodyKey` (src/sms/sms-body.ts): it carries a live code.
 */
export async function enqueueSms(db: Executor, bodyKey: Buffer, sms: QueuedSms): Promise<string> {
  const id = randomUUID();
  await db
    .insertInto('sms_outbox')
    .values({
      id,
      user_id: sms.userId,
      purpose: sms.purpose,
      to_number: sms.to,
      sealed_body: sealSmsBody(bodyKey, id, sms.to, sms.body),
      state: 'queued',
      next_attempt_at: sms.now,
      expires_at: sms.expiresAt ?? null,
      created_at: sms.now,
      updated_at: sms.now,
    })
    .execute();
  return id;
}

export interface ClaimRequest {
  now: Date;
  leaseUntil: Date;
  limit: number;
  maxAttempts: number;
}

/**
 * Claims due messages in one statement: queued ones whose time has come, and ones left in 'sending'
 * by a dispatcher that died (lease expired). SKIP LOCKED lets several dispatchers claim disjoint rows.
 * A message whose code has expired is never claimed (expireOverdueSms marks it).
 */
export async function claimDueSms(db: Executor, claim: ClaimRequest): Promise<SmsOutboxRow[]> {
  const due = db
    .selectFrom('sms_outbox')
    .select('id')
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', claim.now)]))
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'queued'), eb('next_attempt_at', '<=', claim.now)]),
        eb.and([
          eb('state', '=', 'sending'),
          eb('locked_until', '<', claim.now),
          // A code's message may be taken over until the code expires; others have a number of attempts.
          eb.or([eb('attempts', '<', claim.maxAttempts), eb('expires_at', 'is not', null)]),
        ]),
      ]),
    )
    .orderBy('next_attempt_at')
    .limit(claim.limit)
    .forUpdate()
    .skipLocked();
  return db
    .updateTable('sms_outbox')
    .set((eb) => ({
      state: 'sending',
      locked_until: claim.leaseUntil,
      attempts: eb('attempts', '+', 1),
      updated_at: claim.now,
    }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
}

/**
 * Rows abandoned in 'sending' after their last allowed attempt: the outcome is unknown and no attempt is left.
 * Messages carrying a code have no attempt limit: they are taken over until the code expires.
 */
export async function failAbandonedSms(db: Executor, now: Date, maxAttempts: number): Promise<number> {
  const result = await db
    .updateTable('sms_outbox')
    .set({
      state: 'failed',
      body: null,
      sealed_body: null,
      locked_until: null,
      last_error: 'abandoned: the last attempt did not finish (the sending process stopped)',
      updated_at: now,
    })
    .where('state', '=', 'sending')
    .where('locked_until', '<', now)
    .where('attempts', '>=', maxAttempts)
    .where('expires_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** What the audit trail needs of a message that expired undelivered. */
export type ExpiredSms = Pick<SmsOutboxRow, 'id' | 'user_id' | 'purpose' | 'to_number' | 'attempts' | 'last_error'>;

/**
 * Marks expired the messages whose code expired before they could be delivered (waiting for a retry, or
 * abandoned in 'sending' by a dispatcher that died). The text is erased; last_error keeps the last reason.
 */
export async function expireOverdueSms(db: Executor, now: Date): Promise<ExpiredSms[]> {
  return db
    .updateTable('sms_outbox')
    .set({ state: 'expired', body: null, sealed_body: null, locked_until: null, updated_at: now })
    .where('expires_at', '<=', now)
    .where((eb) =>
      eb.or([eb('state', '=', 'queued'), eb.and([eb('state', '=', 'sending'), eb('locked_until', '<', now)])]),
    )
    .returning(['id', 'user_id', 'purpose', 'to_number', 'attempts', 'last_error'])
    .execute();
}

export async function hasDueSms(db: Executor, now: Date): Promise<boolean> {
  const row = await db
    .selectFrom('sms_outbox')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([eb('state', '=', 'queued'), eb('next_attempt_at', '<=', now)]),
        eb.and([eb('state', '=', 'sending'), eb('locked_until', '<', now)]),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Identifies one claim of a row: a later claim (after the lease expired) bumps `attempts`. */
export interface ClaimedSms {
  id: string;
  attempts: number;
}

export type DeliveryOutcome =
  | { kind: 'sent'; provider: string; providerMessageId: string | null; now: Date }
  | { kind: 'retry'; provider: string; lastError: string; nextAttemptAt: Date; now: Date }
  | { kind: 'failed'; provider: string; lastError: string; now: Date }
  | { kind: 'expired'; provider: string; now: Date };

/**
 * Records the outcome of one claim. The text is erased once it is sent or given up on (it holds a code).
 * False when the claim was lost: the lease expired and another dispatcher took the row over.
 */
export async function recordDeliveryOutcome(
  db: Executor,
  claimed: ClaimedSms,
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const result = await db
    .updateTable('sms_outbox')
    .set(outcomeColumns(outcome))
    .where('id', '=', claimed.id)
    .where('state', '=', 'sending')
    .where('attempts', '=', claimed.attempts)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

function outcomeColumns(outcome: DeliveryOutcome): Updateable<SmsOutboxTable> {
  const common = { provider: outcome.provider, locked_until: null, updated_at: outcome.now };
  switch (outcome.kind) {
    case 'sent':
      return {
        ...common,
        state: 'sent',
        body: null,
        sealed_body: null,
        provider_message_id: outcome.providerMessageId,
        sent_at: outcome.now,
        last_error: null,
      };
    case 'retry':
      return { ...common, state: 'queued', next_attempt_at: outcome.nextAttemptAt, last_error: outcome.lastError };
    case 'failed':
      return { ...common, state: 'failed', body: null, sealed_body: null, last_error: outcome.lastError };
    case 'expired':
      return { ...common, state: 'expired', body: null, sealed_body: null };
  }
}

export interface OutboxListQuery {
  /** 1-based. */
  startIndex: number;
  count: number;
  state?: SmsState | undefined;
  userId?: string | undefined;
}

/** A page of outbox rows, newest first, without the message text. */
export async function listOutboxRows(
  db: Executor,
  query: OutboxListQuery,
): Promise<{ totalResults: number; rows: Omit<SmsOutboxRow, 'body' | 'sealed_body'>[] }> {
  let base = db.selectFrom('sms_outbox');
  if (query.state !== undefined) base = base.where('state', '=', query.state);
  if (query.userId !== undefined) base = base.where('user_id', '=', query.userId);
  const totalResults = await countRows(base);
  const rows =
    query.count === 0
      ? []
      : await base
          .select([
            'id',
            'user_id',
            'purpose',
            'to_number',
            'state',
            'attempts',
            'next_attempt_at',
            'locked_until',
            'last_error',
            'provider',
            'provider_message_id',
            'created_at',
            'updated_at',
            'sent_at',
            'expires_at',
          ])
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .offset(query.startIndex - 1)
          .limit(query.count)
          .execute();
  return { totalResults, rows };
}

/** Messages handed to a provider since `since`: the global ceiling's measure. */
export async function countSentSince(db: Executor, since: Date): Promise<number> {
  return countRows(db.selectFrom('sms_outbox').where('state', '=', 'sent').where('sent_at', '>=', since));
}

/** Finished messages (sent, failed, expired; their text is already erased) created before `before`. */
export async function deleteFinishedSmsBefore(db: Executor, before: Date, limit: number): Promise<number> {
  return deleteBatch(db, 'sms_outbox', sql`state in ('sent', 'failed', 'expired') and created_at < ${before}`, limit);
}
