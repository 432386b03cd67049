/**
 * `filter` and `sortBy` of a Groups list request: the shared parser and resolver (src/scim/filter-parser.ts,
 * src/scim/filter-resolver.ts) with the Group attribute catalog; the SQL is src/groups/group-filter-sources.ts.
 * Also the catalog entry of a User's read-only `groups`, which the Users filter resolves through.
 */
import { AppError } from '../errors/app-error.js';
import { GROUP_COLUMNS, type GroupColumnKey, MEMBERS_KEY } from '../groups/group-filter-sources.js';
import type { QueryFilter, QuerySort } from '../query/query-filter.js';
import { invalidFilter, parseFilter, quoted, splitAttributePath } from './filter-parser.js';
import {
  type FilterCatalog,
  type MultiValuedAttribute,
  type ResolvedAttribute,
  resolveFilter,
  resolveSort,
  type ScalarAttribute,
  type SubAttribute,
} from './filter-resolver.js';
import { CORE_GROUP_SCHEMA } from './group-schema.js';

const text = (name: string, caseExact: boolean): SubAttribute => ({ name, type: 'string', caseExact });

function column(key: GroupColumnKey, type: ScalarAttribute['type'], caseExact: boolean): ScalarAttribute {
  return { kind: 'scalar', key, type, caseExact };
}

const SCALARS: Record<string, ScalarAttribute> = {
  id: column('id', 'string', false),
  displayname: column('displayName', 'string', false),
  externalid: column('externalId', 'string', true),
  'meta.created': column('created', 'dateTime', false),
  'meta.lastmodified': column('lastModified', 'dateTime', false),
};

const MEMBERS: MultiValuedAttribute = {
  kind: 'multi',
  key: MEMBERS_KEY,
  name: 'members',
  sortable: false,
  // Ids are UUIDs: compared case-insensitively, as `id` is.
  subAttributes: new Map([
    ['value', text('value', false)],
    ['type', text('type', false)],
  ]),
};

/** A User's `groups` (direct and nested memberships), for `filter=groups.value eq "<id>"`. */
export const USER_GROUPS_ATTRIBUTE: MultiValuedAttribute = {
  kind: 'multi',
  key: 'groups',
  name: 'groups',
  sortable: false,
  subAttributes: new Map([
    ['value', text('value', false)],
    ['display', text('display', false)],
    ['type', text('type', false)],
  ]),
};

const GROUP_CATALOG: FilterCatalog = {
  resolve(path): ResolvedAttribute {
    const { urn, attribute, subAttribute } = splitAttributePath(path);
    if (urn !== undefined && urn.toLowerCase() !== CORE_GROUP_SCHEMA.toLowerCase()) throw unknownAttribute(path);
    const name = attribute.toLowerCase();
    if (name === 'members') {
      if (subAttribute === undefined) return { attribute: MEMBERS, subAttribute: undefined };
      const sub = MEMBERS.subAttributes.get(subAttribute.toLowerCase());
      if (sub === undefined) throw unknownAttribute(path);
      return { attribute: MEMBERS, subAttribute: sub };
    }
    const scalar = SCALARS[subAttribute === undefined ? name : `${name}.${subAttribute.toLowerCase()}`];
    if (scalar === undefined) throw unknownAttribute(path);
    return { attribute: scalar };
  },
};

function unknownAttribute(path: string): AppError {
  return invalidFilter(`Unknown attribute ${quoted(path)} in filter`);
}

/** Parses and resolves; every error is INVALID_FILTER, raised before any SQL exists. */
export function parseGroupFilter(filter: string): QueryFilter {
  return resolveFilter(parseFilter(filter), GROUP_CATALOG);
}

/** RFC 7644 section 3.4.2.3 on Groups; a malformed sort (or one by `members`) is 400 invalidValue. */
export function parseGroupSort(sortBy: string | undefined, sortOrder: string | undefined): QuerySort | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  const order = (sortOrder ?? 'ascending').toLowerCase();
  if (order !== 'ascending' && order !== 'descending') {
    throw new AppError('INVALID_VALUE', "'sortOrder' must be 'ascending' or 'descending'");
  }
  let sort: QuerySort;
  try {
    sort = resolveSort(sortBy.trim(), order === 'descending', GROUP_CATALOG);
  } catch (error) {
    if (error instanceof AppError && error.code === 'INVALID_FILTER') {
      throw new AppError('INVALID_VALUE', `Invalid sortBy: ${error.detail}`);
    }
    throw error;
  }
  if (sort.multiValued || !(sort.key in GROUP_COLUMNS)) {
    throw new AppError('INVALID_VALUE', `Groups cannot be sorted by ${quoted(sortBy)}`);
  }
  return sort;
}
