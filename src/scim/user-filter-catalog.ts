import type { AppError } from '../errors/app-error.js';
import { COLUMN_ATTRIBUTES, isMultiValuedAttribute } from '../users/claims.js';
import { invalidFilter, quoted, splitAttributePath } from './filter-parser.js';
import type {
  FilterCatalog,
  FilterValueType,
  MultiValuedAttribute,
  ResolvedAttribute,
  SubAttribute,
} from './filter-resolver.js';
import { CLAIM_BINDINGS } from './user-mapping.js';
import {
  type AttributeDef,
  CORE_USER_SCHEMA,
  findAttribute,
  findSchema,
  type SchemaDef,
  USER_SCHEMAS,
} from './user-schema.js';

/**
 * Which storage key each filterable User attribute path has: columns of `users` by attribute name, singular
 * claims by URI, multi-valued attributes (user_values) by attribute name, the WSO2 mobile lists by claim URI.
 * Names and schema URNs are case-insensitive; extension attributes may be written unqualified when unambiguous.
 */

export interface UserFilterCatalogOptions {
  /** Multi-valued attributes stored elsewhere, by lower-cased name (the Groups module adds `groups`). */
  extraMultiValued?: ReadonlyMap<string, MultiValuedAttribute>;
}

export function createUserFilterCatalog(options: UserFilterCatalogOptions = {}): FilterCatalog {
  return { resolve: (path) => resolveUserPath(path, options) };
}

function resolveUserPath(path: string, options: UserFilterCatalogOptions): ResolvedAttribute {
  const { urn, attribute: name, subAttribute } = splitAttributePath(path);
  const extra = urn === undefined ? options.extraMultiValued?.get(name.toLowerCase()) : undefined;
  if (extra !== undefined) return { attribute: extra, subAttribute: subOf(extra, subAttribute, path) };
  const { schema, attribute } = findSchemaAttribute(urn, name, path);
  if (!isFilterable(attribute)) throw notFilterable(path);
  if (schema.id === CORE_USER_SCHEMA) {
    const columnName = subAttribute === undefined ? attribute.name : `${attribute.name}.${subAttribute}`;
    const column = Object.keys(COLUMN_ATTRIBUTES).find((key) => key.toLowerCase() === columnName.toLowerCase());
    if (column !== undefined) {
      const def = subAttribute === undefined ? attribute : findAttribute(attribute.subAttributes ?? [], subAttribute);
      if (def === undefined) throw unknownAttribute(path);
      return { attribute: { kind: 'scalar', key: column, type: valueType(def), caseExact: def.caseExact } };
    }
    if (isMultiValuedAttribute(attribute.name)) {
      const multi = multiValued(attribute.name, attribute.name, attribute.subAttributes ?? []);
      return { attribute: multi, subAttribute: subOf(multi, subAttribute, path) };
    }
  }
  return resolveClaim(schema, attribute, subAttribute, path);
}

function resolveClaim(
  schema: SchemaDef,
  attribute: AttributeDef,
  subName: string | undefined,
  path: string,
): ResolvedAttribute {
  const bindings = CLAIM_BINDINGS.filter(
    (binding) => binding.schema === schema.id && binding.attribute === attribute.name,
  );
  const list = bindings.find((binding) => binding.kind === 'list');
  if (list !== undefined) {
    const multi = multiValued(list.uri, attribute.name, [{ ...attribute, name: 'value', multiValued: false }]);
    return { attribute: multi, subAttribute: subOf(multi, subName, path) };
  }
  if (subName === undefined) {
    const binding = bindings.find((candidate) => candidate.kind === 'simple' && candidate.subAttribute === undefined);
    if (binding !== undefined) return scalar(binding.uri, attribute);
    if (attribute.subAttributes !== undefined && bindings.length > 0) {
      const parts = bindings.flatMap((part) => {
        const sub = findAttribute(
          attribute.subAttributes ?? [],
          part.kind === 'simple' ? (part.subAttribute ?? '') : '',
        );
        return sub === undefined
          ? []
          : [{ kind: 'scalar' as const, key: part.uri, type: valueType(sub), caseExact: sub.caseExact }];
      });
      return { attribute: { kind: 'complex', parts } };
    }
    throw notFilterable(path);
  }
  const sub = findAttribute(attribute.subAttributes ?? [], subName);
  if (sub === undefined) throw unknownAttribute(path);
  if (!isFilterable(sub)) throw notFilterable(path);
  const binding = bindings.find((candidate) => candidate.kind === 'simple' && candidate.subAttribute === sub.name);
  if (binding === undefined) throw notFilterable(path);
  return scalar(binding.uri, sub);
}

function scalar(key: string, def: AttributeDef): ResolvedAttribute {
  return { attribute: { kind: 'scalar', key, type: valueType(def), caseExact: def.caseExact } };
}

function multiValued(key: string, name: string, subAttributes: readonly AttributeDef[]): MultiValuedAttribute {
  const subs = new Map<string, SubAttribute>();
  for (const sub of subAttributes) {
    if (isFilterable(sub))
      subs.set(sub.name.toLowerCase(), { name: sub.name, type: valueType(sub), caseExact: sub.caseExact });
  }
  return { kind: 'multi', key, name, subAttributes: subs };
}

function subOf(multi: MultiValuedAttribute, subName: string | undefined, path: string): SubAttribute | undefined {
  if (subName === undefined) return undefined;
  const sub = multi.subAttributes.get(subName.toLowerCase());
  if (sub === undefined) throw unknownAttribute(path);
  return sub;
}

function isFilterable(def: AttributeDef): boolean {
  return def.returned !== 'never' && def.mutability !== 'writeOnly';
}

function valueType(def: AttributeDef): FilterValueType {
  if (def.type === 'boolean' || def.type === 'dateTime') return def.type;
  return 'string';
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
  const match = core ?? (matches.length === 1 ? matches[0] : undefined);
  if (match === undefined) throw unknownAttribute(path);
  return match;
}

function unknownAttribute(path: string): AppError {
  return invalidFilter(`Unknown attribute ${quoted(path)} in filter`);
}

function notFilterable(path: string): AppError {
  return invalidFilter(`Attribute ${quoted(path)} cannot be used in a filter`);
}
