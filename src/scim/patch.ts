/**
 * SCIM PATCH semantics (RFC 7644 section 3.5.2) over the canonical user form, with
 * the WSO2 twists: adding a mobile phone number changes the primary mobile, and the
 * comma-separated mobile number lists of urn:scim:wso2:schema.
 *
 * Not built on `scim-patch`: it resolves attribute names case-sensitively, has no
 * schema (so no type checks, mutability or WSO2 lists) and would append a second
 * mobile number where WSO2 replaces the primary one. Paths and their value
 * filters are parsed by src/scim/filter-parser.ts, the parser filters use too.
 */
import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import { type AttributePath, matchesFilter, parsePath } from './patch-path.js';
import {
  type AttributeDef,
  CORE_USER_SCHEMA,
  coreUserSchema,
  findAttribute,
  findSchema,
  type SchemaDef,
} from './user-schema.js';
import {
  assertSafeKeys,
  type IgnoredAttributes,
  isExtensionSchema,
  keepSinglePrimary,
  mergeItems,
  normalizeAttributeValue,
  normalizeItems,
  normalizePatchValue,
  normalizeSimple,
  type ScimObject,
  sameItem,
  schemaAttributes,
  withoutKey,
} from './user-values.js';

export type { ScimObject } from './user-values.js';
export { type IgnoredAttributes, normalizeUserInput } from './user-values.js';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

type OpKind = 'add' | 'replace' | 'remove';

const OP_KINDS: readonly OpKind[] = ['add', 'replace', 'remove'];

function parseOp(op: unknown): OpKind {
  const lower = typeof op === 'string' ? op.toLowerCase() : '';
  const kind = OP_KINDS.find((candidate) => candidate === lower);
  if (kind === undefined) {
    // String() throws on an object without a prototype (Object.create(null)); JSON.stringify does not.
    const shown = typeof op === 'object' ? JSON.stringify(op) : String(op);
    throw new AppError('INVALID_SYNTAX', `Unsupported PATCH op '${shown.slice(0, 64)}'`);
  }
  return kind;
}

function noTarget(detail: string): AppError {
  return new AppError('NO_TARGET', detail);
}

function invalidValue(detail: string): AppError {
  return new AppError('INVALID_VALUE', detail);
}

// ---------------------------------------------------------------------------
// Containers

function holderFor(resource: ScimObject, schemaId: string): ScimObject {
  if (schemaId === CORE_USER_SCHEMA) return resource;
  const existing = resource[schemaId];
  if (isObject(existing)) return existing;
  const created: ScimObject = {};
  resource[schemaId] = created;
  return created;
}

function pruneEmptyExtensions(resource: ScimObject): void {
  for (const key of Object.keys(resource)) {
    const value = resource[key];
    if (isExtensionSchema(key) && isObject(value) && Object.keys(value).length === 0) {
      Reflect.deleteProperty(resource, key);
    }
  }
}

function currentItems(holder: ScimObject, def: AttributeDef): unknown[] {
  const value = holder[def.name];
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function storeItems(holder: ScimObject, def: AttributeDef, items: unknown[]): void {
  if (items.length === 0) Reflect.deleteProperty(holder, def.name);
  else holder[def.name] = items;
}

function storeObject(holder: ScimObject, def: AttributeDef, object: ScimObject): void {
  if (Object.keys(object).length === 0) Reflect.deleteProperty(holder, def.name);
  else holder[def.name] = object;
}

// ---------------------------------------------------------------------------
// Mutability

function checkMutability(def: AttributeDef, kind: OpKind, holder: ScimObject, label: string): void {
  if (def.mutability === 'readOnly') throw new AppError('MUTABILITY', `Attribute '${label}' is read-only`);
  if (def.mutability === 'immutable' && (kind !== 'add' || holder[def.name] !== undefined)) {
    throw new AppError('MUTABILITY', `Attribute '${label}' is immutable`);
  }
}

function removeAttribute(holder: ScimObject, def: AttributeDef): void {
  if (def.required) throw invalidValue(`Attribute '${def.name}' is required and cannot be removed`);
  Reflect.deleteProperty(holder, def.name);
}

// ---------------------------------------------------------------------------
// Whole-attribute add / replace (pathless values and "attr" paths)

/** Merges sub-attributes; on replace a null unassigns that sub-attribute, on add it is ignored. */
function mergeComplex(existing: unknown, incoming: ScimObject, kind: OpKind): ScimObject {
  let result: ScimObject = isObject(existing) ? { ...existing } : {};
  for (const [key, value] of Object.entries(incoming)) {
    if (value !== null) result = { ...result, [key]: value };
    else if (kind === 'replace') result = withoutKey(result, key);
  }
  return result;
}

function addValue(holder: ScimObject, def: AttributeDef, value: unknown): void {
  if (def.multiValued && Array.isArray(value)) {
    storeItems(holder, def, mergeItems(def, currentItems(holder, def), value));
  } else if (def.type === 'complex' && isObject(value)) {
    storeObject(holder, def, mergeComplex(holder[def.name], value, 'add'));
  } else {
    holder[def.name] = value;
  }
}

function replaceValue(holder: ScimObject, def: AttributeDef, value: unknown): void {
  if (value === undefined || value === null) {
    removeAttribute(holder, def);
  } else if (!def.multiValued && def.type === 'complex' && isObject(value)) {
    // RFC 7644 3.5.2.3: sub-attributes not given are left unchanged.
    storeObject(holder, def, mergeComplex(holder[def.name], value, 'replace'));
  } else {
    holder[def.name] = value;
  }
}

function setAttribute(holder: ScimObject, def: AttributeDef, kind: OpKind, value: unknown): void {
  checkMutability(def, kind, holder, def.name);
  if (kind === 'add') {
    if (value !== undefined && value !== null) addValue(holder, def, value);
  } else {
    replaceValue(holder, def, value);
  }
}

// ---------------------------------------------------------------------------
// Operations without a path

function applyValues(resource: ScimObject, schema: SchemaDef, values: ScimObject, kind: OpKind): void {
  const attributes = schemaAttributes(schema);
  for (const [name, value] of Object.entries(values)) {
    const def = findAttribute(attributes, name);
    if (def !== undefined) setAttribute(holderFor(resource, schema.id), def, kind, value);
  }
}

function applyWithoutPath(resource: ScimObject, kind: OpKind, value: unknown, ignored: IgnoredAttributes): void {
  if (kind === 'remove') throw noTarget('A remove operation needs a path');
  if (value === undefined || value === null) throw invalidValue(`A ${kind} operation needs a value`);
  if (!isObject(value)) throw invalidValue('Without a path the value must be an object');
  const normalized = normalizePatchValue(withSeedTemplateAlias(value), ignored);
  const core: ScimObject = {};
  for (const [key, item] of Object.entries(normalized)) {
    const schema = isExtensionSchema(key) ? findSchema(key) : undefined;
    if (schema !== undefined && isObject(item)) applyValues(resource, schema, item, kind);
    else core[key] = item;
  }
  applyValues(resource, coreUserSchema, core, kind);
}

/**
 * The WSO2 documentation's PATCH template puts `{"mobileNumbers": [{"type": "mobile", "value": …}]}` at the top
 * level before its concrete `phoneNumbers` example; clients copied it. Items (objects, not the urn:scim:wso2:schema
 * list of strings) at the top level mean the phoneNumbers entries they describe.
 */
function withSeedTemplateAlias(value: ScimObject): ScimObject {
  const key = Object.keys(value).find((name) => name.toLowerCase() === 'mobilenumbers');
  const items = key === undefined ? undefined : value[key];
  if (key === undefined || !Array.isArray(items) || !items.every(isObject)) return value;
  const phoneKey = Object.keys(value).find((name) => name.toLowerCase() === 'phonenumbers') ?? 'phoneNumbers';
  const existing = value[phoneKey];
  const phones = items.map((item) => (item.type === undefined ? { ...item, type: 'mobile' } : item));
  const { [key]: _alias, ...rest } = value;
  return {
    ...rest,
    [phoneKey]: [...(Array.isArray(existing) ? existing : existing === undefined ? [] : [existing]), ...phones],
  };
}

function applyToExtension(
  resource: ScimObject,
  schema: SchemaDef,
  kind: OpKind,
  value: unknown,
  ignored: IgnoredAttributes,
): void {
  if (kind !== 'remove') {
    applyWithoutPath(resource, kind, isObject(value) ? { [schema.id]: value } : value, ignored);
    return;
  }
  const holder = holderFor(resource, schema.id);
  for (const def of schema.attributes) {
    if (def.mutability !== 'readOnly' && holder[def.name] !== undefined) removeAttribute(holder, def);
  }
}

// ---------------------------------------------------------------------------
// "attr" and "attr.sub" paths

function applyToAttribute(
  holder: ScimObject,
  target: AttributePath,
  kind: OpKind,
  value: unknown,
  ignored: IgnoredAttributes,
): void {
  const def = target.attribute;
  if (kind === 'remove') {
    if (holder[def.name] !== undefined) removeAttribute(holder, def);
    return;
  }
  if (value === null && kind === 'add') throw invalidValue(`An add to '${def.name}' needs a value`);
  const normalized = value === null ? null : normalizeAttributeValue(def, value, def.name, 'keep', ignored);
  setAttribute(holder, def, kind, normalized);
}

function subValue(target: AttributePath, sub: AttributeDef, kind: OpKind, value: unknown): unknown {
  if (kind === 'remove') return null;
  const label = `${target.attribute.name}.${sub.name}`;
  if (value === null) {
    if (kind === 'add') throw invalidValue(`An add to '${label}' needs a value`);
    return null;
  }
  return normalizeSimple(sub, value, label);
}

function withSub(item: unknown, sub: AttributeDef, value: unknown): ScimObject {
  const object = isObject(item) ? item : {};
  return value === null ? withoutKey(object, sub.name) : { ...object, [sub.name]: value };
}

function applyToSingleSub(holder: ScimObject, target: AttributePath, sub: AttributeDef, value: unknown): void {
  const def = target.attribute;
  if (value === null && holder[def.name] === undefined) return;
  storeObject(holder, def, withSub(holder[def.name], sub, value));
}

// ---------------------------------------------------------------------------
// Multi-valued items: "attr[filter]", "attr[filter].sub" and "attr.sub"

function isEmptyItem(item: unknown): boolean {
  return isObject(item) && Object.keys(item).length === 0;
}

/** After items were changed in place: no empty items, no duplicates, one primary (a changed item wins it). */
function settleItems(def: AttributeDef, items: unknown[], changed: ReadonlySet<unknown>): unknown[] {
  const fresh = items.filter((item) => changed.has(item));
  const kept: unknown[] = [];
  for (const item of items) {
    if (isEmptyItem(item)) continue;
    if (kept.some((other) => sameItem(def, other, item))) continue;
    kept.push(item);
  }
  const primary = fresh.findLast((item) => isObject(item) && item.primary === true);
  return keepSinglePrimary(kept, primary);
}

/** Items after a change, and which of them the operation wrote (they win type conflicts). */
interface ItemChange {
  updated: unknown[];
  changed: ReadonlySet<unknown>;
}

function withoutIndexes(items: readonly unknown[], indexes: readonly number[]): ItemChange {
  return { updated: items.filter((_, index) => !indexes.includes(index)), changed: new Set() };
}

function matchingIndexes(items: readonly unknown[], target: AttributePath): number[] {
  const { filter } = target;
  return items.flatMap((item, index) => (filter === undefined || matchesFilter(filter, item) ? [index] : []));
}

function updateSubOfItems(items: unknown[], indexes: readonly number[], sub: AttributeDef, value: unknown): ItemChange {
  const changed = new Set<unknown>();
  const updated = items.map((item, index) => {
    if (!indexes.includes(index)) return item;
    const next = withSub(item, sub, value);
    changed.add(next);
    return next;
  });
  return { updated, changed };
}

function replaceMatchedItems(
  target: AttributePath,
  items: unknown[],
  indexes: readonly number[],
  value: unknown,
  ignored: IgnoredAttributes,
): ItemChange {
  const def = target.attribute;
  if (value === null) return withoutIndexes(items, indexes);
  const replacement = normalizeItems(def, value, def.name, ignored);
  if (replacement.length === 0 || (def.type === 'complex' && replacement.length > 1)) {
    throw invalidValue(
      `Replacing filtered '${def.name}' values needs ${def.type === 'complex' ? 'one item' : 'a value'}`,
    );
  }
  const first = indexes[0];
  const updated = items.flatMap((item, index) => {
    if (index === first) return replacement;
    return indexes.includes(index) ? [] : [item];
  });
  return { updated, changed: new Set<unknown>(replacement) };
}

function changeItems(
  target: AttributePath,
  kind: OpKind,
  items: unknown[],
  indexes: number[],
  value: unknown,
  ignored: IgnoredAttributes,
): ItemChange {
  const sub = target.subAttribute;
  if (sub !== undefined) return updateSubOfItems(items, indexes, sub, subValue(target, sub, kind, value));
  if (kind === 'remove') return withoutIndexes(items, indexes);
  if (kind === 'add')
    throw new AppError('INVALID_PATH', `Use replace to change filtered '${target.attribute.name}' values`);
  return replaceMatchedItems(target, items, indexes, value, ignored);
}

function applyToItems(
  holder: ScimObject,
  target: AttributePath,
  kind: OpKind,
  value: unknown,
  ignored: IgnoredAttributes,
): void {
  const def = target.attribute;
  const items = currentItems(holder, def);
  const indexes = matchingIndexes(items, target);
  if (indexes.length === 0) {
    if (kind === 'remove' && target.filter === undefined) return;
    throw noTarget(`No '${def.name}' value matches the path`);
  }
  const { updated, changed } = changeItems(target, kind, items, indexes, value, ignored);
  storeItems(holder, def, settleItems(def, updated, changed));
}

// ---------------------------------------------------------------------------
// Dispatch

function applyWithPath(
  resource: ScimObject,
  target: AttributePath,
  kind: OpKind,
  value: unknown,
  ignored: IgnoredAttributes,
): void {
  const { attribute, subAttribute } = target;
  const holder = holderFor(resource, target.schema.id);
  checkMutability(attribute, kind, holder, attribute.name);
  if (subAttribute !== undefined) checkMutability(subAttribute, kind, {}, `${attribute.name}.${subAttribute.name}`);
  if (target.filter !== undefined || (attribute.multiValued && subAttribute !== undefined)) {
    applyToItems(holder, target, kind, value, ignored);
  } else if (subAttribute !== undefined) {
    applyToSingleSub(holder, target, subAttribute, subValue(target, subAttribute, kind, value));
  } else {
    applyToAttribute(holder, target, kind, value, ignored);
  }
}

function applyOperation(resource: ScimObject, operation: PatchOperation, ignored: IgnoredAttributes): void {
  if (!isObject(operation)) throw new AppError('INVALID_SYNTAX', 'Each PATCH operation must be an object');
  const kind = parseOp(operation.op);
  const { path, value } = operation;
  assertSafeKeys(value);
  if (path === undefined) {
    applyWithoutPath(resource, kind, value, ignored);
    return;
  }
  if (typeof path !== 'string') throw new AppError('INVALID_PATH', 'The path must be a string');
  const target = parsePath(path);
  if (kind !== 'remove' && value === undefined) throw invalidValue(`A ${kind} operation needs a value`);
  if (target.kind === 'undefined') ignored.push(target.name);
  else if (target.kind === 'extension') applyToExtension(resource, target.schema, kind, value, ignored);
  else applyWithPath(resource, target, kind, value, ignored);
}

/**
 * Applies PATCH operations in order to a copy of the resource. The first failing
 * operation throws, so the caller's transaction applies all or nothing.
 */
export function applyPatch(
  resource: ScimObject,
  operations: readonly PatchOperation[],
  ignored: IgnoredAttributes = [],
): ScimObject {
  const working = structuredClone(resource);
  for (const operation of operations) {
    applyOperation(working, operation, ignored);
    pruneEmptyExtensions(working);
  }
  return working;
}
