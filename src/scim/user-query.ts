import { AppError } from '../errors/app-error.js';
import type { QueryFilter, QuerySort } from '../query/query-filter.js';
import { parseFilter } from './filter-parser.js';
import { resolveFilter, resolveSort } from './filter-resolver.js';
import { USER_GROUPS_ATTRIBUTE } from './group-filter.js';
import { createUserFilterCatalog } from './user-filter-catalog.js';

/** `filter`, `sortBy` and `sortOrder` of a Users list request, as the storage-neutral query. */

/** `groups` (read-only, maintained by /Groups) is filterable too: `groups.value eq "<id>"`. */
const USER_CATALOG = createUserFilterCatalog({ extraMultiValued: new Map([['groups', USER_GROUPS_ATTRIBUTE]]) });

export { MAX_FILTER_LENGTH } from './filter-limits.js';
export { MAX_FILTER_DEPTH } from './filter-parser.js';

/** Parses and resolves; every error is an INVALID_FILTER AppError, raised before any SQL exists. */
export function parseUserFilter(filter: string): QueryFilter {
  return resolveFilter(parseFilter(filter), USER_CATALOG);
}

/**
 * RFC 7644 section 3.4.2.3. `sortOrder` without `sortBy` is ignored; values are case-insensitive.
 * A malformed one is a 400 invalidValue (the RFC names no scimType for it).
 */
export function parseUserSort(sortBy: string | undefined, sortOrder: string | undefined): QuerySort | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined;
  const order = (sortOrder ?? 'ascending').toLowerCase();
  if (order !== 'ascending' && order !== 'descending') {
    throw new AppError('INVALID_VALUE', `sortOrder must be 'ascending' or 'descending'`);
  }
  try {
    return resolveSort(sortBy.trim(), order === 'descending', USER_CATALOG);
  } catch (error) {
    if (error instanceof AppError && error.code === 'INVALID_FILTER') {
      throw new AppError('INVALID_VALUE', `Invalid sortBy: ${error.detail}`);
    }
    throw error;
  }
}
