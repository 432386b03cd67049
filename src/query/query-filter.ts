import { type Expression, type RawBuilder, type SqlBool, sql } from 'kysely';

/**
 * A resource-neutral query language between the SCIM layer and storage. The SCIM layer resolves a parsed
 * filter (src/scim/filter-parser.ts) against a resource's schema into a QueryFilter whose leaves name
 * storage keys (a column, a claim URI, a multi-valued attribute); each resource's repository supplies
 * FilterSources that turn those leaves into SQL. Users and Groups share everything but their sources.
 *
 * Semantics, fixed here for every resource:
 * - `test` on a singular attribute is false when the attribute is absent (so `not` of it matches absence);
 * - `some` is "one item of the multi-valued attribute satisfies the whole item filter" (RFC 7644 3.4.2.2
 *   value filters); an item filter's `test` is false when the item lacks that sub-attribute;
 * - booleans absent read as false; text comparisons are case-insensitive unless caseExact; ordering uses
 *   code point order ("C" collation), the same on every server.
 */

export type TextOperator = 'eq' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type TimeOperator = 'eq' | 'gt' | 'ge' | 'lt' | 'le';

export type ValueTest =
  | { kind: 'present' }
  | { kind: 'text'; op: TextOperator; value: string; caseExact: boolean }
  | { kind: 'boolean'; value: boolean }
  /** `value` is a normalised ISO 8601 timestamp PostgreSQL accepts. */
  | { kind: 'time'; op: TimeOperator; value: string };

/** Constants and connectives over leaves: the shape both filters share. */
export type FilterTree<Leaf> =
  | { kind: 'const'; value: boolean }
  | { kind: 'and' | 'or'; filters: FilterTree<Leaf>[] }
  | { kind: 'not'; filter: FilterTree<Leaf> }
  | Leaf;

/** A filter on the sub-attributes of one item of a multi-valued attribute. */
export type ItemFilter = FilterTree<{ kind: 'test'; sub: string; test: ValueTest }>;

export type QueryFilter = FilterTree<
  /** A singular attribute, by storage key. */
  | { kind: 'test'; key: string; test: ValueTest }
  /** Some item of a multi-valued attribute, by storage key. */
  | { kind: 'some'; key: string; filter: ItemFilter }
>;

/** `sortBy` resolved: a singular attribute, or a multi-valued one by its primary (else first) `value`. */
export interface QuerySort {
  key: string;
  multiValued: boolean;
  caseExact: boolean;
  descending: boolean;
}

export interface FilterSources {
  test(key: string, test: ValueTest): Expression<SqlBool>;
  some(key: string, filter: ItemFilter): Expression<SqlBool>;
  /** One ORDER BY item (direction included); ties are broken by the caller. */
  sortOrder(sort: QuerySort): RawBuilder<unknown>;
}

/** The WHERE condition for `filter`; every literal is a bound parameter. */
export function filterToSql(filter: QueryFilter, sources: FilterSources): Expression<SqlBool> {
  return treeToSql(filter, (leaf) =>
    leaf.kind === 'test' ? sources.test(leaf.key, leaf.test) : sources.some(leaf.key, leaf.filter),
  );
}

/** An item filter, given how one sub-attribute of the current item is tested. */
export function itemFilterToSql(
  filter: ItemFilter,
  testSub: (sub: string, test: ValueTest) => Expression<SqlBool>,
): Expression<SqlBool> {
  return treeToSql(filter, (leaf) => testSub(leaf.sub, leaf.test));
}

/** Constants and connectives the same way for both filters; leaves as `leafSql` says. */
function treeToSql<Leaf extends { kind: 'test' | 'some' }>(
  tree: FilterTree<Leaf>,
  leafSql: (leaf: Leaf) => Expression<SqlBool>,
): Expression<SqlBool> {
  switch (tree.kind) {
    case 'const':
      return sql<SqlBool>`${sql.lit(tree.value)}`;
    case 'and':
    case 'or':
      return joinSql(
        tree.kind,
        tree.filters.map((child) => treeToSql(child, leafSql)),
      );
    case 'not':
      return sql<SqlBool>`not (${treeToSql(tree.filter, leafSql)})`;
    default:
      // TypeScript does not narrow a generic union by its tag: what is left is a leaf.
      return leafSql(tree as Leaf);
  }
}

function joinSql(kind: 'and' | 'or', parts: Expression<SqlBool>[]): RawBuilder<SqlBool> {
  if (parts.length === 0) return sql<SqlBool>`${sql.lit(kind === 'and')}`;
  return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${kind} `))})`;
}

const ORDER_OPERATORS: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };
const TIME_OPERATORS: Record<TimeOperator, string> = { eq: '=', ...ORDER_OPERATORS };

/**
 * A test on a stored text value (booleans as 'true'/'false', times as ISO text cast to timestamptz).
 * Case-insensitive tests compare lower(value) with lower(literal), both lowered by the database, so that
 * the `(…, lower(value) text_pattern_ops)` indexes serve eq and sw.
 */
export function textValueTestSql(value: Expression<string>, test: ValueTest): RawBuilder<SqlBool> {
  switch (test.kind) {
    case 'present':
      return sql<SqlBool>`${value} <> ''`;
    case 'boolean':
      return sql<SqlBool>`${value} = ${String(test.value)}`;
    case 'time':
      return sql<SqlBool>`cast(${value} as timestamptz) ${sql.raw(TIME_OPERATORS[test.op])} cast(${test.value} as timestamptz)`;
    case 'text':
      return textComparisonSql(value, test);
  }
}

export function textComparisonSql(
  value: Expression<string>,
  test: Extract<ValueTest, { kind: 'text' }>,
): RawBuilder<SqlBool> {
  const literal =
    test.op === 'co' || test.op === 'sw' || test.op === 'ew' ? likePattern(test.op, test.value) : test.value;
  const left = test.caseExact ? sql`${value}` : sql`lower(${value})`;
  const right = test.caseExact ? sql`cast(${literal} as text)` : sql`lower(cast(${literal} as text))`;
  switch (test.op) {
    case 'eq':
      return sql<SqlBool>`${left} = ${right}`;
    case 'co':
    case 'sw':
    case 'ew':
      return sql<SqlBool>`${left} like ${right}`;
    default:
      return sql<SqlBool>`${left} collate "C" ${sql.raw(ORDER_OPERATORS[test.op])} ${right}`;
  }
}

/** For timestamp columns. */
export function timeComparisonSql(
  column: Expression<unknown>,
  test: Extract<ValueTest, { kind: 'time' }>,
): RawBuilder<SqlBool> {
  return sql<SqlBool>`${column} ${sql.raw(TIME_OPERATORS[test.op])} cast(${test.value} as timestamptz)`;
}

/** LIKE pattern with the literal's own `%`, `_` and `\` escaped (backslash is PostgreSQL's default escape). */
function likePattern(op: 'co' | 'sw' | 'ew', value: string): string {
  const escaped = value.replace(/[\\%_]/g, (char) => `\\${char}`);
  if (op === 'sw') return `${escaped}%`;
  if (op === 'ew') return `%${escaped}`;
  return `%${escaped}%`;
}

/**
 * ORDER BY for a text sort key: code point order, case folded unless caseExact; unassigned values last when
 * ascending and first when descending (RFC 7644 section 3.4.2.3), which is PostgreSQL's default.
 */
export function textSortSql(value: Expression<string>, sort: QuerySort): RawBuilder<unknown> {
  const folded = sort.caseExact ? sql`${value}` : sql`lower(${value})`;
  return sql`${folded} collate "C" ${sql.raw(sort.descending ? 'desc' : 'asc')}`;
}

/** ORDER BY for a non-text sort key (boolean, timestamp). */
export function plainSortSql(value: Expression<unknown>, sort: QuerySort): RawBuilder<unknown> {
  return sql`${value} ${sql.raw(sort.descending ? 'desc' : 'asc')}`;
}
