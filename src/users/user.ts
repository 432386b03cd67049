import type { UserRow } from '../db/database.js';
import { type ClaimMap, claimsToResource } from './claims.js';

/** A user as the business rules see it: the row's fields plus its claims. */
export interface User {
  id: string;
  userName: string;
  active: boolean;
  isAdmin: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  claims: ClaimMap;
}

export const ADMIN_ROLE = 'admin';

export function userFromRow(row: UserRow, claims: ClaimMap): User {
  return {
    id: row.id,
    userName: row.user_name,
    active: row.active,
    isAdmin: row.is_admin,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    claims,
  };
}

/** The canonical SCIM form the PATCH engine works on (no meta, no id: those are read-only). */
export function toCanonicalResource(user: User): Record<string, unknown> {
  return {
    userName: user.userName,
    active: user.active,
    ...claimsToResource(user.claims),
    ...(user.isAdmin ? { roles: [{ value: ADMIN_ROLE }] } : {}),
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
