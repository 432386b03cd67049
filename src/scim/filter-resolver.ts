import type { AppError } from '../errors/app-error.js';
import type {
  ItemFilter,
  QueryFilter,
  QuerySort,
  TextOperator,
  TimeOperator,
  ValueTest,
} from '../query/query-filter.js';
import {
  type AttributeExpression,
  type ComparisonValue,
  type FilterExpression,
  invalidFilter,
  quoted,
} from './filter-parser.js';

/**
 * Resolves a parsed SCIM filter (src/scim/filter-parser.ts) against one resource type's attributes into the
 * storage-neutral QueryFilter (src/query/query-filter.ts). Resource-agnostic: Users and Groups differ only in
 * their FilterCatalog, which says which storage key and type each attribute path has.
 *
 * Semantics chosen where the RFC leaves room:
 * - `ne` is `not eq`: a resource without the attribute is "not equal" and matches; `eq null` means absent,
 *   `ne null` present;
 * - a multi-valued attribute compared without a sub-attribute means its `value` (RFC 7644 3.4.2.2);
 * - `attr.sub op x` on a multi-valued attribute is "some item's sub op x", `attr[...]` "some item satisfies
 *   the whole bracket".
 */

export type FilterValueType = 'string' | 'boolean' | 'dateTime';

export interface ScalarAttribute {
  kind: 'scalar';
  /** How storage names it (a column, a claim URI, ...). */
  key: string;
  type: FilterValueType;
  caseExact: boolean;
}

export interface SubAttribute {
  name: string;
  type: FilterValueType;
  caseExact: boolean;
}

export interface MultiValuedAttribute {
  kind: 'multi';
  key: string;
  name: string;
  /** By lower-cased name. */
  subAttributes: ReadonlyMap<string, SubAttribute>;
  /**
   * False for attributes without a primary value whose items have no order of their own (a User's `groups`,
   * a Group's `members`): RFC 7644 3.4.2.3 sorts a multi-valued attribute by its primary value, which they lack.
   */
  sortable?: false;
}

/** A singular complex attribute (`name`): only `pr` applies to it as a whole, meaning "any sub-attribute". */
export interface ComplexAttribute {
  kind: 'complex';
  parts: readonly ScalarAttribute[];
}

export type ResolvedAttribute =
  | { attribute: ScalarAttribute | ComplexAttribute; subAttribute?: undefined }
  | { attribute: MultiValuedAttribute; subAttribute: SubAttribute | undefined };

/** One resource type's filterable attributes. `resolve` throws INVALID_FILTER naming the path. */
export interface FilterCatalog {
  resolve(path: string): ResolvedAttribute;
}

/** Parsed filter → QueryFilter; every error is an INVALID_FILTER AppError, raised before any SQL exists. */
export function resolveFilter(expression: FilterExpression, catalog: FilterCatalog): QueryFilter {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return { kind: expression.kind, filters: expression.filters.map((child) => resolveFilter(child, catalog)) };
    case 'not':
      return { kind: 'not', filter: resolveFilter(expression.filter, catalog) };
    case 'valuePath':
      return resolveValuePath(expression.path, expression.filter, catalog);
    default:
      return resolveAttributeExpression(expression, catalog);
  }
}

/** `sortBy`: a singular attribute, or a multi-valued one (its `value`). Errors are INVALID_VALUE-free INVALID_FILTER. */
export function resolveSort(path: string, descending: boolean, catalog: FilterCatalog): QuerySort {
  const resolved = catalog.resolve(path);
  if (resolved.attribute.kind === 'complex') throw needsSubAttribute(path);
  if (resolved.attribute.kind === 'scalar') {
    return { key: resolved.attribute.key, multiValued: false, caseExact: resolved.attribute.caseExact, descending };
  }
  if (resolved.attribute.sortable === false) {
    throw invalidFilter(`Cannot sort by ${quoted(path)}: it has no primary value to sort by`);
  }
  const sub = resolved.subAttribute ?? resolved.attribute.subAttributes.get('value');
  if (sub === undefined || sub.name !== 'value') {
    throw invalidFilter(`Cannot sort by ${quoted(path)}: multi-valued attributes sort by their value`);
  }
  return { key: resolved.attribute.key, multiValued: true, caseExact: sub.caseExact, descending };
}

function resolveAttributeExpression(expression: AttributeExpression, catalog: FilterCatalog): QueryFilter {
  const resolved = catalog.resolve(expression.path);
  if (resolved.attribute.kind === 'complex') {
    if (expression.kind !== 'present') throw needsSubAttribute(expression.path);
    const filters = resolved.attribute.parts.map(
      (part): QueryFilter => ({
        kind: 'test',
        key: part.key,
        test: { kind: 'present' },
      }),
    );
    return { kind: 'or', filters };
  }
  if (resolved.attribute.kind === 'scalar') {
    const { key } = resolved.attribute;
    return comparison(expression, resolved.attribute, (test): QueryFilter => ({ kind: 'test', key, test }));
  }
  const multi = resolved.attribute;
  const sub = resolved.subAttribute ?? multi.subAttributes.get('value');
  if (sub === undefined) {
    if (expression.kind === 'present') return { kind: 'some', key: multi.key, filter: { kind: 'const', value: true } };
    throw needsSubAttribute(expression.path);
  }
  return comparison(
    expression,
    sub,
    (test): QueryFilter => ({ kind: 'some', key: multi.key, filter: { kind: 'test', sub: sub.name, test } }),
  );
}

function needsSubAttribute(path: string): AppError {
  return invalidFilter(`Complex attribute ${quoted(path)} needs a sub-attribute`);
}

function resolveValuePath(path: string, filter: FilterExpression, catalog: FilterCatalog): QueryFilter {
  const resolved = catalog.resolve(path);
  if (resolved.attribute.kind !== 'multi' || resolved.subAttribute !== undefined) {
    throw invalidFilter(`Attribute ${quoted(path)} does not take a value filter`);
  }
  return { kind: 'some', key: resolved.attribute.key, filter: resolveItemFilter(resolved.attribute, filter) };
}

function resolveItemFilter(attribute: MultiValuedAttribute, expression: FilterExpression): ItemFilter {
  switch (expression.kind) {
    case 'and':
    case 'or':
      return { kind: expression.kind, filters: expression.filters.map((child) => resolveItemFilter(attribute, child)) };
    case 'not':
      return { kind: 'not', filter: resolveItemFilter(attribute, expression.filter) };
    case 'valuePath':
      throw invalidFilter(`Value filters cannot be nested (${quoted(expression.path)})`);
    default: {
      if (expression.path.includes('.') || expression.path.includes(':')) {
        throw invalidFilter(
          `Use a plain sub-attribute name inside ${attribute.name}[...], not ${quoted(expression.path)}`,
        );
      }
      const sub = attribute.subAttributes.get(expression.path.toLowerCase());
      if (sub === undefined) throw invalidFilter(`Unknown attribute ${quoted(`${attribute.name}.${expression.path}`)}`);
      return comparison(expression, sub, (test): ItemFilter => ({ kind: 'test', sub: sub.name, test }));
    }
  }
}

/** Checks operator and value against the type; `ne` and `eq null` become a negated positive test. */
function comparison<T extends QueryFilter | ItemFilter>(
  expression: AttributeExpression,
  typed: { type: FilterValueType; caseExact: boolean },
  build: (test: ValueTest) => T,
): T | { kind: 'not'; filter: T } {
  if (expression.kind === 'present') return build({ kind: 'present' });
  const { op, value, path } = expression;
  if (value === null) {
    if (op === 'eq') return { kind: 'not', filter: build({ kind: 'present' }) };
    if (op === 'ne') return build({ kind: 'present' });
    throw invalidFilter(`Operator '${op}' cannot compare ${quoted(path)} with null`);
  }
  if (op === 'ne') return { kind: 'not', filter: build(valueTest(path, typed, 'eq', value)) };
  return build(valueTest(path, typed, op, value));
}

function valueTest(
  path: string,
  typed: { type: FilterValueType; caseExact: boolean },
  op: TextOperator,
  value: Exclude<ComparisonValue, null>,
): ValueTest {
  if (typed.type === 'boolean') {
    if (op !== 'eq') throw unsupportedOperator(op, path, typed.type);
    if (typeof value !== 'boolean')
      throw invalidFilter(`Attribute ${quoted(path)} must be compared with true or false`);
    return { kind: 'boolean', value };
  }
  if (typeof value !== 'string') throw invalidFilter(`Attribute ${quoted(path)} must be compared with a string`);
  if (typed.type === 'dateTime') {
    if (op === 'co' || op === 'sw' || op === 'ew') throw unsupportedOperator(op, path, typed.type);
    const time = normalizeDateTime(value);
    if (time === undefined) throw invalidFilter(`Invalid dateTime ${quoted(value)} for ${quoted(path)}`);
    return { kind: 'time', op: op as TimeOperator, value: time };
  }
  return { kind: 'text', op, value, caseExact: typed.caseExact };
}

function unsupportedOperator(op: string, path: string, type: FilterValueType): never {
  throw invalidFilter(`Operator '${op}' is not supported for ${type} attribute ${quoted(path)}`);
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
