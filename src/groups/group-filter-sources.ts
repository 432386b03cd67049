import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import {
  type FilterSources,
  type ItemFilter,
  itemFilterToSql,
  plainSortSql,
  type QuerySort,
  textSortSql,
  textValueTestSql,
  timeComparisonSql,
  type ValueTest,
} from '../query/query-filter.js';
import { isUuid } from '../shared/values.js';

/**
 * The SQL behind each storage key a Groups QueryFilter names (src/query/query-filter.ts): the columns of
 * `groups`, and `members` as EXISTS over the membership rows, which `value eq <uuid>` finds through the
 * (group_id, member) unique indexes.
 */
export const GROUP_COLUMNS = {
  id: 'id',
  displayName: 'display_name',
  externalId: 'external_id',
  created: 'created_at',
  lastModified: 'updated_at',
} as const;

export type GroupColumnKey = keyof typeof GROUP_COLUMNS;
export const MEMBERS_KEY = 'members';

export const groupFilterSources: FilterSources = {
  test: (key, test) => columnTest(key as GroupColumnKey, test),
  some: (_key, filter) => membersSome(filter),
  sortOrder: (sort) => sortOrder(sort),
};

function columnTest(key: GroupColumnKey, test: ValueTest): Expression<SqlBool> {
  const column = sql.ref(`groups.${GROUP_COLUMNS[key]}`);
  if (key === 'created' || key === 'lastModified') {
    return test.kind === 'time' ? timeComparisonSql(column, test) : sql<SqlBool>`true`;
  }
  if (key === 'id' && test.kind === 'text' && test.op === 'eq') {
    return isUuid(test.value) ? sql<SqlBool>`${column} = cast(${test.value} as uuid)` : sql<SqlBool>`false`;
  }
  const text = key === 'id' ? sql<string>`cast(${column} as text)` : sql<string>`${column}`;
  return sql<SqlBool>`coalesce(${textValueTestSql(text, test)}, false)`;
}

function membersSome(filter: ItemFilter): Expression<SqlBool> {
  const named =
    filter.kind === 'test' && filter.sub === 'value' && filter.test.kind === 'text' && filter.test.op === 'eq'
      ? filter.test.value
      : undefined;
  const condition =
    named !== undefined && isUuid(named)
      ? sql<SqlBool>`(m.member_user_id = cast(${named} as uuid) or m.member_group_id = cast(${named} as uuid))`
      : itemFilterToSql(filter, memberSubTest);
  return sql<SqlBool>`exists (select 1 from group_members m where m.group_id = ${sql.ref('groups.id')} and ${condition})`;
}

function memberSubTest(sub: string, test: ValueTest): Expression<SqlBool> {
  if (sub === 'type') {
    return textValueTestSql(sql<string>`(case when m.member_user_id is not null then 'User' else 'Group' end)`, test);
  }
  return textValueTestSql(sql<string>`cast(coalesce(m.member_user_id, m.member_group_id) as text)`, test);
}

function sortOrder(sort: QuerySort): RawBuilder<unknown> {
  const key = sort.key as GroupColumnKey;
  const column = sql.ref(`groups.${GROUP_COLUMNS[key]}`);
  if (key === 'created' || key === 'lastModified') return plainSortSql(column, sort);
  return textSortSql(key === 'id' ? sql<string>`cast(${column} as text)` : sql<string>`${column}`, sort);
}
