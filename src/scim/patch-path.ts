import { type Filter, parse } from 'scim2-parse-filter';
import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import type { SchemaDef } from './user-schema.js';
import { type AttributeDef, CORE_USER_SCHEMA, coreUserSchema, findAttribute, USER_SCHEMAS } from './user-schema.js';
import { isForbiddenKey, schemaAttributes } from './user-values.js';

/** Where a filter comparison reads from: a sub-attribute, or the item itself for lists of strings. */
interface FilterOperand {
  def: AttributeDef;
  self: boolean;
}

type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'lt' | 'ge' | 'le';

export type ValueFilter =
  | { kind: 'compare'; operator: CompareOperator; operand: FilterOperand; value: string | number | boolean | null }
  | { kind: 'present'; operand: FilterOperand }
  | { kind: 'and' | 'or'; filters: ValueFilter[] }
  | { kind: 'not'; filter: ValueFilter };

/** A parsed PATCH path (RFC 7644 section 3.5.2): an attribute, optionally filtered, optionally a sub-attribute. */
export interface AttributePath {
  kind: 'attribute';
  schema: SchemaDef;
  attribute: AttributeDef;
  filter?: ValueFilter;
  subAttribute?: AttributeDef;
}

/** A path naming a whole extension, e.g. "urn:scim:wso2:schema". */
export interface ExtensionPath {
  kind: 'extension';
  schema: SchemaDef;
}

export type PatchPath = AttributePath | ExtensionPath;

const NAME_PATTERN = /^[A-Za-z$][\w$-]*$/;

function invalidPath(path: string, reason: string): AppError {
  return new AppError('INVALID_PATH', `Invalid path '${path}': ${reason}`);
}

function checkName(path: string, name: string): void {
  if (!NAME_PATTERN.test(name) || isForbiddenKey(name)) throw invalidPath(path, `'${name}' is not an attribute name`);
}

// ---------------------------------------------------------------------------
// Attribute part

interface SplitPath {
  attributePart: string;
  filterText?: string;
  subAfterFilter?: string;
}

function splitFilter(path: string): SplitPath {
  const open = path.indexOf('[');
  if (open < 0) return { attributePart: path };
  const close = path.lastIndexOf(']');
  if (close < open) throw invalidPath(path, 'unbalanced brackets');
  const tail = path.slice(close + 1);
  if (tail !== '' && !tail.startsWith('.')) throw invalidPath(path, `unexpected '${tail}'`);
  const split: SplitPath = { attributePart: path.slice(0, open), filterText: path.slice(open + 1, close) };
  if (tail !== '') split.subAfterFilter = tail.slice(1);
  return split;
}

/** Splits an optional schema URN prefix off, case-insensitively. */
function splitSchema(path: string, attributePart: string): { schema: SchemaDef; rest: string | undefined } {
  const lower = attributePart.toLowerCase();
  for (const schema of USER_SCHEMAS) {
    const urn = schema.id.toLowerCase();
    if (lower === urn) return { schema, rest: undefined };
    if (lower.startsWith(`${urn}:`)) return { schema, rest: attributePart.slice(urn.length + 1) };
  }
  if (attributePart.includes(':')) throw invalidPath(path, 'unknown schema');
  return { schema: coreUserSchema, rest: attributePart };
}

function resolveAttribute(path: string, schema: SchemaDef, name: string): AttributeDef {
  checkName(path, name);
  const attribute = findAttribute(schemaAttributes(schema), name);
  if (attribute === undefined) throw invalidPath(path, `unknown attribute '${name}'`);
  return attribute;
}

function resolveSubAttribute(path: string, attribute: AttributeDef, name: string): AttributeDef {
  checkName(path, name);
  const sub = findAttribute(attribute.subAttributes ?? [], name);
  if (sub === undefined) throw invalidPath(path, `unknown sub-attribute '${name}' of '${attribute.name}'`);
  return sub;
}

// ---------------------------------------------------------------------------
// Value filter

function resolveOperand(path: string, attribute: AttributeDef, attrPath: string): FilterOperand {
  if (attribute.type !== 'complex') {
    // In a list of strings, "value" is the string itself.
    if (attrPath.toLowerCase() === 'value') return { def: attribute, self: true };
    throw invalidPath(path, `'${attribute.name}' items only have 'value'`);
  }
  return { def: resolveSubAttribute(path, attribute, attrPath), self: false };
}

function convertFilter(path: string, attribute: AttributeDef, node: Filter): ValueFilter {
  switch (node.op) {
    case 'and':
    case 'or':
      return { kind: node.op, filters: node.filters.map((child) => convertFilter(path, attribute, child)) };
    case 'not':
      return { kind: 'not', filter: convertFilter(path, attribute, node.filter) };
    case 'pr':
      return { kind: 'present', operand: resolveOperand(path, attribute, node.attrPath) };
    case '[]':
      throw new AppError('INVALID_FILTER', `Invalid filter in path '${path}': nested value filters are not supported`);
    default:
      return {
        kind: 'compare',
        operator: node.op,
        operand: resolveOperand(path, attribute, node.attrPath),
        value: node.compValue,
      };
  }
}

function parseValueFilter(path: string, attribute: AttributeDef, text: string): ValueFilter {
  if (!attribute.multiValued) throw invalidPath(path, `'${attribute.name}' is not multi-valued`);
  // scim2-parse-filter's string pattern matches a line feed two ways, so an unterminated string holding many
  // backtracks exponentially (28 took 2 s, each one more doubles it). The filter grammar separates tokens
  // with spaces and a JSON string cannot hold a raw line feed, so no valid filter contains one.
  if (text.includes('\n')) {
    throw new AppError('INVALID_FILTER', `Invalid filter in path '${path}': line breaks are not allowed`);
  }
  let tree: Filter;
  try {
    tree = parse(text);
  } catch (error) {
    // RFC 7644 table 9: a malformed PATCH path filter is "invalidFilter".
    throw new AppError('INVALID_FILTER', `Invalid filter in path '${path}'`, { cause: error });
  }
  return convertFilter(path, attribute, tree);
}

// ---------------------------------------------------------------------------
// Path

function buildAttributePath(path: string, schema: SchemaDef, rest: string, split: SplitPath): AttributePath {
  const names = rest.split('.');
  if (names.length > 2) throw invalidPath(path, 'too many levels');
  const [name = '', subName] = names;
  const attribute = resolveAttribute(path, schema, name);
  const result: AttributePath = { kind: 'attribute', schema, attribute };
  if (split.filterText !== undefined) {
    if (subName !== undefined) throw invalidPath(path, 'a filter must follow the attribute name');
    result.filter = parseValueFilter(path, attribute, split.filterText);
  }
  const sub = subName ?? split.subAfterFilter;
  if (sub !== undefined) result.subAttribute = resolveSubAttribute(path, attribute, sub);
  return result;
}

/** Parses a PATCH path; attribute names and schema URNs are case-insensitive. */
export function parsePath(path: string): PatchPath {
  const trimmed = path.trim();
  if (trimmed === '') throw invalidPath(path, 'empty');
  const split = splitFilter(trimmed);
  const { schema, rest } = splitSchema(trimmed, split.attributePart);
  if (rest === undefined) {
    if (schema.id === CORE_USER_SCHEMA || split.filterText !== undefined) throw invalidPath(path, 'no attribute');
    return { kind: 'extension', schema };
  }
  return buildAttributePath(trimmed, schema, rest, split);
}

// ---------------------------------------------------------------------------
// Evaluation

function readOperand(item: unknown, operand: FilterOperand): unknown {
  if (operand.self) return item;
  return isObject(item) ? item[operand.def.name] : undefined;
}

function fold(value: unknown, caseExact: boolean): unknown {
  return typeof value === 'string' && !caseExact ? value.toLowerCase() : value;
}

function isOrderable(value: unknown): value is string | number {
  return typeof value === 'string' || typeof value === 'number';
}

function compareOrdered(operator: CompareOperator, actual: unknown, expected: unknown): boolean {
  if (!isOrderable(expected)) {
    throw new AppError('INVALID_FILTER', `'${operator}' needs a string or number operand`);
  }
  if (!isOrderable(actual) || typeof actual !== typeof expected) return false;
  switch (operator) {
    case 'gt':
      return actual > expected;
    case 'ge':
      return actual >= expected;
    case 'lt':
      return actual < expected;
    default:
      return actual <= expected;
  }
}

function compareText(operator: 'co' | 'sw' | 'ew', actual: unknown, expected: unknown): boolean {
  if (typeof actual !== 'string' || typeof expected !== 'string') return false;
  if (operator === 'co') return actual.includes(expected);
  return operator === 'sw' ? actual.startsWith(expected) : actual.endsWith(expected);
}

function compare(operator: CompareOperator, rawActual: unknown, rawExpected: unknown, caseExact: boolean): boolean {
  const actual = fold(rawActual ?? null, caseExact);
  const expected = fold(rawExpected, caseExact);
  switch (operator) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'co':
    case 'sw':
    case 'ew':
      return compareText(operator, actual, expected);
    default:
      return compareOrdered(operator, actual, expected);
  }
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  return !Array.isArray(value) || value.length > 0;
}

/** Evaluates a value filter against one item of a multi-valued attribute. */
export function matchesFilter(filter: ValueFilter, item: unknown): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.filters.every((child) => matchesFilter(child, item));
    case 'or':
      return filter.filters.some((child) => matchesFilter(child, item));
    case 'not':
      return !matchesFilter(filter.filter, item);
    case 'present':
      return isPresent(readOperand(item, filter.operand));
    default:
      return compare(filter.operator, readOperand(item, filter.operand), filter.value, filter.operand.def.caseExact);
  }
}
