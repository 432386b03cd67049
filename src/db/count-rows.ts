import type { SelectQueryBuilder } from 'kysely';
import type { Database } from './database.js';

/** How many rows a query matches: `count(*)` over its FROM and WHERE. */
export async function countRows<TB extends keyof Database>(
  query: SelectQueryBuilder<Database, TB, object>,
): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}
