import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import { countRows } from '../db/count-rows.js';
import type { Database, GroupRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';

/** A condition on `groups` (built from a SCIM filter by the SCIM layer); every literal a bound parameter. */
export type GroupCondition = (eb: ExpressionBuilder<Database, 'groups'>) => Expression<SqlBool>;

export type GroupSortKey = 'id' | 'displayName' | 'externalId' | 'created' | 'lastModified';

export interface GroupListQuery {
  where?: GroupCondition | undefined;
  sort?: { key: GroupSortKey; descending: boolean } | undefined;
  /** 1-based, as in SCIM. */
  startIndex: number;
  count: number;
}

const SORT_COLUMNS = {
  id: sql`groups.id`,
  displayName: sql`lower(groups.display_name)`,
  externalId: sql`groups.external_id`,
  created: sql`groups.created_at`,
  lastModified: sql`groups.updated_at`,
} as const;

/** One page of groups; filter and order run in SQL, ties broken by id so pages are stable. */
export async function listGroupRows(
  db: Executor,
  query: GroupListQuery,
): Promise<{ totalResults: number; rows: GroupRow[] }> {
  let base = db.selectFrom('groups');
  if (query.where !== undefined) base = base.where(query.where);
  const totalResults = await countRows(base);
  if (query.count === 0) return { totalResults, rows: [] };
  const direction = query.sort?.descending === true ? sql`desc` : sql`asc`;
  const ordered =
    query.sort === undefined
      ? base.selectAll().orderBy('created_at').orderBy('id')
      : base
          .selectAll()
          .orderBy(sql`${SORT_COLUMNS[query.sort.key]} ${direction} nulls last`)
          .orderBy('id', query.sort.descending ? 'desc' : 'asc');
  const rows = await ordered
    .offset(query.startIndex - 1)
    .limit(query.count)
    .execute();
  return { totalResults, rows };
}
