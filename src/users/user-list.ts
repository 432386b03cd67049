import { countRows } from '../db/count-rows.js';
import type { UserRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { userGroupsSome } from '../groups/user-groups-source.js';
import { type FilterSources, filterToSql, type QueryFilter, type QuerySort } from '../query/query-filter.js';
import { createUserFilterSources } from './user-filter-sources.js';

export interface UserListQuery {
  filter?: QueryFilter | undefined;
  sort?: QuerySort | undefined;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
}

const DEFAULT_SOURCES = createUserFilterSources({ extraItemSources: new Map([['groups', userGroupsSome]]) });

/** One page of users matching a filter, in SQL; ties (and unsorted lists) are ordered by creation, then id. */
export async function listUserRows(
  db: Executor,
  query: UserListQuery,
  sources: FilterSources = DEFAULT_SOURCES,
): Promise<{ totalResults: number; rows: UserRow[] }> {
  const { filter, sort } = query;
  let base = db.selectFrom('users');
  if (filter !== undefined) base = base.where(() => filterToSql(filter, sources));
  const totalResults = await countRows(base);
  if (query.count === 0) return { totalResults, rows: [] };
  const selected = base.selectAll();
  const ordered = sort === undefined ? selected.orderBy('created_at') : selected.orderBy(sources.sortOrder(sort));
  const rows = await ordered
    .orderBy('id')
    .offset(query.startIndex - 1)
    .limit(query.count)
    .execute();
  return { totalResults, rows };
}

/** For `db.selectFrom('users').where(userFilterToWhere(filter))`. */
export function userFilterToWhere(filter: QueryFilter, sources: FilterSources = DEFAULT_SOURCES) {
  return () => filterToSql(filter, sources);
}
