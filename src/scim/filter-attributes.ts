import type { AppError } from '../errors/app-error.js';
import { CLAIM_BINDINGS, type ClaimBinding, COLUMN_ATTRIBUTES, type TypedBinding } from '../users/claims.js';
import { invalidFilter, quoted, splitAttributePath } from './filter-parser.js';
import {
  type AttributeDef,
  CORE_USER_SCHEMA,
  findAttribute,
  findSchema,
  type SchemaDef,
  USER_SCHEMAS,
} from './user-schema.js';

/**
 * Resolves the attribute paths of a SCIM filter (RFC 7644 section 3.4.2.2) against the
 * user schemas and the claim bindings: which column, claim or claims a path refers to.
 */

export type ColumnName = (typeof COLUMN_ATTRIBUTES)[keyof typeof COLUMN_ATTRIBUTES];
export type ScalarType = 'string' | 'boolean' | 'dateTime';
export type StaticValue = string | boolean | null;

export interface ColumnAttribute {
  kind: 'column';
  name: string;
  column: ColumnName;
  type: ScalarType;
  caseExact: boolean;
}

/** A single-valued attribute kept in one claim. */
export interface ClaimAttribute {
  kind: 'claim';
  name: string;
  uri: string;
  type: 'string' | 'boolean';
  caseExact: boolean;
}

/** A multi-valued string attribute kept as one comma-joined claim. */
export interface ListAttribute {
  kind: 'list';
  name: string;
  uri: string;
  /** Of the items. */
  type: 'string';
  caseExact: boolean;
}

export interface ComplexSubAttribute {
  name: string;
  type: 'string' | 'boolean';
  caseExact: boolean;
  /** 'static': known from which claim holds the item (type, primary), not stored as a value. */
  source: 'claim' | 'static';
}

/**
 * One item of a complex attribute. WSO2 keeps one claim per item type and sub-attribute,
 * so the items a user can have are known in advance and each is at most one row per claim.
 */
export interface ComplexItem {
  statics: ReadonlyMap<string, StaticValue>;
  /** sub-attribute name → claim URI */
  claims: ReadonlyMap<string, string>;
}

export interface ComplexAttribute {
  kind: 'complex';
  name: string;
  subAttributes: readonly ComplexSubAttribute[];
  items: readonly ComplexItem[];
}

export type FilterAttribute = ColumnAttribute | ClaimAttribute | ListAttribute | ComplexAttribute;

export interface ResolvedPath {
  attribute: FilterAttribute;
  /** Only for complex attributes. */
  subAttribute: ComplexSubAttribute | undefined;
}

/** Resolves `[schemaUrn:]attribute[.subAttribute]`, case-insensitively. */
export function resolveAttributePath(path: string): ResolvedPath {
  const { urn, attribute: attributeName, subAttribute: subName } = splitAttributePath(path);
  const { schema, attribute } = findSchemaAttribute(urn, attributeName, path);
  return subName === undefined ? resolveWhole(schema, attribute, path) : resolveSub(schema, attribute, subName, path);
}

function findSchemaAttribute(
  urn: string | undefined,
  attributeName: string,
  path: string,
): { schema: SchemaDef; attribute: AttributeDef } {
  if (urn !== undefined) {
    const schema = findSchema(urn);
    const attribute = schema === undefined ? undefined : findAttribute(schema.attributes, attributeName);
    if (schema === undefined || attribute === undefined) throw unknownAttribute(path);
    return { schema, attribute };
  }
  // Unqualified names belong to the core schema; extension attributes are accepted unqualified when unambiguous.
  const matches = USER_SCHEMAS.flatMap((schema) => {
    const attribute = findAttribute(schema.attributes, attributeName);
    return attribute === undefined ? [] : [{ schema, attribute }];
  });
  const core = matches.find((match) => match.schema.id === CORE_USER_SCHEMA);
  // pendingMobileNumber and phoneVerified are in both extensions, bound to one claim: not ambiguous.
  const oneClaim = new Set(matches.map((entry) => claimUriOf(entry.schema, entry.attribute))).size === 1;
  const match = core ?? (matches.length === 1 || oneClaim ? matches[0] : undefined);
  if (match === undefined) throw unknownAttribute(path);
  return match;
}

function claimUriOf(schema: SchemaDef, attribute: AttributeDef): string | undefined {
  return CLAIM_BINDINGS.find((binding) => binding.schema === schema.id && binding.attribute === attribute.name)?.uri;
}

function unknownAttribute(path: string): AppError {
  return invalidFilter(`Unknown attribute ${quoted(path)} in filter`);
}

function notFilterable(path: string): AppError {
  return invalidFilter(`Attribute ${quoted(path)} cannot be used in a filter`);
}

function resolveWhole(schema: SchemaDef, attribute: AttributeDef, path: string): ResolvedPath {
  if (attribute.returned === 'never') throw notFilterable(path);
  const column = columnAttribute(schema, attribute.name, attribute);
  if (column !== undefined) return { attribute: column, subAttribute: undefined };
  return { attribute: claimAttribute(schema, attribute, path), subAttribute: undefined };
}

function resolveSub(schema: SchemaDef, attribute: AttributeDef, subName: string, path: string): ResolvedPath {
  if (attribute.returned === 'never') throw notFilterable(path);
  if (attribute.subAttributes === undefined) {
    // RFC 7644 calls the items of a multi-valued simple attribute "value".
    if (attribute.multiValued && subName.toLowerCase() === 'value') return resolveWhole(schema, attribute, path);
    throw unknownAttribute(path);
  }
  const sub = findAttribute(attribute.subAttributes, subName);
  if (sub === undefined) throw unknownAttribute(path);
  if (sub.returned === 'never') throw notFilterable(path);
  const column = columnAttribute(schema, `${attribute.name}.${sub.name}`, sub);
  if (column !== undefined) return { attribute: column, subAttribute: undefined };
  const resolved = claimAttribute(schema, attribute, path);
  if (resolved.kind !== 'complex') throw unknownAttribute(path);
  return { attribute: resolved, subAttribute: findSubAttribute(resolved, sub.name, path) };
}

/** A sub-attribute of a complex attribute as written inside a value filter (`emails[type eq "work"]`). */
export function findSubAttribute(attribute: ComplexAttribute, name: string, path: string): ComplexSubAttribute {
  const wanted = name.toLowerCase();
  const sub = attribute.subAttributes.find((candidate) => candidate.name.toLowerCase() === wanted);
  if (sub === undefined) throw unknownAttribute(path);
  return sub;
}

function columnAttribute(schema: SchemaDef, name: string, definition: AttributeDef): ColumnAttribute | undefined {
  if (schema.id !== CORE_USER_SCHEMA || !Object.hasOwn(COLUMN_ATTRIBUTES, name)) return undefined;
  const column: ColumnName = COLUMN_ATTRIBUTES[name as keyof typeof COLUMN_ATTRIBUTES];
  return { kind: 'column', name, column, type: scalarType(definition), caseExact: definition.caseExact };
}

function scalarType(definition: AttributeDef): ScalarType {
  if (definition.type === 'boolean' || definition.type === 'dateTime') return definition.type;
  return 'string';
}

function claimAttribute(schema: SchemaDef, attribute: AttributeDef, path: string): FilterAttribute {
  const bindings = CLAIM_BINDINGS.filter(
    (binding) => binding.schema === schema.id && binding.attribute === attribute.name,
  );
  const [first] = bindings;
  if (first === undefined) throw notFilterable(path);
  if (first.kind === 'list') {
    return { kind: 'list', name: attribute.name, uri: first.uri, type: 'string', caseExact: attribute.caseExact };
  }
  if (first.kind === 'simple' && first.subAttribute === undefined) {
    return {
      kind: 'claim',
      name: attribute.name,
      uri: first.uri,
      type: first.valueType,
      caseExact: attribute.caseExact,
    };
  }
  return complexAttribute(attribute, bindings);
}

function complexAttribute(attribute: AttributeDef, bindings: readonly ClaimBinding[]): ComplexAttribute {
  const typed = bindings.filter((binding): binding is TypedBinding => binding.kind === 'typed');
  const items = typed.length > 0 ? typedItems(attribute.name, typed) : [singleItem(bindings)];
  const stored = new Set(items.flatMap((item) => [...item.claims.keys()]));
  const statics = new Set(items.flatMap((item) => [...item.statics.keys()]));
  const subAttributes = (attribute.subAttributes ?? []).flatMap((sub): ComplexSubAttribute[] => {
    const source = stored.has(sub.name) ? 'claim' : statics.has(sub.name) ? 'static' : undefined;
    if (source === undefined) return [];
    return [{ name: sub.name, type: sub.type === 'boolean' ? 'boolean' : 'string', caseExact: sub.caseExact, source }];
  });
  return { kind: 'complex', name: attribute.name, subAttributes, items };
}

function singleItem(bindings: readonly ClaimBinding[]): ComplexItem {
  const claims = new Map<string, string>();
  for (const binding of bindings) {
    if (binding.kind === 'simple' && binding.subAttribute !== undefined) claims.set(binding.subAttribute, binding.uri);
  }
  return { statics: new Map(), claims };
}

/**
 * One item per type. `primary` is static: the untyped email (claim emailaddress) is the primary one,
 * as WSO2 keeps it; no other item is primary (a typed email shown as primary duplicates emailaddress,
 * so filters on the primary value still find it through that claim).
 */
function typedItems(attributeName: string, bindings: readonly TypedBinding[]): ComplexItem[] {
  const byType = new Map<string | null, Map<string, string>>();
  for (const binding of bindings) {
    const claims = byType.get(binding.itemType) ?? new Map<string, string>();
    claims.set(binding.subAttribute, binding.uri);
    byType.set(binding.itemType, claims);
  }
  return [...byType].map(([itemType, claims]) => ({
    statics: new Map<string, StaticValue>([
      ['type', itemType],
      ['primary', attributeName === 'emails' && itemType === null],
    ]),
    claims,
  }));
}
