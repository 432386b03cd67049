import type { Executor } from '../db/executor.js';

/**
 * Ends every live login (password grant) of a user: its refresh tokens stop refreshing and its
 * access tokens (claim `sid`) fail on their next use, on every instance (they are checked against
 * this row on each request). Called in the transaction of the change that took the right away.
 */
export async function revokeUserGrants(db: Executor, userId: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('oauth_grants')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The same for every login made through one OAuth client (its secret was rotated). */
export async function revokeClientGrants(db: Executor, clientId: string, now: Date): Promise<number> {
  const result = await db
    .updateTable('oauth_grants')
    .set({ revoked_at: now })
    .where('client_id', '=', clientId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
