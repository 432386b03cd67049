import { type RawBuilder, sql } from 'kysely';
import type { Database } from './database.js';
import type { Executor } from './executor.js';

/**
 * Deletes at most `limit` rows of `table` matching `condition`, in one statement; answers how many.
 * Bounded, so a large backlog is worked off in short statements instead of one long lock.
 */
export async function deleteBatch(
  db: Executor,
  table: keyof Database & string,
  condition: RawBuilder<unknown>,
  limit: number,
): Promise<number> {
  const result = await sql`delete from ${sql.table(table)} where ctid = any(array(
    select ctid from ${sql.table(table)} where ${condition} limit ${limit}))`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
