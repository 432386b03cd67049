import { sql } from 'kysely';
import type { SmsSenderRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { DEFAULT_SENDER_NAME } from './sender-settings.js';

export interface SenderRowValues {
  provider: string;
  settings: string;
  secretsEncrypted: string;
  now: Date;
}

export async function listSenderRows(db: Executor): Promise<SmsSenderRow[]> {
  return db.selectFrom('sms_senders').selectAll().orderBy('created_at').orderBy('name').execute();
}

export async function findSenderRow(db: Executor, name: string): Promise<SmsSenderRow | undefined> {
  return db.selectFrom('sms_senders').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function lockSenderRow(db: Executor, name: string): Promise<SmsSenderRow | undefined> {
  return db.selectFrom('sms_senders').selectAll().where('name', '=', name).forUpdate().executeTakeFirst();
}

/** The sender that sends: the one named SMSPublisher (what WSO2's Console uses), else the oldest. */
export async function findActiveSenderRow(db: Executor): Promise<SmsSenderRow | undefined> {
  return db
    .selectFrom('sms_senders')
    .selectAll()
    .orderBy(sql`name = ${DEFAULT_SENDER_NAME}`, 'desc')
    .orderBy('created_at')
    .orderBy('name')
    .limit(1)
    .executeTakeFirst();
}

/** False when a sender with that name exists already. */
export async function insertSenderRow(db: Executor, name: string, values: SenderRowValues): Promise<boolean> {
  const inserted = await db
    .insertInto('sms_senders')
    .values({
      name,
      provider: values.provider,
      settings: values.settings,
      secrets_encrypted: values.secretsEncrypted,
      created_at: values.now,
      updated_at: values.now,
    })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function updateSenderRow(db: Executor, name: string, values: SenderRowValues): Promise<boolean> {
  const result = await db
    .updateTable('sms_senders')
    .set({
      provider: values.provider,
      settings: values.settings,
      secrets_encrypted: values.secretsEncrypted,
      updated_at: values.now,
    })
    .where('name', '=', name)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteSenderRow(db: Executor, name: string): Promise<boolean> {
  const result = await db.deleteFrom('sms_senders').where('name', '=', name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
