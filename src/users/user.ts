import type { UserRow } from '../db/database.js';
import type { UserAttributes } from './user-attributes.js';

/** A user as the business rules see it: the row's fields plus its stored attributes. */
export interface User {
  id: string;
  userName: string;
  active: boolean;
  isAdmin: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  attributes: UserAttributes;
}

export const ADMIN_ROLE = 'admin';

export function userFromRow(row: UserRow, attributes: UserAttributes): User {
  return {
    id: row.id,
    userName: row.user_name,
    active: row.active,
    isAdmin: row.is_admin,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    attributes,
  };
}

/** `W/"3"`: weak, since the representation can vary (attributes, extensions). */
export function etagOf(user: Pick<User, 'version'>): string {
  return `W/"${user.version}"`;
}

export function matchesEtag(user: Pick<User, 'version'>, ifMatch: string): boolean {
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === '*' || tag.replace(/^W\//, '') === `"${user.version}"`);
}
