import { AppError } from '../errors/app-error.js';
import type { UserGroup } from '../groups/group.js';
import { etagOf, type User } from '../users/user.js';
import { parseAttributeList } from './filter-parser.js';
import { groupLocation } from './group-representation.js';
import { userAttributesToResource } from './user-mapping.js';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA } from './user-schema.js';

type ScimObject = Record<string, unknown>;

export const USER_SCHEMAS_LIST = [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA];

export function userLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/scim2/Users/${id}`;
}

/** The wire form: RFC 7643 shapes (multi-valued attributes as objects); the WSO2 extension last. */
export function toScimUser(user: User, baseUrl: string): ScimObject {
  const { groups } = user;
  const rest = userAttributesToResource(user);
  const wso2 = rest[WSO2_USER_SCHEMA] as ScimObject | undefined;
  delete rest[WSO2_USER_SCHEMA];
  return {
    schemas: USER_SCHEMAS_LIST,
    id: user.id,
    userName: user.userName,
    ...rest,
    active: user.active,
    ...(groups === undefined || groups.length === 0
      ? {}
      : { groups: groups.map((group) => renderGroup(group, baseUrl)) }),
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

/** RFC 7643 section 4.1.2: `type` tells a direct membership from one through a nested group. */
function renderGroup(group: UserGroup, baseUrl: string): ScimObject {
  return {
    value: group.id,
    $ref: groupLocation(baseUrl, group.id),
    display: group.display,
    type: group.direct ? 'direct' : 'indirect',
  };
}

const ALWAYS_RETURNED = new Set(['schemas', 'id', 'username']);

/** RFC 7644 section 3.9: `attributes` and `excludedAttributes`. */
export function projectAttributes(
  resource: ScimObject,
  attributes: string | undefined,
  excludedAttributes: string | undefined,
  schemas: ResourceSchemas = USER_RESOURCE_SCHEMAS,
): ScimObject {
  if (attributes !== undefined && attributes.trim() !== '') {
    return pick(resource, parsePaths(attributes, schemas));
  }
  if (excludedAttributes !== undefined && excludedAttributes.trim() !== '') {
    return omit(resource, parsePaths(excludedAttributes, schemas));
  }
  return resource;
}

/** Which schema URNs may prefix attribute names in `attributes=` (Users and Groups share the projection). */
export interface ResourceSchemas {
  core: string;
  extensions: readonly string[];
}

const USER_RESOURCE_SCHEMAS: ResourceSchemas = {
  core: CORE_USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA, WSO2_USER_SCHEMA],
};

/**
 * Whether a projection returns the top-level attribute `name` (core schema), so that an expensive
 * attribute (a group's members, a user's groups) is only loaded when it is returned.
 */
export function isProjected(
  name: string,
  attributes: string | undefined,
  excludedAttributes: string | undefined,
  schemas: ResourceSchemas = USER_RESOURCE_SCHEMAS,
): boolean {
  const named = (list: string) =>
    parsePaths(list, schemas).some(
      (path) => path.container === null && path.attribute.toLowerCase() === name.toLowerCase(),
    );
  if (attributes !== undefined && attributes.trim() !== '') return named(attributes);
  if (excludedAttributes !== undefined && excludedAttributes.trim() !== '') {
    return !parsePaths(excludedAttributes, schemas).some(
      (path) => path.container === null && path.sub === null && path.attribute.toLowerCase() === name.toLowerCase(),
    );
  }
  return true;
}

interface AttributePath {
  container: string | null;
  attribute: string;
  sub: string | null;
}

function parsePaths(list: string, schemas: ResourceSchemas): AttributePath[] {
  return parseAttributeList(list).map((entry) => parsePath(entry, schemas));
}

function parsePath(entry: string, schemas: ResourceSchemas): AttributePath {
  const lower = entry.toLowerCase();
  for (const urn of [...schemas.extensions, schemas.core]) {
    const prefix = `${urn.toLowerCase()}:`;
    if (lower.startsWith(prefix)) {
      const [attribute = '', sub = null] = entry.slice(prefix.length).split('.');
      return { container: urn === schemas.core ? null : urn, attribute, sub };
    }
  }
  const extension = schemas.extensions.find((urn) => urn.toLowerCase() === lower);
  if (extension !== undefined) return { container: extension, attribute: '', sub: null };
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
