import { countRows } from '../db/count-rows.js';
import type { GroupRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { filterToSql, type QueryFilter, type QuerySort } from '../query/query-filter.js';
import { groupFilterSources } from './group-filter-sources.js';

export interface GroupListQuery {
  filter?: QueryFilter | undefined;
  sort?: QuerySort | undefined;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
}

/** One page of groups; filter and order run in SQL; ties (and unsorted lists) by creation, then id. */
export async function listGroupRows(
  db: Executor,
  query: GroupListQuery,
): Promise<{ totalResults: number; rows: GroupRow[] }> {
  const { filter, sort } = query;
  let base = db.selectFrom('groups');
  if (filter !== undefined) base = base.where(() => filterToSql(filter, groupFilterSources));
  const totalResults = await countRows(base);
  if (query.count === 0) return { totalResults, rows: [] };
  const selected = base.selectAll();
  const ordered =
    sort === undefined ? selected.orderBy('created_at') : selected.orderBy(groupFilterSources.sortOrder(sort));
  const rows = await ordered
    .orderBy('id', sort?.descending === true ? 'desc' : 'asc')
    .offset(query.startIndex - 1)
    .limit(query.count)
    .execute();
  return { totalResults, rows };
}
