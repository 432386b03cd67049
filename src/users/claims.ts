import { AppError } from '../errors/app-error.js';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA } from '../scim/user-schema.js';
import { isObject } from '../shared/values.js';

/**
 * The one place that maps SCIM attributes to WSO2 claim URIs. The user store keeps
 * claims (user, claim URI, value) like WSO2's; every route, the filter translator
 * and the verification flow go through these bindings.
 */
const WSO2 = 'http://wso2.org/claims';

export const CLAIM = {
  username: `${WSO2}/username`,
  mobile: `${WSO2}/mobile`,
  mobileNumbers: `${WSO2}/mobileNumbers`,
  verifiedMobileNumbers: `${WSO2}/verifiedMobileNumbers`,
  pendingMobileNumber: `${WSO2}/identity/mobileNumber.pendingValue`,
  phoneVerified: `${WSO2}/identity/phoneVerified`,
  accountLocked: `${WSO2}/identity/accountLocked`,
  emailAddress: `${WSO2}/emailaddress`,
} as const;

export type ClaimMap = ReadonlyMap<string, string>;

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

/** One value per type of a multi-valued complex attribute (WSO2 keeps a claim per type). */
export interface TypedBinding {
  kind: 'typed';
  uri: string;
  schema: string;
  attribute: 'emails' | 'phoneNumbers' | 'addresses';
  /** null: the untyped (primary) value. */
  itemType: string | null;
  subAttribute: string;
}

/** A multi-valued string attribute stored as one comma-joined claim, as WSO2 does. */
export interface ListBinding {
  kind: 'list';
  uri: string;
  schema: string;
  attribute: string;
}

export type ClaimBinding = SimpleBinding | TypedBinding | ListBinding;

/** Attributes that live in columns of the users table rather than in claims. */
export const COLUMN_ATTRIBUTES = {
  id: 'id',
  userName: 'user_name',
  active: 'active',
  'meta.created': 'created_at',
  'meta.lastModified': 'updated_at',
} as const;

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

const typed = (
  attribute: TypedBinding['attribute'],
  itemType: string | null,
  uri: string,
  subAttribute = 'value',
): TypedBinding => ({ kind: 'typed', uri, schema: CORE_USER_SCHEMA, attribute, itemType, subAttribute });

export const EMAIL_TYPES = ['work', 'home', 'other'] as const;
export const PHONE_TYPES = ['mobile', 'work', 'home', 'fax', 'pager', 'other'] as const;
export const ADDRESS_TYPES = ['work', 'home'] as const;
export const ADDRESS_SUB_ATTRIBUTES = [
  'formatted',
  'streetAddress',
  'locality',
  'region',
  'postalCode',
  'country',
] as const;

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
  typed('emails', null, CLAIM.emailAddress),
  ...EMAIL_TYPES.map((type) => typed('emails', type, `${WSO2}/emails.${type}`)),
  typed('phoneNumbers', 'mobile', CLAIM.mobile),
  typed('phoneNumbers', null, `${WSO2}/phoneNumbers`),
  ...PHONE_TYPES.filter((type) => type !== 'mobile').map((type) =>
    typed('phoneNumbers', type, `${WSO2}/phoneNumbers.${type}`),
  ),
  ...ADDRESS_TYPES.flatMap((type) =>
    ADDRESS_SUB_ATTRIBUTES.map((sub) => typed('addresses', type, `${WSO2}/addresses.${type}.${sub}`, sub)),
  ),
  simple(`${WSO2}/employeeNumber`, ENTERPRISE_USER_SCHEMA, 'employeeNumber'),
  simple(`${WSO2}/costCenter`, ENTERPRISE_USER_SCHEMA, 'costCenter'),
  simple(`${WSO2}/organization`, ENTERPRISE_USER_SCHEMA, 'organization'),
  simple(`${WSO2}/division`, ENTERPRISE_USER_SCHEMA, 'division'),
  simple(`${WSO2}/department`, ENTERPRISE_USER_SCHEMA, 'department'),
  simple(`${WSO2}/manager`, ENTERPRISE_USER_SCHEMA, 'manager', 'value'),
  ...[ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA].flatMap((schema) => [
    simple(CLAIM.pendingMobileNumber, schema, 'pendingMobileNumber', undefined, { serverManaged: true }),
    simple(CLAIM.phoneVerified, schema, 'phoneVerified', undefined, { valueType: 'boolean', serverManaged: true }),
  ]),
  { kind: 'list', uri: CLAIM.mobileNumbers, schema: WSO2_USER_SCHEMA, attribute: 'mobileNumbers' },
  simple(CLAIM.accountLocked, WSO2_USER_SCHEMA, 'accountLocked', undefined, { valueType: 'boolean' }),
  { kind: 'list', uri: CLAIM.verifiedMobileNumbers, schema: WSO2_USER_SCHEMA, attribute: 'verifiedMobileNumbers' },
];

/** Claims the verification flow owns: client input never writes them directly (the user service decides). */
export const SERVER_MANAGED_CLAIMS: ReadonlySet<string> = new Set(
  CLAIM_BINDINGS.filter((binding) => binding.kind === 'simple' && binding.serverManaged).map((binding) => binding.uri),
);

export const LIST_SEPARATOR = ',';

export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(LIST_SEPARATOR)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function joinList(items: readonly string[]): string | undefined {
  const unique = [...new Set(items.map((item) => item.trim()).filter((item) => item.length > 0))];
  return unique.length === 0 ? undefined : unique.join(LIST_SEPARATOR);
}

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
 * Canonical SCIM user (as produced by the PATCH engine's normalizer) → claims.
 * Server-managed claims are never produced from input.
 */
export function resourceToClaims(resource: ScimObject): Map<string, string> {
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
    } else if (binding.kind === 'list') {
      const raw = holder[binding.attribute];
      const items = Array.isArray(raw) ? raw.map((item) => stringify(item, binding.attribute) ?? '') : [];
      const joined = joinList(items);
      if (joined !== undefined) claims.set(binding.uri, joined);
    }
  }
  typedItemsToClaims(resource, claims);
  return claims;
}

function typedItemsToClaims(resource: ScimObject, claims: Map<string, string>): void {
  for (const attribute of ['emails', 'phoneNumbers', 'addresses'] as const) {
    const items = resource[attribute];
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (!isObject(item)) continue;
      const type = typeof item.type === 'string' ? item.type.toLowerCase() : null;
      const bindings = CLAIM_BINDINGS.filter(
        (binding): binding is TypedBinding => binding.kind === 'typed' && binding.attribute === attribute,
      );
      const forType = bindings.filter((binding) => binding.itemType === type);
      if (forType.length === 0) {
        throw new AppError('INVALID_VALUE', `Unsupported ${attribute} type '${String(item.type)}'`);
      }
      for (const binding of forType) {
        const text = stringify(item[binding.subAttribute], `${attribute}.${binding.subAttribute}`);
        if (text !== undefined) claims.set(binding.uri, text);
      }
      // WSO2 keeps the primary email in its own claim as well.
      if (attribute === 'emails' && item.primary === true && type !== null) {
        const text = stringify(item.value, 'emails.value');
        if (text !== undefined) claims.set(CLAIM.emailAddress, text);
      }
    }
  }
}

/** Claims → canonical SCIM user attributes (without id, userName, active and meta, which are columns). */
export function claimsToResource(claims: ClaimMap): ScimObject {
  const resource: ScimObject = {};
  for (const binding of CLAIM_BINDINGS) {
    const value = claims.get(binding.uri);
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
    } else if (binding.kind === 'list') {
      const items = splitList(value);
      if (items.length > 0) ensureContainer(resource, binding.schema)[binding.attribute] = items;
    }
  }
  const emails = typedItems(claims, 'emails');
  const primaryEmail = claims.get(CLAIM.emailAddress);
  if (emails.length > 0) resource.emails = markPrimaryEmail(emails, primaryEmail);
  const phoneNumbers = typedItems(claims, 'phoneNumbers');
  if (phoneNumbers.length > 0) resource.phoneNumbers = phoneNumbers;
  const addresses = typedItems(claims, 'addresses');
  if (addresses.length > 0) resource.addresses = addresses;
  return resource;
}

function typedItems(claims: ClaimMap, attribute: TypedBinding['attribute']): ScimObject[] {
  const byType = new Map<string | null, ScimObject>();
  for (const binding of CLAIM_BINDINGS) {
    if (binding.kind !== 'typed' || binding.attribute !== attribute) continue;
    const value = claims.get(binding.uri);
    if (value === undefined) continue;
    const item = byType.get(binding.itemType) ?? (binding.itemType === null ? {} : { type: binding.itemType });
    item[binding.subAttribute] = value;
    byType.set(binding.itemType, item);
  }
  return [...byType.values()];
}

/** The untyped primary email duplicates a typed one when the client marked that one primary. */
function markPrimaryEmail(items: ScimObject[], primaryEmail: string | undefined): ScimObject[] {
  if (primaryEmail === undefined) return items;
  const typedPrimary = items.find((item) => item.type !== undefined && item.value === primaryEmail);
  if (typedPrimary === undefined) return items;
  typedPrimary.primary = true;
  return items.filter((item) => item.type !== undefined);
}
