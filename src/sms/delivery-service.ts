import type { SmsState } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { maskPhoneNumber } from '../shared/mask.js';
import { listOutboxRows, type OutboxListQuery } from './outbox-repository.js';

/** What administrators see of one queued or sent SMS: never its text, and the number masked. */
export interface SmsDelivery {
  id: string;
  userId: string | null;
  purpose: string;
  to: string;
  state: SmsState;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  providerMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
  sentAt: Date | null;
  nextAttemptAt: Date | null;
  /** When the code the message carries expires; an undelivered message is marked expired then. */
  expiresAt: Date | null;
}

export interface SmsDeliveryPage {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  deliveries: SmsDelivery[];
}

export async function listSmsDeliveries(db: Executor, query: OutboxListQuery): Promise<SmsDeliveryPage> {
  const { totalResults, rows } = await listOutboxRows(db, query);
  const deliveries = rows.map(
    (row): SmsDelivery => ({
      id: row.id,
      userId: row.user_id,
      purpose: row.purpose,
      to: maskPhoneNumber(row.to_number),
      state: row.state,
      attempts: row.attempts,
      lastError: row.last_error,
      provider: row.provider,
      providerMessageId: row.provider_message_id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      sentAt: row.sent_at,
      // Only meaningful while a retry is pending.
      nextAttemptAt: row.state === 'queued' ? row.next_attempt_at : null,
      expiresAt: row.expires_at,
    }),
  );
  return { totalResults, startIndex: query.startIndex, itemsPerPage: deliveries.length, deliveries };
}
