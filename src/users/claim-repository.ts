import type { Executor } from '../db/executor.js';
import type { ClaimMap } from './claims.js';

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
