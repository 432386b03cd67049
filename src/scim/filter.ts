import { type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database } from '../db/database.js';
import { isUuid } from '../shared/values.js';
import { LIST_SEPARATOR } from '../users/claims.js';
import {
  type ColumnAttribute,
  type ComplexAttribute,
  type ComplexItem,
  type ComplexSubAttribute,
  findSubAttribute,
  type ListAttribute,
  resolveAttributePath,
  type ScalarType,
  type StaticValue,
} from './filter-attributes.js';
import {
  type AttributeExpression,
  type CompareOperator,
  type FilterExpression,
  invalidFilter,
  parseFilter,
  quoted,
} from './filter-parser.js';

/**
 * SCIM filters on Users (RFC 7644 section 3.4.2.2) translated to SQL.
 *
 * Parsing is src/scim/filter-parser.ts's (shared with PATCH paths and `attributes=`).
 *
 * Semantics chosen where the RFC leaves room:
 * - `ne` is `not eq`: a resource without the attribute is "not equal" and matches, for columns,
 *   claims and list items alike; `eq null` means absent and `ne null` present.
 * - Boolean claims (phoneVerified) are stored only when true, so absent reads as false.
 * - A value filter `attr[...]` matches when one item satisfies the whole sub-filter. Items are the
 *   claims of one type (at most one row per user and claim), so the types the sub-filter allows are
 *   resolved here and only the value comparisons reach SQL.
 * - `id` is compared as text; hex case carries no meaning in a UUID, so the literal is lower-cased.
 * - String ordering (gt/ge/lt/le) uses the "C" collation: code point order, the same on every server.
 */

export { MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from './filter-parser.js';

type TextOperator = Exclude<CompareOperator, 'ne'>;
type TimeOperator = 'eq' | 'gt' | 'ge' | 'lt' | 'le';
type Syntax = FilterExpression;
type AttributeSyntax = AttributeExpression;

// ---------------------------------------------------------------------------------------------
// Resolved filter

/** A test on one text value (a claim value, a list item or a column); 'any': the claim row exists. */
type ValueTest =
  | { kind: 'any' }
  | { kind: 'present' }
  | { kind: 'text'; op: TextOperator; value: string; caseExact: boolean };

type ValuePredicate =
  | ValueTest
  | { kind: 'and' | 'or'; predicates: ValuePredicate[] }
  | { kind: 'not'; predicate: ValuePredicate };

type FilterNode =
  | { kind: 'const'; value: boolean }
  | { kind: 'and' | 'or'; nodes: FilterNode[] }
  | { kind: 'not'; node: FilterNode }
  /** EXISTS a claim row of the user with one of `uris` (for lists: an item of it) satisfying `predicate`. */
  | { kind: 'claim'; uris: string[]; list: boolean; predicate: ValuePredicate }
  | { kind: 'textColumn'; column: 'user_name' | 'id'; test: ValueTest }
  | { kind: 'uuid'; value: string }
  | { kind: 'booleanColumn'; column: 'active'; value: boolean }
  | { kind: 'timeColumn'; column: 'created_at' | 'updated_at'; op: TimeOperator; value: string };

/** A validated filter, ready for SQL. */
export type UserFilter = FilterNode;

/** A comparison checked against the attribute's type; `negated` carries `ne` and `eq null`. */
type Condition =
  | { kind: 'present' }
  | { kind: 'text'; op: TextOperator; value: string; caseExact: boolean }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'time'; op: TimeOperator; value: string };

interface Comparison {
  negated: boolean;
  condition: Condition;
}

interface Scalar {
  name: string;
  type: ScalarType;
  caseExact: boolean;
}

const TRUE: FilterNode = { kind: 'const', value: true };
const FALSE: FilterNode = { kind: 'const', value: false };

/** Parses and validates; every error is an INVALID_FILTER AppError, raised before any SQL exists. */
export function parseUserFilter(filter: string): UserFilter {
  return simplify(resolve(parseFilter(filter)));
}

function resolve(syntax: Syntax): FilterNode {
  switch (syntax.kind) {
    case 'and':
    case 'or':
      return { kind: syntax.kind, nodes: syntax.filters.map(resolve) };
    case 'not':
      return { kind: 'not', node: resolve(syntax.filter) };
    case 'valuePath':
      return resolveValuePath(syntax.path, syntax.filter);
    default:
      return resolveAttributeExpression(syntax);
  }
}

function resolveAttributeExpression(syntax: AttributeSyntax): FilterNode {
  const { attribute, subAttribute } = resolveAttributePath(syntax.path);
  switch (attribute.kind) {
    case 'column':
      return negate(comparison(syntax, attribute), (condition) => columnNode(attribute, condition));
    case 'claim':
      return negate(comparison(syntax, attribute), (condition) => claimNode(attribute.uri, false, condition));
    case 'list':
      return negate(comparison(syntax, attribute), (condition) => claimNode(attribute.uri, true, condition));
    case 'complex':
      return resolveComplex(attribute, subAttribute, syntax);
  }
}

function negate(comparison: Comparison, build: (condition: Condition) => FilterNode): FilterNode {
  const node = build(comparison.condition);
  return comparison.negated ? { kind: 'not', node } : node;
}

/** Checks operator and value against the attribute type. */
function comparison(syntax: AttributeSyntax, scalar: Scalar): Comparison {
  if (syntax.kind === 'present') return { negated: false, condition: { kind: 'present' } };
  const { op, value } = syntax;
  if (value === null) {
    if (op === 'eq' || op === 'ne') return { negated: op === 'eq', condition: { kind: 'present' } };
    throw invalidFilter(`Operator '${op}' cannot compare ${quoted(syntax.path)} with null`);
  }
  const positive = op === 'ne' ? 'eq' : op;
  return { negated: op === 'ne', condition: condition(syntax.path, scalar, positive, value) };
}

function condition(path: string, scalar: Scalar, op: TextOperator, value: string | number | boolean): Condition {
  if (scalar.type === 'boolean') {
    if (op !== 'eq') throw unsupportedOperator(op, path, scalar.type);
    if (typeof value !== 'boolean')
      throw invalidFilter(`Attribute ${quoted(path)} must be compared with true or false`);
    return { kind: 'boolean', value };
  }
  if (typeof value !== 'string') throw invalidFilter(`Attribute ${quoted(path)} must be compared with a string`);
  if (scalar.type === 'dateTime') {
    if (op === 'co' || op === 'sw' || op === 'ew') throw unsupportedOperator(op, path, scalar.type);
    const time = normalizeDateTime(value);
    if (time === undefined) throw invalidFilter(`Invalid dateTime ${quoted(value)} for ${quoted(path)}`);
    return { kind: 'time', op, value: time };
  }
  return { kind: 'text', op, value, caseExact: scalar.caseExact };
}

function unsupportedOperator(op: string, path: string, type: ScalarType): never {
  throw invalidFilter(`Operator '${op}' is not supported for ${type} attribute ${quoted(path)}`);
}

function columnNode(attribute: ColumnAttribute, condition: Condition): FilterNode {
  const { column } = attribute;
  if (condition.kind === 'present') return column === 'user_name' ? textColumn(column, { kind: 'present' }) : TRUE;
  if (condition.kind === 'boolean' && column === 'active') {
    return { kind: 'booleanColumn', column, value: condition.value };
  }
  if (condition.kind === 'time' && (column === 'created_at' || column === 'updated_at')) {
    return { kind: 'timeColumn', column, op: condition.op, value: condition.value };
  }
  if (condition.kind === 'text' && column === 'id') return idNode(condition);
  if (condition.kind === 'text' && column === 'user_name') return textColumn(column, condition);
  throw invalidFilter(`Attribute ${quoted(attribute.name)} cannot be filtered this way`);
}

function textColumn(column: 'user_name' | 'id', test: ValueTest): FilterNode {
  return { kind: 'textColumn', column, test };
}

function idNode(condition: Extract<Condition, { kind: 'text' }>): FilterNode {
  const value = condition.value.toLowerCase();
  // Equality through the uuid primary key; a literal that is no UUID cannot equal any id.
  if (condition.op === 'eq') return isUuid(value) ? { kind: 'uuid', value } : FALSE;
  return textColumn('id', { ...condition, value, caseExact: true });
}

/** Boolean claims hold 'true'; anything else, including no claim at all, reads as false. */
function claimNode(uri: string, list: boolean, condition: Condition): FilterNode {
  if (condition.kind !== 'boolean') return { kind: 'claim', uris: [uri], list, predicate: claimTest(condition) };
  const node: FilterNode = { kind: 'claim', uris: [uri], list, predicate: TRUE_CLAIM };
  return condition.value ? node : { kind: 'not', node };
}

const TRUE_CLAIM: ValueTest = { kind: 'text', op: 'eq', value: 'true', caseExact: true };

function claimTest(condition: Condition): ValueTest {
  if (condition.kind === 'present' || condition.kind === 'text') return condition;
  // Claims and list items hold strings; only column attributes are typed otherwise.
  throw invalidFilter(`A ${condition.kind} comparison is not supported here`);
}

/**
 * Outside brackets `emails.value op x` (or `emails op x`) means "some item has a value op x".
 * `ne` and `eq null` negate that whole test, so users without any item match them.
 */
function resolveComplex(
  attribute: ComplexAttribute,
  subAttribute: ComplexSubAttribute | undefined,
  syntax: AttributeSyntax,
): FilterNode {
  if (syntax.kind === 'compare' && (syntax.value === null || syntax.op === 'ne')) {
    if (syntax.value === null && syntax.op !== 'eq' && syntax.op !== 'ne') {
      throw invalidFilter(`Operator '${syntax.op}' cannot compare ${quoted(syntax.path)} with null`);
    }
    const positive: AttributeSyntax =
      syntax.value === null ? { kind: 'present', path: syntax.path } : { ...syntax, op: 'eq' };
    const node = resolveComplex(attribute, subAttribute, positive);
    return syntax.value === null && syntax.op === 'ne' ? node : { kind: 'not', node };
  }
  if (subAttribute !== undefined) return expandItems(attribute, { ...syntax, path: subAttribute.name });
  if (syntax.kind === 'present') return expandItems(attribute, undefined);
  // RFC 7644: a multi-valued attribute compared without sub-attribute means its "value".
  if (attribute.subAttributes.some((sub) => sub.name === 'value')) {
    return expandItems(attribute, { ...syntax, path: 'value' });
  }
  throw invalidFilter(`Complex attribute ${quoted(syntax.path)} needs a sub-attribute`);
}

function resolveValuePath(path: string, filter: Syntax): FilterNode {
  const { attribute, subAttribute } = resolveAttributePath(path);
  if (subAttribute === undefined && attribute.kind === 'complex') return expandItems(attribute, filter);
  if (attribute.kind === 'list') {
    return { kind: 'claim', uris: [attribute.uri], list: true, predicate: listPredicate(attribute, filter) };
  }
  throw invalidFilter(`Attribute ${quoted(path)} does not take a value filter`);
}

/** A value filter on a list: every comparison is on the same item (RFC 7644 names it "value"). */
function listPredicate(attribute: ListAttribute, syntax: Syntax): ValuePredicate {
  switch (syntax.kind) {
    case 'and':
    case 'or':
      return { kind: syntax.kind, predicates: syntax.filters.map((filter) => listPredicate(attribute, filter)) };
    case 'not':
      return { kind: 'not', predicate: listPredicate(attribute, syntax.filter) };
    case 'valuePath':
      throw invalidFilter(`Value filters cannot be nested (${quoted(syntax.path)})`);
    default: {
      if (syntax.path.toLowerCase() !== 'value') {
        throw invalidFilter(`Unknown attribute ${quoted(`${attribute.name}.${syntax.path}`)} in filter`);
      }
      const { negated, condition } = comparison(syntax, attribute);
      const test = claimTest(condition);
      return negated ? { kind: 'not', predicate: test } : test;
    }
  }
}

/**
 * `attr[filter]` as "some item satisfies filter": one branch per possible item, with the item's
 * type and primary flag known, so only its claims are left to test. `filter` undefined: the item exists.
 */
function expandItems(attribute: ComplexAttribute, filter: Syntax | undefined): FilterNode {
  const branches = attribute.items.map((item): FilterNode => {
    const exists: FilterNode = {
      kind: 'claim',
      uris: [...item.claims.values()],
      list: false,
      predicate: { kind: 'any' },
    };
    return filter === undefined ? exists : { kind: 'and', nodes: [exists, resolveInItem(attribute, item, filter)] };
  });
  return { kind: 'or', nodes: branches };
}

function resolveInItem(attribute: ComplexAttribute, item: ComplexItem, syntax: Syntax): FilterNode {
  switch (syntax.kind) {
    case 'and':
    case 'or':
      return { kind: syntax.kind, nodes: syntax.filters.map((filter) => resolveInItem(attribute, item, filter)) };
    case 'not':
      return { kind: 'not', node: resolveInItem(attribute, item, syntax.filter) };
    case 'valuePath':
      throw invalidFilter(`Value filters cannot be nested (${quoted(syntax.path)})`);
    default:
      return resolveItemComparison(attribute, item, syntax);
  }
}

function resolveItemComparison(attribute: ComplexAttribute, item: ComplexItem, syntax: AttributeSyntax): FilterNode {
  if (syntax.path.includes('.') || syntax.path.includes(':')) {
    throw invalidFilter(`Use a plain sub-attribute name inside ${attribute.name}[...], not ${quoted(syntax.path)}`);
  }
  const sub = findSubAttribute(attribute, syntax.path, `${attribute.name}.${syntax.path}`);
  const path = `${attribute.name}.${sub.name}`;
  const checked = comparison({ ...syntax, path }, sub);
  return negate(checked, (condition) => {
    if (sub.source === 'static') return { kind: 'const', value: matchesStatic(condition, item.statics.get(sub.name)) };
    const uri = item.claims.get(sub.name);
    return uri === undefined ? FALSE : claimNode(uri, false, condition);
  });
}

function matchesStatic(condition: Condition, value: StaticValue | undefined): boolean {
  if (value === null || value === undefined) return false;
  switch (condition.kind) {
    case 'present':
      return value !== '';
    case 'boolean':
      return value === condition.value;
    case 'text':
      return typeof value === 'string' && compareText(condition, value);
    case 'time':
      return false;
  }
}

function compareText(condition: Extract<Condition, { kind: 'text' }>, actual: string): boolean {
  const left = condition.caseExact ? actual : actual.toLowerCase();
  const right = condition.caseExact ? condition.value : condition.value.toLowerCase();
  const checks: Record<TextOperator, () => boolean> = {
    eq: () => left === right,
    co: () => left.includes(right),
    sw: () => left.startsWith(right),
    ew: () => left.endsWith(right),
    gt: () => left > right,
    ge: () => left >= right,
    lt: () => left < right,
    le: () => left <= right,
  };
  return checks[condition.op]();
}

// ---------------------------------------------------------------------------------------------
// dateTime literals: checked here so that PostgreSQL never sees one it would reject.

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function normalizeDateTime(text: string): string | undefined {
  const match = DATE_TIME.exec(text);
  if (match === null) return undefined;
  const [, year = '', month = '', day = '', hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] =
    match;
  const valid =
    Number(year) >= 1 &&
    isInRange(month, 1, 12) &&
    isInRange(day, 1, daysInMonth(Number(year), Number(month))) &&
    isInRange(hour, 0, 23) &&
    isInRange(minute, 0, 59) &&
    isInRange(second, 0, 59) &&
    (zone.length === 1 || (isInRange(zone.slice(1, 3), 0, 15) && isInRange(zone.slice(4, 6), 0, 59)));
  return valid ? `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${zone.toUpperCase()}` : undefined;
}

function isInRange(digits: string, min: number, max: number): boolean {
  const value = Number(digits);
  return value >= min && value <= max;
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Simplification: fold the constants left by item expansion and merge claim tests into one EXISTS.

function simplify(node: FilterNode): FilterNode {
  switch (node.kind) {
    case 'and':
      return simplifyAnd(flatten('and', node.nodes.map(simplify)));
    case 'or':
      return simplifyOr(flatten('or', node.nodes.map(simplify)));
    case 'not': {
      const inner = simplify(node.node);
      if (inner.kind === 'const') return { kind: 'const', value: !inner.value };
      return inner.kind === 'not' ? inner.node : { kind: 'not', node: inner };
    }
    default:
      return node;
  }
}

function flatten(kind: 'and' | 'or', nodes: FilterNode[]): FilterNode[] {
  return nodes.flatMap((node) => (node.kind === kind ? node.nodes : [node]));
}

function simplifyAnd(nodes: FilterNode[]): FilterNode {
  if (nodes.some((node) => node.kind === 'const' && !node.value)) return FALSE;
  const rest = nodes.filter((node) => node.kind !== 'const');
  // "The item exists" is implied by any test on one of its claims (one row per user and claim).
  const needed = rest.filter((node) => !isImpliedExistence(node, rest));
  return combine('and', absorbNegatedClaims(needed), TRUE);
}

type ClaimNode = FilterNode & { kind: 'claim' };
type NegatedClaim = { kind: 'not'; node: ClaimNode };

/** EXISTS(claim u) and NOT EXISTS(claim u, P) = EXISTS(claim u, not P): a user has one row per claim. */
function absorbNegatedClaims(nodes: readonly FilterNode[]): FilterNode[] {
  const absorbed = new Set<FilterNode>();
  const result = nodes.map((node): FilterNode => {
    const [uri, ...others] = node.kind === 'claim' ? node.uris : [];
    if (node.kind !== 'claim' || node.list || node.predicate.kind !== 'any' || uri === undefined || others.length > 0) {
      return node;
    }
    const negated = nodes.find(
      (other): other is NegatedClaim =>
        other.kind === 'not' &&
        other.node.kind === 'claim' &&
        !other.node.list &&
        other.node.uris.length === 1 &&
        other.node.uris[0] === uri &&
        !absorbed.has(other),
    );
    if (negated === undefined) return node;
    absorbed.add(negated);
    return { ...node, predicate: { kind: 'not', predicate: negated.node.predicate } };
  });
  return result.filter((node) => !absorbed.has(node));
}

function isImpliedExistence(node: FilterNode, siblings: readonly FilterNode[]): boolean {
  if (node.kind !== 'claim' || node.list || node.predicate.kind !== 'any') return false;
  return siblings.some(
    (other) =>
      other !== node && other.kind === 'claim' && !other.list && other.uris.every((uri) => node.uris.includes(uri)),
  );
}

function simplifyOr(nodes: FilterNode[]): FilterNode {
  if (nodes.some((node) => node.kind === 'const' && node.value)) return TRUE;
  const merged: FilterNode[] = [];
  const claimsByTest = new Map<string, ClaimNode>();
  for (const node of nodes) {
    if (node.kind === 'const') continue;
    if (node.kind !== 'claim') {
      merged.push(node);
      continue;
    }
    // EXISTS(uri a, test) or EXISTS(uri b, test) = EXISTS(uri in (a, b), test)
    const key = JSON.stringify([node.list, node.predicate]);
    const existing = claimsByTest.get(key);
    if (existing === undefined) {
      const copy = { ...node, uris: [...node.uris] };
      claimsByTest.set(key, copy);
      merged.push(copy);
    } else {
      existing.uris.push(...node.uris.filter((uri) => !existing.uris.includes(uri)));
    }
  }
  return combine('or', merged, FALSE);
}

function combine(kind: 'and' | 'or', nodes: FilterNode[], empty: FilterNode): FilterNode {
  const [only] = nodes;
  if (only === undefined) return empty;
  return nodes.length === 1 ? only : { kind, nodes };
}

// ---------------------------------------------------------------------------------------------
// SQL

type UsersExpressionBuilder = ExpressionBuilder<Database, 'users'>;

/** For `db.selectFrom('users').where(userFilterToWhere(filter))`; every literal is a bound parameter. */
export function userFilterToWhere(filter: UserFilter): (eb: UsersExpressionBuilder) => Expression<SqlBool> {
  return (eb) => toSql(eb, filter);
}

function toSql(eb: UsersExpressionBuilder, node: FilterNode): Expression<SqlBool> {
  switch (node.kind) {
    case 'const':
      return eb.lit(node.value);
    case 'and':
      return eb.and(node.nodes.map((child) => toSql(eb, child)));
    case 'or':
      return eb.or(node.nodes.map((child) => toSql(eb, child)));
    case 'not':
      return eb.not(toSql(eb, node.node));
    case 'claim':
      return claimExists(eb, node);
    case 'textColumn': {
      const column =
        node.column === 'id'
          ? sql<string>`cast(${sql.ref('users.id')} as text)`
          : sql<string>`${sql.ref('users.user_name')}`;
      return valueTestSql(column, node.test);
    }
    case 'uuid':
      return eb('users.id', '=', node.value);
    case 'booleanColumn':
      return eb(`users.${node.column}`, '=', node.value);
    case 'timeColumn':
      return sql<SqlBool>`${sql.ref(`users.${node.column}`)} ${sql.raw(TIME_OPERATORS[node.op])} cast(${node.value} as timestamptz)`;
  }
}

const TIME_OPERATORS: Record<TimeOperator, string> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' };
const ORDER_OPERATORS: Record<'gt' | 'ge' | 'lt' | 'le', string> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

function claimExists(eb: UsersExpressionBuilder, node: ClaimNode): Expression<SqlBool> {
  const rows = eb
    .selectFrom('user_claims as c')
    .select(eb.lit(1).as('one'))
    .whereRef('c.user_id', '=', 'users.id')
    .where('c.claim_uri', 'in', node.uris);
  if (node.predicate.kind === 'any') return eb.exists(rows);
  const value = sql<string>`${sql.ref('c.value')}`;
  const predicate = node.list
    ? sql<SqlBool>`exists (select 1 from unnest(string_to_array(${value}, ${LIST_SEPARATOR})) as list_item(item) where ${predicateSql(sql<string>`trim(list_item.item)`, node.predicate)})`
    : predicateSql(value, node.predicate);
  return eb.exists(rows.where(predicate));
}

function predicateSql(value: Expression<string>, predicate: ValuePredicate): RawBuilder<SqlBool> {
  switch (predicate.kind) {
    case 'and':
    case 'or': {
      const parts = predicate.predicates.map((part) => predicateSql(value, part));
      return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${predicate.kind} `))})`;
    }
    case 'not':
      return sql<SqlBool>`not (${predicateSql(value, predicate.predicate)})`;
    default:
      return valueTestSql(value, predicate);
  }
}

/**
 * Case-insensitive tests compare lower(value) with lower(literal), both lowered by the database,
 * so that `(claim_uri, lower(value) text_pattern_ops)` serves eq and sw.
 */
function valueTestSql(value: Expression<string>, test: ValueTest): RawBuilder<SqlBool> {
  if (test.kind === 'any') return sql<SqlBool>`true`;
  if (test.kind === 'present') return sql<SqlBool>`${value} <> ''`;
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

/** LIKE pattern with the literal's own `%`, `_` and `\` escaped (backslash is PostgreSQL's default escape). */
function likePattern(op: 'co' | 'sw' | 'ew', value: string): string {
  const escaped = value.replace(/[\\%_]/g, (char) => `\\${char}`);
  if (op === 'sw') return `${escaped}%`;
  if (op === 'ew') return `%${escaped}`;
  return `%${escaped}%`;
}
