import { AppError, type ErrorCode } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import {
  type AttributeDef,
  CORE_USER_SCHEMA,
  coreUserSchema,
  findAttribute,
  findSchema,
  type SchemaDef,
  USER_EXTENSION_SCHEMAS,
} from './user-schema.js';

/**
 * Canonical SCIM user values: attribute names resolved to their schema spelling,
 * multi-valued complex attributes as arrays of objects, the WSO2 lists as string arrays.
 */
export type ScimObject = Record<string, unknown>;

type SimpleValue = string | boolean | number;

/** Whether a null in client input is kept (PATCH: "unassign this") or dropped (PUT). */
type NullMode = 'keep' | 'drop';

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const LIST_SEPARATOR = ',';

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const UNSTORABLE_TEXT = /[\u0000\p{Cs}]/u;

/** Served by the Groups endpoint, never written through a User; known here so input naming it is ignored. */
const GROUPS_ATTRIBUTE: AttributeDef = {
  name: 'groups',
  type: 'complex',
  multiValued: true,
  description: 'Groups the user belongs to.',
  required: false,
  caseExact: false,
  mutability: 'readOnly',
  returned: 'default',
  uniqueness: 'none',
  subAttributes: [],
};

export function isForbiddenKey(name: string): boolean {
  return FORBIDDEN_KEYS.has(name.toLowerCase());
}

/** Rejects keys that could reach Object.prototype; iterative so deep nesting cannot overflow the stack. */
export function assertSafeKeys(value: unknown, code: ErrorCode = 'INVALID_VALUE'): void {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (Array.isArray(current)) {
      pending.push(...current);
    } else if (isObject(current)) {
      for (const [key, child] of Object.entries(current)) {
        if (isForbiddenKey(key)) throw new AppError(code, `Attribute name '${shorten(key)}' is not allowed`);
        pending.push(child);
      }
    }
  }
}

export function schemaAttributes(schema: SchemaDef): readonly AttributeDef[] {
  return schema.id === CORE_USER_SCHEMA ? [...schema.attributes, GROUPS_ATTRIBUTE] : schema.attributes;
}

export function isExtensionSchema(schemaId: string): boolean {
  return USER_EXTENSION_SCHEMAS.some((id) => id === schemaId);
}

function invalidValue(detail: string): AppError {
  return new AppError('INVALID_VALUE', detail);
}

// ---------------------------------------------------------------------------
// Simple values

function toBoolean(value: unknown, label: string): boolean {
  if (typeof value === 'boolean') return value;
  // WSO2 clients send booleans as strings.
  if (typeof value === 'string' && ['true', 'false'].includes(value.toLowerCase())) {
    return value.toLowerCase() === 'true';
  }
  throw invalidValue(`Attribute '${label}' must be a boolean`);
}

function toNumber(value: unknown, label: string, integer: boolean): number {
  if (typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value))) return value;
  throw invalidValue(`Attribute '${label}' must be ${integer ? 'an integer' : 'a number'}`);
}

export function normalizeSimple(def: AttributeDef, value: unknown, label: string): SimpleValue {
  switch (def.type) {
    case 'boolean':
      return toBoolean(value, label);
    case 'integer':
      return toNumber(value, label, true);
    case 'decimal':
      return toNumber(value, label, false);
    case 'complex':
      throw invalidValue(`Attribute '${label}' must be an object`);
    default:
      if (typeof value !== 'string') throw invalidValue(`Attribute '${label}' must be a string`);
      // PostgreSQL text cannot hold NUL (the insert failed with a 500), and a lone surrogate has no UTF-8 form
      // (it was stored as U+FFFD, not as sent).
      if (UNSTORABLE_TEXT.test(value)) {
        throw invalidValue(`Attribute '${label}' contains a NUL character or a lone surrogate`);
      }
      return value;
  }
}

// ---------------------------------------------------------------------------
// Complex values

/**
 * Read-only sub-attributes are dropped: clients echo them back from GET responses. Sub-attributes the server
 * does not define (`name.nickname`) are ignored like unknown attributes: collected into `ignored`, never stored.
 */
function normalizeComplex(
  def: AttributeDef,
  value: unknown,
  label: string,
  nulls: NullMode,
  ignored: IgnoredAttributes,
): ScimObject {
  if (!isObject(value)) throw invalidValue(`Attribute '${label}' must be an object`);
  const result: ScimObject = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = findAttribute(def.subAttributes ?? [], key);
    if (sub === undefined) {
      ignored.push(shorten(`${label}.${key}`));
      continue;
    }
    if (sub.mutability === 'readOnly') continue;
    if (raw === null) {
      if (nulls === 'keep') result[sub.name] = null;
      continue;
    }
    result[sub.name] = normalizeSimple(sub, raw, `${label}.${sub.name}`);
  }
  return result;
}

function normalizeItem(
  def: AttributeDef,
  item: unknown,
  label: string,
  ignored: IgnoredAttributes,
): ScimObject | undefined {
  if (item === null) return undefined;
  const hasValueSub = findAttribute(def.subAttributes ?? [], 'value') !== undefined;
  // WSO2 sends "emails": ["a@b.c"].
  const shaped = typeof item === 'string' && hasValueSub ? { value: item } : item;
  const normalized = normalizeComplex(def, shaped, label, 'drop', ignored);
  return Object.keys(normalized).length === 0 ? undefined : normalized;
}

// ---------------------------------------------------------------------------
// Multi-valued values

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

export function splitList(text: string): string[] {
  return text
    .split(LIST_SEPARATOR)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function normalizeListItems(def: AttributeDef, value: unknown, label: string): SimpleValue[] {
  const raw = typeof value === 'string' ? splitList(value) : asArray(value);
  const items: SimpleValue[] = [];
  for (const entry of raw) {
    if (entry === null) continue;
    const item = normalizeSimple(def, typeof entry === 'string' ? entry.trim() : entry, label);
    if (item === '' || items.includes(item)) continue;
    items.push(item);
  }
  return items;
}

/** Normalizes the items of a multi-valued attribute: kept in order, exact duplicates dropped, one primary at most. */
export function normalizeItems(
  def: AttributeDef,
  value: unknown,
  label: string,
  ignored: IgnoredAttributes = [],
): unknown[] {
  if (def.type !== 'complex') return normalizeListItems(def, value, label);
  const items: ScimObject[] = [];
  for (const entry of asArray(value)) {
    const item = normalizeItem(def, entry, label, ignored);
    if (item !== undefined && !items.some((other) => sameItem(def, other, item))) items.push(item);
  }
  assertSinglePrimary(def, items);
  return items;
}

/**
 * Normalizes the value of one attribute. Returns undefined when nothing is left
 * (an empty list or object), which callers treat as "unassigned".
 */
export function normalizeAttributeValue(
  def: AttributeDef,
  value: unknown,
  label: string,
  nulls: NullMode = 'drop',
  ignored: IgnoredAttributes = [],
): unknown {
  if (def.multiValued) {
    const items = normalizeItems(def, value, label, ignored);
    return items.length === 0 ? undefined : items;
  }
  if (def.type === 'complex') {
    const object = normalizeComplex(def, value, label, nulls, ignored);
    return Object.keys(object).length === 0 ? undefined : object;
  }
  return normalizeSimple(def, value, label);
}

// ---------------------------------------------------------------------------
// Item merging

export function deepEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => deepEqual(item, right[index]));
  }
  if (isObject(left) && isObject(right)) {
    const keys = Object.keys(left);
    return keys.length === Object.keys(right).length && keys.every((key) => deepEqual(left[key], right[key]));
  }
  return false;
}

function itemType(item: unknown): string | undefined {
  return isObject(item) && typeof item.type === 'string' && item.type !== '' ? item.type.toLowerCase() : undefined;
}

/**
 * The verification feature's one WSO2 habit: adding a `mobile` phone number changes the primary mobile
 * (WSO2 keeps a single mobile claim, and its clients change the number that way). Every other item,
 * mobile ones sent by PUT included, is kept as sent: any number of values of any type.
 */
function replacedByAdd(def: AttributeDef, items: readonly unknown[], incoming: unknown): number {
  if (def.name !== 'phoneNumbers' || itemType(incoming) !== 'mobile') return -1;
  const mobiles = items.flatMap((item, index) => (itemType(item) === 'mobile' ? [index] : []));
  return mobiles.find((index) => isPrimary(items[index])) ?? mobiles[0] ?? -1;
}

function isPrimary(item: unknown): boolean {
  return isObject(item) && item.primary === true;
}

export function withoutKey(object: ScimObject, key: string): ScimObject {
  return Object.fromEntries(Object.entries(object).filter(([name]) => name !== key));
}

/** RFC 7643 section 2.4: at most one item is primary; the chosen one keeps it. */
export function keepSinglePrimary(items: unknown[], chosen: unknown): unknown[] {
  if (chosen === undefined) return items;
  const keep = items.findLastIndex((item) => deepEqual(item, chosen));
  return items.map((item, index) =>
    index !== keep && isPrimary(item) && isObject(item) ? withoutKey(item, 'primary') : item,
  );
}

function writablePart(def: AttributeDef, item: unknown): unknown {
  if (!isObject(item)) return item;
  const writable = (def.subAttributes ?? []).filter((sub) => sub.mutability !== 'readOnly').map((sub) => sub.name);
  return Object.fromEntries(Object.entries(item).filter(([key]) => writable.includes(key)));
}

/** Items are duplicates when what a client can write is equal: clients echo items without read-only parts. */
export function sameItem(def: AttributeDef, left: unknown, right: unknown): boolean {
  return deepEqual(writablePart(def, left), writablePart(def, right));
}

/**
 * Adds items (RFC 7644 3.5.2.1): a duplicate is skipped, others are appended in order; an added primary
 * item takes `primary` from the others.
 */
export function mergeItems(def: AttributeDef, existing: readonly unknown[], incoming: readonly unknown[]): unknown[] {
  assertSinglePrimary(def, incoming);
  const result = [...existing];
  for (const item of incoming) {
    const replaced = replacedByAdd(def, result, item);
    if (replaced >= 0) {
      result[replaced] = item;
    } else if (!result.some((current) => sameItem(def, current, item))) {
      result.push(item);
    }
  }
  return keepSinglePrimary(result, incoming.findLast(isPrimary));
}

/** RFC 7643 section 2.4: "the primary attribute value 'true' MUST appear no more than once". */
function assertSinglePrimary(def: AttributeDef, items: readonly unknown[]): void {
  if (items.filter(isPrimary).length > 1) {
    throw invalidValue(`Only one '${def.name}' value can be primary`);
  }
}

// ---------------------------------------------------------------------------
// Whole resources

/** Names of attributes a write carried that the server does not define: ignored, as WSO2 and Entra ID expect. */
export type IgnoredAttributes = string[];

function normalizeAttributes(
  schema: SchemaDef,
  input: unknown,
  nulls: NullMode,
  target: ScimObject,
  ignored: IgnoredAttributes,
): void {
  if (!isObject(input)) throw invalidValue(`'${schema.id}' must be an object`);
  const attributes = schemaAttributes(schema);
  for (const [key, raw] of Object.entries(input)) {
    const def = findAttribute(attributes, key);
    if (def === undefined) {
      ignored.push(shorten(schema.id === CORE_USER_SCHEMA ? key : `${schema.id}:${key}`));
      continue;
    }
    if (def.mutability === 'readOnly') {
      // PUT ignores read-only attributes (RFC 7644 3.5.1); PATCH must not modify them (3.5.2).
      if (nulls === 'keep') throw new AppError('MUTABILITY', `Attribute '${def.name}' is read-only`);
      continue;
    }
    if (raw === null) {
      if (nulls === 'keep') target[def.name] = null;
      continue;
    }
    const value = normalizeAttributeValue(def, raw, def.name, nulls, ignored);
    if (value !== undefined) target[def.name] = value;
    else if (nulls === 'keep') target[def.name] = null;
  }
}

function normalizeResource(input: Record<string, unknown>, nulls: NullMode, ignored: IgnoredAttributes): ScimObject {
  if (!isObject(input)) throw invalidValue('The value must be an object');
  assertSafeKeys(input);
  const result: ScimObject = {};
  const core: ScimObject = {};
  for (const [key, raw] of Object.entries(input)) {
    if (key.toLowerCase() === 'schemas') continue;
    const schema = findSchema(key);
    if (schema === undefined) {
      normalizeAttributes(coreUserSchema, { [key]: raw }, nulls, core, ignored);
    } else if (schema.id === CORE_USER_SCHEMA) {
      normalizeAttributes(schema, raw, nulls, core, ignored);
    } else if (raw !== null || nulls === 'keep') {
      const extension: ScimObject = {};
      normalizeAttributes(schema, raw, nulls, extension, ignored);
      if (Object.keys(extension).length > 0) result[schema.id] = extension;
    }
  }
  return { ...core, ...result };
}

/**
 * Client input (a PUT body) → canonical form. Read-only attributes are dropped,
 * nulls mean "unassigned" and are dropped, `schemas` is left to the caller.
 */
export function normalizeUserInput(value: Record<string, unknown>, ignored: IgnoredAttributes = []): ScimObject {
  return normalizeResource(value, 'drop', ignored);
}

/** A pathless PATCH value → canonical form; nulls are kept (replace unassigns them), read-only is an error. */
export function normalizePatchValue(value: Record<string, unknown>, ignored: IgnoredAttributes = []): ScimObject {
  return normalizeResource(value, 'keep', ignored);
}

/** Client-chosen names are echoed in error details and logs; a 100 KB key must not be (a URN-qualified one may). */
export function shorten(name: string): string {
  return name.length > 128 ? `${name.slice(0, 128)}…` : name;
}
