import type { Executor } from '../db/executor.js';
import type { ClaimMap } from './claims.js';

export async function loadClaims(db: Executor, userId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom('user_claims')
    .select(['claim_uri', 'value'])
    .where('user_id', '=', userId)
    .execute();
  return new Map(rows.map((row) => [row.claim_uri, row.value]));
}

export async function loadClaimsForUsers(
  db: Executor,
  userIds: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const byUser = new Map<string, Map<string, string>>(userIds.map((id) => [id, new Map()]));
  if (userIds.length === 0) return byUser;
  const rows = await db
    .selectFrom('user_claims')
    .select(['user_id', 'claim_uri', 'value'])
    .where('user_id', 'in', userIds)
    .execute();
  for (const row of rows) byUser.get(row.user_id)?.set(row.claim_uri, row.value);
  return byUser;
}

/** Writes only what differs: upserts changed values, deletes claims that disappeared. */
export async function writeClaimChanges(
  db: Executor,
  userId: string,
  before: ClaimMap,
  after: ClaimMap,
): Promise<boolean> {
  const upserts = [...after].filter(([uri, value]) => before.get(uri) !== value);
  const removals = [...before.keys()].filter((uri) => !after.has(uri));
  if (upserts.length > 0) {
    await db
      .insertInto('user_claims')
      .values(upserts.map(([claim_uri, value]) => ({ user_id: userId, claim_uri, value })))
      .onConflict((conflict) =>
        conflict.columns(['user_id', 'claim_uri']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
      )
      .execute();
  }
  if (removals.length > 0) {
    await db.deleteFrom('user_claims').where('user_id', '=', userId).where('claim_uri', 'in', removals).execute();
  }
  return upserts.length > 0 || removals.length > 0;
}
