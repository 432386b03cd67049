import { sql } from 'kysely';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Executor } from '../db/executor.js';

/** Refresh tokens past their expiry can never be redeemed again; housekeeping deletes them, `limit` at a time. */
export async function deleteExpiredRefreshTokens(db: Executor, now: Date, limit: number): Promise<number> {
  return deleteBatch(db, 'oauth_refresh_tokens', sql`expires_at < ${now}`, limit);
}
