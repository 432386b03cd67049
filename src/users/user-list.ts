import { countRows } from '../db/count-rows.js';
import type { Executor } from '../db/executor.js';
import { userGroupsSome } from '../groups/user-groups-source.js';
import { type FilterSources, filterToSql, type QueryFilter, type QuerySort } from '../query/query-filter.js';
import { createUserFilterSources } from './user-filter-sources.js';
import { countAllUsers } from './user-repository.js';

export interface UserListQuery {
  filter?: QueryFilter | undefined;
  sort?: QuerySort | undefined;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
}

const DEFAULT_SOURCES = createUserFilterSources({ extraItemSources: new Map([['groups', userGroupsSome]]) });

/**
 * The ids of one page of users matching a filter, in order; ties (and unsorted lists) are ordered by
 * creation, then id. Only ids are read (an index-only scan for unsorted lists), and a page in the second
 * half of the list is read from the end in the reverse order, so no page skips more than half the matches.
 * Run it in a repeatable-read transaction for the count and the page to agree.
 */
export async function listUserIds(
  db: Executor,
  query: UserListQuery,
  sources: FilterSources = DEFAULT_SOURCES,
): Promise<{ totalResults: number; ids: string[] }> {
  const { filter, sort } = query;
  let base = db.selectFrom('users');
  if (filter !== undefined) base = base.where(() => filterToSql(filter, sources));
  const totalResults = filter === undefined ? await countAllUsers(db) : await countRows(base);
  const before = query.startIndex - 1;
  const size = Math.min(query.count, totalResults - before);
  if (size <= 0) return { totalResults, ids: [] };
  const after = totalResults - before - size;
  const fromEnd = after < before;
  const descending = (sort?.descending ?? false) !== fromEnd;
  const selected = base.select('users.id');
  const ordered =
    sort === undefined
      ? selected.orderBy('users.created_at', descending ? 'desc' : 'asc')
      : selected.orderBy(sources.sortOrder({ ...sort, descending }));
  const rows = await ordered
    .orderBy('users.id', fromEnd ? 'desc' : 'asc')
    .offset(fromEnd ? after : before)
    .limit(size)
    .execute();
  const ids = rows.map((row) => row.id);
  return { totalResults, ids: fromEnd ? ids.reverse() : ids };
}

/** For `db.selectFrom('users').where(userFilterToWhere(filter))`. */
export function userFilterToWhere(filter: QueryFilter, sources: FilterSources = DEFAULT_SOURCES) {
  return () => filterToSql(filter, sources);
}
