import { sql } from 'kysely';
import type { VerificationCodeRow } from '../db/database.js';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Executor } from '../db/executor.js';

export interface NewVerificationCode {
  id: string;
  userId: string;
  scenario: string;
  number: string;
  codeHmac: string;
  lookupHmac: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Inserts unless another live code has the same value; answers false on that collision. */
export async function insertCodeUnlessTaken(db: Executor, code: NewVerificationCode): Promise<boolean> {
  const inserted = await db
    .insertInto('verification_codes')
    .values({
      id: code.id,
      user_id: code.userId,
      scenario: code.scenario,
      number: code.number,
      code_hmac: code.codeHmac,
      lookup_hmac: code.lookupHmac,
      created_at: code.createdAt,
      expires_at: code.expiresAt,
    })
    .onConflict((conflict) => conflict.column('lookup_hmac').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findCodesOfUser(db: Executor, userId: string): Promise<VerificationCodeRow[]> {
  return db.selectFrom('verification_codes').selectAll().where('user_id', '=', userId).execute();
}

export async function findCodeOfUser(
  db: Executor,
  userId: string,
  scenario: string,
): Promise<VerificationCodeRow | undefined> {
  return db
    .selectFrom('verification_codes')
    .selectAll()
    .where('user_id', '=', userId)
    .where('scenario', '=', scenario)
    .executeTakeFirst();
}

export async function findCodeByLookup(db: Executor, lookup: string): Promise<VerificationCodeRow | undefined> {
  return db.selectFrom('verification_codes').selectAll().where('lookup_hmac', '=', lookup).executeTakeFirst();
}

export async function deleteCodesOfUser(db: Executor, userId: string): Promise<void> {
  await db.deleteFrom('verification_codes').where('user_id', '=', userId).execute();
}

/** Consumes a code; answers false when another request consumed it first. */
export async function deleteCode(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('verification_codes').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function recordFailedAttempt(db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('verification_codes')
    .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
    .where('id', 'in', ids)
    .execute();
}

/** Codes that expired before `before` (used codes are deleted when used); housekeeping, `limit` at a time. */
export async function deleteCodesExpiredBefore(db: Executor, before: Date, limit: number): Promise<number> {
  return deleteBatch(db, 'verification_codes', sql`expires_at < ${before}`, limit);
}
