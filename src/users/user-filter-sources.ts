import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';
import {
  type FilterSources,
  type ItemFilter,
  itemFilterToSql,
  plainSortSql,
  type QuerySort,
  textComparisonSql,
  textSortSql,
  textValueTestSql,
  timeComparisonSql,
  type ValueTest,
} from '../query/query-filter.js';
import { isUuid } from '../shared/values.js';
import { COLUMN_ATTRIBUTES, LIST_CLAIMS, LIST_SEPARATOR } from './claims.js';

/**
 * The SQL behind each storage key a users QueryFilter can name (see src/query/query-filter.ts):
 * - columns of `users` (id, userName, active, meta.created, meta.lastModified);
 * - singular claims, by URI: EXISTS a user_claims row (claim_uri, value) — indexed on (claim_uri, lower(value));
 * - multi-valued attributes, by name: EXISTS user_values rows — indexed on (attribute, sub_attribute, lower(value));
 * - the WSO2 mobile lists, by claim URI: items of the comma-joined claim.
 * Booleans are stored as text ('true'/'false'); an absent one reads as false.
 */

/** Multi-valued attributes stored outside user_values (the Groups module adds `groups`). */
export type ItemSource = (filter: ItemFilter) => Expression<SqlBool>;

export interface UserFilterSourcesOptions {
  extraItemSources?: ReadonlyMap<string, ItemSource>;
}

const TRUE_TEXT = 'true';

export function createUserFilterSources(options: UserFilterSourcesOptions = {}): FilterSources {
  return {
    test: (key, test) => (key in COLUMN_ATTRIBUTES ? columnTest(key, test) : claimTest(key, test)),
    some: (key, filter) => {
      const extra = options.extraItemSources?.get(key);
      if (extra !== undefined) return extra(filter);
      return LIST_CLAIMS.has(key) ? listSome(key, filter) : valuesSome(key, filter);
    },
    sortOrder: (sort) => sortOrder(sort),
  };
}

function columnTest(key: string, test: ValueTest): Expression<SqlBool> {
  switch (key) {
    case 'id':
      return idTest(test);
    case 'userName':
      return textValueTestSql(sql<string>`${sql.ref('users.user_name')}`, test);
    case 'active':
      return test.kind === 'boolean' ? sql<SqlBool>`${sql.ref('users.active')} = ${test.value}` : sql<SqlBool>`true`;
    default: {
      const column = sql.ref(`users.${COLUMN_ATTRIBUTES[key as keyof typeof COLUMN_ATTRIBUTES]}`);
      return test.kind === 'time' ? timeComparisonSql(column, test) : sql<SqlBool>`true`;
    }
  }
}

/** `id` eq a UUID uses the primary key; other tests compare its text form (hex case carries no meaning). */
function idTest(test: ValueTest): Expression<SqlBool> {
  if (test.kind !== 'text') return sql<SqlBool>`true`;
  if (test.op === 'eq' && isUuid(test.value)) return sql<SqlBool>`${sql.ref('users.id')} = ${test.value.toLowerCase()}`;
  return textComparisonSql(sql<string>`cast(${sql.ref('users.id')} as text)`, {
    ...test,
    value: test.value.toLowerCase(),
  });
}

function claimTest(uri: string, test: ValueTest): Expression<SqlBool> {
  // An absent boolean is false: `eq false` is "no row saying true".
  if (test.kind === 'boolean' && !test.value) {
    return sql<SqlBool>`not ${claimExists(uri, { kind: 'boolean', value: true })}`;
  }
  return claimExists(uri, test);
}

function claimExists(uri: string, test: ValueTest): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from user_claims c where c.user_id = ${sql.ref('users.id')} and c.claim_uri = ${uri} and ${textValueTestSql(sql<string>`c.value`, test)})`;
}

function listSome(uri: string, filter: ItemFilter): Expression<SqlBool> {
  const item = sql<string>`trim(list_item.item)`;
  const predicate = itemFilterToSql(filter, (_sub, test) => textValueTestSql(item, test));
  return sql<SqlBool>`exists (select 1 from user_claims c where c.user_id = ${sql.ref('users.id')} and c.claim_uri = ${uri} and exists (select 1 from unnest(string_to_array(c.value, ${LIST_SEPARATOR})) as list_item(item) where ${predicate}))`;
}

function valuesSome(attribute: string, filter: ItemFilter): Expression<SqlBool> {
  // The common case, one positive test on one sub-attribute, goes straight to the (attribute, sub_attribute, value) index.
  if (filter.kind === 'test' && !(filter.test.kind === 'boolean' && !filter.test.value)) {
    return sql<SqlBool>`exists (select 1 from user_values v where v.user_id = ${sql.ref('users.id')} and v.attribute = ${attribute} and v.sub_attribute = ${filter.sub} and ${textValueTestSql(sql<string>`v.value`, filter.test)})`;
  }
  const predicate = itemFilterToSql(filter, (sub, test) => itemSubTest(sub, test));
  return sql<SqlBool>`exists (select 1 from user_values item where item.user_id = ${sql.ref('users.id')} and item.attribute = ${attribute} and ${predicate})`;
}

function itemSubTest(sub: string, test: ValueTest): Expression<SqlBool> {
  if (test.kind === 'boolean' && !test.value) {
    return sql<SqlBool>`not ${itemSubExists(sub, { kind: 'boolean', value: true })}`;
  }
  return itemSubExists(sub, test);
}

function itemSubExists(sub: string, test: ValueTest): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from user_values s where s.user_id = item.user_id and s.attribute = item.attribute and s.ordinal = item.ordinal and s.sub_attribute = ${sub} and ${textValueTestSql(sql<string>`s.value`, test)})`;
}

function sortOrder(sort: QuerySort): RawBuilder<unknown> {
  if (sort.key in COLUMN_ATTRIBUTES) {
    if (sort.key === 'userName') return textSortSql(sql<string>`${sql.ref('users.user_name')}`, sort);
    if (sort.key === 'id') return textSortSql(sql<string>`cast(${sql.ref('users.id')} as text)`, sort);
    return plainSortSql(sql.ref(`users.${COLUMN_ATTRIBUTES[sort.key as keyof typeof COLUMN_ATTRIBUTES]}`), sort);
  }
  if (!sort.multiValued) {
    return textSortSql(
      sql<string>`(select c.value from user_claims c where c.user_id = ${sql.ref('users.id')} and c.claim_uri = ${sort.key})`,
      sort,
    );
  }
  if (LIST_CLAIMS.has(sort.key)) {
    return textSortSql(
      sql<string>`(select trim(split_part(c.value, ${LIST_SEPARATOR}, 1)) from user_claims c where c.user_id = ${sql.ref('users.id')} and c.claim_uri = ${sort.key})`,
      sort,
    );
  }
  // RFC 7644 3.4.2.3: a multi-valued attribute sorts by its primary value, else its first.
  return textSortSql(
    sql<string>`(select v.value from user_values v left join user_values p on p.user_id = v.user_id and p.attribute = v.attribute and p.ordinal = v.ordinal and p.sub_attribute = 'primary' and p.value = ${TRUE_TEXT} where v.user_id = ${sql.ref('users.id')} and v.attribute = ${sort.key} and v.sub_attribute = 'value' order by p.ordinal is null, v.ordinal limit 1)`,
    sort,
  );
}
