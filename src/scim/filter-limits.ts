import { AppError } from '../errors/app-error.js';

/**
 * Bounds on a SCIM filter, checked before it is parsed: a filter is translated to SQL, and a
 * long chain of substring predicates (`emails[value co "a"] and ...`) can cost the database
 * seconds of CPU. Real provisioning clients send one to a handful of predicates.
 */
export const MAX_FILTER_LENGTH = 2048;
export const MAX_FILTER_PREDICATES = 20;

const QUOTED = /"(?:[^"\\]|\\.)*"/g;
const OPERATOR = /(?:^|[\s[(])(?:eq|ne|co|sw|ew|gt|ge|lt|le|pr)(?=[\s\])]|$)/gi;

export function assertFilterWithinBounds(filter: string): void {
  if (filter.length > MAX_FILTER_LENGTH) {
    throw new AppError(
      'INVALID_FILTER',
      `The filter is ${filter.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted`,
    );
  }
  const predicates = filter.replace(QUOTED, '""').match(OPERATOR)?.length ?? 0;
  if (predicates > MAX_FILTER_PREDICATES) {
    throw new AppError(
      'INVALID_FILTER',
      `The filter has ${predicates} comparisons; at most ${MAX_FILTER_PREDICATES} are accepted`,
    );
  }
}
