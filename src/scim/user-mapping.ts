import { AppError } from '../errors/app-error.js';
import { isObject } from '../shared/values.js';
import { CLAIM, joinList, MULTI_VALUED_ATTRIBUTES, splitList } from '../users/claims.js';
import { effectiveRoles, type User } from '../users/user.js';
import type { ItemValue, UserAttributes, ValueItem } from '../users/user-attributes.js';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA } from './user-schema.js';

/**
 * The one place that maps SCIM user attributes to what the user store keeps: singular attributes to WSO2
 * claim URIs, multi-valued complex attributes item by item with every sub-attribute. The routes, the
 * filter catalog and the PATCH engine go through these bindings.
 */
const WSO2 = 'http://wso2.org/claims';

/** A single-valued attribute (or sub-attribute) stored in one claim. */
export interface SimpleBinding {
  kind: 'simple';
  uri: string;
  schema: string;
  attribute: string;
  subAttribute?: string;
  valueType: 'string' | 'boolean';
  /** Managed by the server (verification state); never taken from client input. */
  serverManaged?: boolean;
}

/** A multi-valued string attribute stored as one comma-joined claim, as WSO2 does. */
export interface ListBinding {
  kind: 'list';
  uri: string;
  schema: string;
  attribute: string;
}

export type ClaimBinding = SimpleBinding | ListBinding;

const simple = (
  uri: string,
  schema: string,
  attribute: string,
  subAttribute?: string,
  extra: Partial<SimpleBinding> = {},
): SimpleBinding => ({
  kind: 'simple',
  uri,
  schema,
  attribute,
  ...(subAttribute === undefined ? {} : { subAttribute }),
  valueType: 'string',
  ...extra,
});

export const CLAIM_BINDINGS: readonly ClaimBinding[] = [
  simple(`${WSO2}/externalid`, CORE_USER_SCHEMA, 'externalId'),
  simple(`${WSO2}/fullname`, CORE_USER_SCHEMA, 'name', 'formatted'),
  simple(`${WSO2}/lastname`, CORE_USER_SCHEMA, 'name', 'familyName'),
  simple(`${WSO2}/givenname`, CORE_USER_SCHEMA, 'name', 'givenName'),
  simple(`${WSO2}/middleName`, CORE_USER_SCHEMA, 'name', 'middleName'),
  simple(`${WSO2}/honorificPrefix`, CORE_USER_SCHEMA, 'name', 'honorificPrefix'),
  simple(`${WSO2}/honorificSuffix`, CORE_USER_SCHEMA, 'name', 'honorificSuffix'),
  simple(`${WSO2}/displayName`, CORE_USER_SCHEMA, 'displayName'),
  simple(`${WSO2}/nickname`, CORE_USER_SCHEMA, 'nickName'),
  simple(`${WSO2}/url`, CORE_USER_SCHEMA, 'profileUrl'),
  simple(`${WSO2}/title`, CORE_USER_SCHEMA, 'title'),
  simple(`${WSO2}/userType`, CORE_USER_SCHEMA, 'userType'),
  simple(`${WSO2}/preferredLanguage`, CORE_USER_SCHEMA, 'preferredLanguage'),
  simple(`${WSO2}/local`, CORE_USER_SCHEMA, 'locale'),
  simple(`${WSO2}/timeZone`, CORE_USER_SCHEMA, 'timezone'),
  simple(`${WSO2}/employeeNumber`, ENTERPRISE_USER_SCHEMA, 'employeeNumber'),
  simple(`${WSO2}/costCenter`, ENTERPRISE_USER_SCHEMA, 'costCenter'),
  simple(`${WSO2}/organization`, ENTERPRISE_USER_SCHEMA, 'organization'),
  simple(`${WSO2}/division`, ENTERPRISE_USER_SCHEMA, 'division'),
  simple(`${WSO2}/department`, ENTERPRISE_USER_SCHEMA, 'department'),
  simple(`${WSO2}/manager`, ENTERPRISE_USER_SCHEMA, 'manager', 'value'),
  simple(`${WSO2}/manager.ref`, ENTERPRISE_USER_SCHEMA, 'manager', '$ref'),
  simple(`${WSO2}/manager.displayName`, ENTERPRISE_USER_SCHEMA, 'manager', 'displayName'),
  // In both extensions, as WSO2 IS 7.x has them, bound to one claim each.
  ...[ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA].flatMap((schema) => [
    simple(CLAIM.pendingMobileNumber, schema, 'pendingMobileNumber', undefined, { serverManaged: true }),
    simple(CLAIM.phoneVerified, schema, 'phoneVerified', undefined, { valueType: 'boolean', serverManaged: true }),
  ]),
  { kind: 'list', uri: CLAIM.mobileNumbers, schema: WSO2_USER_SCHEMA, attribute: 'mobileNumbers' },
  simple(CLAIM.accountLocked, WSO2_USER_SCHEMA, 'accountLocked', undefined, { valueType: 'boolean' }),
  { kind: 'list', uri: CLAIM.verifiedMobileNumbers, schema: WSO2_USER_SCHEMA, attribute: 'verifiedMobileNumbers' },
];

type ScimObject = Record<string, unknown>;

function container(resource: ScimObject, schema: string): ScimObject | undefined {
  if (schema === CORE_USER_SCHEMA) return resource;
  const extension = resource[schema];
  return isObject(extension) ? extension : undefined;
}

function ensureContainer(resource: ScimObject, schema: string): ScimObject {
  if (schema === CORE_USER_SCHEMA) return resource;
  const existing = resource[schema];
  if (isObject(existing)) return existing;
  const created: ScimObject = {};
  resource[schema] = created;
  return created;
}

function stringify(value: unknown, attribute: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  throw new AppError('INVALID_VALUE', `Attribute '${attribute}' must be a simple value`);
}

/**
 * Canonical SCIM user (as produced by the PATCH engine's normalizer) → stored attributes.
 * Server-managed claims are never produced from input.
 */
export function resourceToAttributes(resource: ScimObject): UserAttributes {
  const claims = new Map<string, string>();
  for (const binding of CLAIM_BINDINGS) {
    const holder = container(resource, binding.schema);
    if (holder === undefined) continue;
    if (binding.kind === 'simple') {
      if (binding.serverManaged) continue;
      const raw = holder[binding.attribute];
      const value = binding.subAttribute === undefined ? raw : isObject(raw) ? raw[binding.subAttribute] : undefined;
      const text = stringify(value, binding.attribute);
      if (text !== undefined) claims.set(binding.uri, text);
    } else {
      const raw = holder[binding.attribute];
      const items = Array.isArray(raw) ? raw.map((item) => stringify(item, binding.attribute) ?? '') : [];
      const joined = joinList(items);
      if (joined !== undefined) claims.set(binding.uri, joined);
    }
  }
  const values = new Map<string, ValueItem[]>();
  for (const attribute of MULTI_VALUED_ATTRIBUTES) {
    const raw = resource[attribute];
    const items = Array.isArray(raw)
      ? raw.flatMap((item) => (isObject(item) ? [toValueItem(item, attribute)] : []))
      : [];
    if (items.length > 0) values.set(attribute, items);
  }
  return { claims, values };
}

function toValueItem(item: ScimObject, attribute: string): ValueItem {
  const result: Record<string, ItemValue> = {};
  for (const [key, value] of Object.entries(item)) {
    if (typeof value === 'boolean') result[key] = value;
    else {
      const text = stringify(value, `${attribute}.${key}`);
      if (text !== undefined) result[key] = text;
    }
  }
  return result;
}

/** Stored attributes → canonical SCIM user attributes (without id, userName, active and meta, which are columns). */
export function attributesToResource(attributes: UserAttributes): ScimObject {
  const resource: ScimObject = {};
  for (const binding of CLAIM_BINDINGS) {
    const value = attributes.claims.get(binding.uri);
    if (value === undefined) continue;
    if (binding.kind === 'simple') {
      const holder = ensureContainer(resource, binding.schema);
      const typedValue = binding.valueType === 'boolean' ? value === 'true' : value;
      if (binding.subAttribute === undefined) {
        holder[binding.attribute] = typedValue;
      } else {
        const parent = isObject(holder[binding.attribute]) ? (holder[binding.attribute] as ScimObject) : {};
        parent[binding.subAttribute] = typedValue;
        holder[binding.attribute] = parent;
      }
    } else {
      const items = splitList(value);
      if (items.length > 0) ensureContainer(resource, binding.schema)[binding.attribute] = items;
    }
  }
  for (const attribute of MULTI_VALUED_ATTRIBUTES) {
    const items = attributes.values.get(attribute);
    if (items !== undefined && items.length > 0) resource[attribute] = items.map((item) => ({ ...item }));
  }
  return resource;
}

/** The stored attributes of a user as SCIM attributes, `roles` as src/users/user.ts `effectiveRoles` has them. */
export function userAttributesToResource(user: User): ScimObject {
  const resource = attributesToResource(user.attributes);
  const roles = effectiveRoles(user);
  if (roles.length > 0) resource.roles = roles.map((item) => ({ ...item }));
  return resource;
}

/** The canonical SCIM form the PATCH engine works on (no meta, no id: those are read-only). */
export function toCanonicalResource(user: User): Record<string, unknown> {
  return { userName: user.userName, active: user.active, ...userAttributesToResource(user) };
}
