import { AppError } from '../errors/app-error.js';
import { claimsToResource } from '../users/claims.js';
import { etagOf, type User } from '../users/user.js';
import { parseAttributeList } from './filter-parser.js';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, findSchema, WSO2_USER_SCHEMA } from './user-schema.js';

type ScimObject = Record<string, unknown>;

export const USER_SCHEMAS_LIST = [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA];

export function userLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/scim2/Users/${id}`;
}

/** The wire form, shaped like WSO2's responses (see the seed's sample responses). */
export function toScimUser(user: User, baseUrl: string): ScimObject {
  const attributes = claimsToResource(user.claims);
  const { emails, ...rest } = attributes;
  const wso2 = rest[WSO2_USER_SCHEMA] as ScimObject | undefined;
  delete rest[WSO2_USER_SCHEMA];
  return {
    schemas: USER_SCHEMAS_LIST,
    id: user.id,
    userName: user.userName,
    ...rest,
    ...(Array.isArray(emails) ? { emails: emails.map(renderEmail) } : {}),
    active: user.active,
    roles: [
      { type: 'default', value: 'Internal/everyone' },
      ...(user.isAdmin ? [{ value: 'admin', display: 'admin' }] : []),
    ],
    // The lists are arrays, as /Schemas declares them (multiValued) and WSO2 7.x returns them.
    ...(wso2 === undefined ? {} : { [WSO2_USER_SCHEMA]: wso2 }),
    meta: {
      resourceType: 'User',
      created: user.createdAt.toISOString(),
      lastModified: user.updatedAt.toISOString(),
      location: userLocation(baseUrl, user.id),
      version: etagOf(user),
    },
  };
}

/** WSO2 renders the untyped primary email as a bare string. */
function renderEmail(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const email = item as ScimObject;
  return email.type === undefined && Object.keys(email).every((key) => key === 'value' || key === 'primary')
    ? email.value
    : email;
}

const ALWAYS_RETURNED = new Set(['schemas', 'id', 'username']);

/** RFC 7644 section 3.9: `attributes` and `excludedAttributes`. */
export function projectAttributes(
  resource: ScimObject,
  attributes: string | undefined,
  excludedAttributes: string | undefined,
): ScimObject {
  if (attributes !== undefined && attributes.trim() !== '') {
    return pick(resource, parsePaths(attributes));
  }
  if (excludedAttributes !== undefined && excludedAttributes.trim() !== '') {
    return omit(resource, parsePaths(excludedAttributes));
  }
  return resource;
}

interface AttributePath {
  container: string | null;
  attribute: string;
  sub: string | null;
}

function parsePaths(list: string): AttributePath[] {
  return parseAttributeList(list).map(parsePath);
}

function parsePath(entry: string): AttributePath {
  const lower = entry.toLowerCase();
  for (const urn of [ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA, CORE_USER_SCHEMA]) {
    const prefix = `${urn.toLowerCase()}:`;
    if (lower.startsWith(prefix)) {
      const [attribute = '', sub = null] = entry.slice(prefix.length).split('.');
      return { container: urn === CORE_USER_SCHEMA ? null : urn, attribute, sub };
    }
  }
  if (findSchema(entry) !== undefined) return { container: findSchema(entry)?.id ?? null, attribute: '', sub: null };
  if (!/^[A-Za-z][\w$-]*(\.[A-Za-z][\w$-]*)?$/.test(entry)) {
    throw new AppError('INVALID_VALUE', `Invalid attribute name '${entry}'`);
  }
  const [attribute = '', sub = null] = entry.split('.');
  return { container: null, attribute, sub };
}

function keyOf(object: ScimObject, name: string): string | undefined {
  return Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
}

function pick(resource: ScimObject, paths: AttributePath[]): ScimObject {
  const result: ScimObject = {};
  for (const [key, value] of Object.entries(resource)) {
    if (ALWAYS_RETURNED.has(key.toLowerCase())) result[key] = value;
  }
  for (const path of paths) {
    const source = path.container === null ? resource : (resource[path.container] as ScimObject | undefined);
    if (source === undefined || typeof source !== 'object') continue;
    const target = path.container === null ? result : ((result[path.container] as ScimObject | undefined) ?? {});
    if (path.attribute === '') {
      result[path.container ?? ''] = source;
      continue;
    }
    const key = keyOf(source, path.attribute);
    if (key === undefined) continue;
    target[key] = path.sub === null ? source[key] : pickSub(source[key], path.sub);
    if (path.container !== null) result[path.container] = target;
  }
  return result;
}

function pickSub(value: unknown, sub: string): unknown {
  const pickOne = (item: unknown) => {
    if (typeof item !== 'object' || item === null) return item;
    const key = keyOf(item as ScimObject, sub);
    return key === undefined ? {} : { [key]: (item as ScimObject)[key] };
  };
  return Array.isArray(value) ? value.map(pickOne) : pickOne(value);
}

function omit(resource: ScimObject, paths: AttributePath[]): ScimObject {
  const result: ScimObject = structuredClone(resource);
  for (const path of paths) {
    const holder = path.container === null ? result : (result[path.container] as ScimObject | undefined);
    if (holder === undefined || typeof holder !== 'object') continue;
    const key = path.attribute === '' ? undefined : keyOf(holder, path.attribute);
    if (path.attribute === '' && path.container !== null) delete result[path.container];
    if (key === undefined || ALWAYS_RETURNED.has(key.toLowerCase())) continue;
    if (path.sub === null) {
      delete holder[key];
    } else {
      const removeSub = (item: unknown) => {
        if (typeof item !== 'object' || item === null) return;
        const subKey = keyOf(item as ScimObject, path.sub ?? '');
        if (subKey !== undefined) delete (item as ScimObject)[subKey];
      };
      const value = holder[key];
      if (Array.isArray(value)) value.forEach(removeSub);
      else removeSub(value);
    }
  }
  return result;
}
