import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import { type FilterExpression, invalidPath, type PatchPathExpression, parsePatchPath } from './filter-parser.js';
import type { SchemaDef } from './user-schema.js';
import { type AttributeDef, CORE_USER_SCHEMA, coreUserSchema, findAttribute, USER_SCHEMAS } from './user-schema.js';
import { isForbiddenKey, schemaAttributes, shorten } from './user-values.js';

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

/**
 * A well-formed path naming an attribute, sub-attribute or schema the server does not define: the operation is
 * ignored, as unknown attributes are on every write (WSO2 and Entra ID expect it).
 */
export interface UndefinedPath {
  kind: 'undefined';
  name: string;
}

export type PatchPath = AttributePath | ExtensionPath | UndefinedPath;

/** Thrown while resolving a well-formed name the schema lacks; parsePath turns it into an UndefinedPath. */
class UndefinedName extends Error {}

const NAME_PATTERN = /^[A-Za-z$][\w$-]*$/;

function checkName(path: string, name: string): void {
  if (!NAME_PATTERN.test(name) || isForbiddenKey(name)) throw invalidPath(path, `'${name}' is not an attribute name`);
}

// ---------------------------------------------------------------------------
// Attribute part

/** Splits an optional schema URN prefix off, case-insensitively. */
function splitSchema(path: string, attributePart: string): { schema: SchemaDef; rest: string | undefined } {
  const lower = attributePart.toLowerCase();
  for (const schema of USER_SCHEMAS) {
    const urn = schema.id.toLowerCase();
    if (lower === urn) return { schema, rest: undefined };
    if (lower.startsWith(`${urn}:`)) return { schema, rest: attributePart.slice(urn.length + 1) };
  }
  if (attributePart.includes(':')) {
    // An attribute of a schema the server does not define (a custom extension): the name after the URN
    // must still be well formed.
    const tail = attributePart.slice(attributePart.lastIndexOf(':') + 1);
    for (const name of tail.split('.')) checkName(path, name);
    throw new UndefinedName();
  }
  return { schema: coreUserSchema, rest: attributePart };
}

function resolveAttribute(path: string, schema: SchemaDef, name: string): AttributeDef {
  checkName(path, name);
  const attribute = findAttribute(schemaAttributes(schema), name);
  if (attribute === undefined) throw new UndefinedName();
  return attribute;
}

function findSubAttribute(path: string, attribute: AttributeDef, name: string): AttributeDef | undefined {
  checkName(path, name);
  if (attribute.type !== 'complex') throw invalidPath(path, `'${attribute.name}' has no sub-attributes`);
  return findAttribute(attribute.subAttributes ?? [], name);
}

function resolveSubAttribute(path: string, attribute: AttributeDef, name: string): AttributeDef {
  const sub = findSubAttribute(path, attribute, name);
  if (sub === undefined) throw new UndefinedName();
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
  // A value filter is a query, as a filter= is: naming an undefined sub-attribute there is an error.
  const def = findSubAttribute(path, attribute, attrPath);
  if (def === undefined) throw invalidPath(path, `unknown sub-attribute '${attrPath}' of '${attribute.name}'`);
  return { def, self: false };
}

function convertFilter(path: string, attribute: AttributeDef, node: FilterExpression): ValueFilter {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { kind: node.kind, filters: node.filters.map((child) => convertFilter(path, attribute, child)) };
    case 'not':
      return { kind: 'not', filter: convertFilter(path, attribute, node.filter) };
    case 'present':
      return { kind: 'present', operand: resolveOperand(path, attribute, node.path) };
    case 'valuePath':
      throw new AppError('INVALID_FILTER', `Invalid filter in path '${path}': nested value filters are not supported`);
    default:
      return {
        kind: 'compare',
        operator: node.op,
        operand: resolveOperand(path, attribute, node.path),
        value: node.value,
      };
  }
}

function valueFilter(path: string, attribute: AttributeDef, filter: FilterExpression): ValueFilter {
  if (!attribute.multiValued) throw invalidPath(path, `'${attribute.name}' is not multi-valued`);
  return convertFilter(path, attribute, filter);
}

// ---------------------------------------------------------------------------
// Path

function buildAttributePath(path: string, schema: SchemaDef, rest: string, parsed: PatchPathExpression): AttributePath {
  const names = rest.split('.');
  if (names.length > 2) throw invalidPath(path, 'too many levels');
  const [name = '', subName] = names;
  const attribute = resolveAttribute(path, schema, name);
  const result: AttributePath = { kind: 'attribute', schema, attribute };
  if (parsed.filter !== undefined) {
    if (subName !== undefined) throw invalidPath(path, 'a filter must follow the attribute name');
    result.filter = valueFilter(path, attribute, parsed.filter);
  }
  const sub = subName ?? parsed.subAttribute;
  if (sub !== undefined) result.subAttribute = resolveSubAttribute(path, attribute, sub);
  return result;
}

/**
 * Parses a PATCH path; attribute names and schema URNs are case-insensitive. A malformed path is 400
 * `invalidPath`; a well-formed one naming what the server does not define (also in its value filter) is an
 * UndefinedPath.
 */
export function parsePath(path: string): PatchPath {
  const trimmed = path.trim();
  if (trimmed === '') throw invalidPath(path, 'empty');
  const parsed = parsePatchPath(trimmed);
  try {
    const { schema, rest } = splitSchema(trimmed, parsed.path);
    if (rest === undefined) {
      if (schema.id === CORE_USER_SCHEMA || parsed.filter !== undefined) throw invalidPath(path, 'no attribute');
      return { kind: 'extension', schema };
    }
    return buildAttributePath(trimmed, schema, rest, parsed);
  } catch (error) {
    if (!(error instanceof UndefinedName)) throw error;
    return { kind: 'undefined', name: shorten(trimmed) };
  }
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
