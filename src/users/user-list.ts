import { countRows } from '../db/count-rows.js';
import type { UserRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { parseUserFilter, userFilterToWhere } from '../scim/filter.js';
import { assertFilterWithinBounds } from '../scim/filter-limits.js';

export interface UserListQuery {
  filter?: string | undefined;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
}

/** One page of users matching a SCIM filter; the filter runs in SQL. */
export async function listUserRows(
  db: Executor,
  query: UserListQuery,
): Promise<{ totalResults: number; rows: UserRow[] }> {
  if (query.filter !== undefined) assertFilterWithinBounds(query.filter);
  const filter = query.filter === undefined ? undefined : parseUserFilter(query.filter);
  let base = db.selectFrom('users');
  if (filter !== undefined) base = base.where(userFilterToWhere(filter));
  const totalResults = await countRows(base);
  const rows =
    query.count === 0
      ? []
      : await base
          .selectAll()
          .orderBy('created_at')
          .orderBy('id')
          .offset(query.startIndex - 1)
          .limit(query.count)
          .execute();
  return { totalResults, rows };
}
