import type { UserRow } from '../db/database.js';
import type { UserGroup } from '../groups/group.js';
import type { UserAttributes, ValueItem } from './user-attributes.js';

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
  /** The read-only `groups` (direct and nested), when the read asked for them (UserReadOptions). */
  groups?: readonly UserGroup[];
}

/**
 * The one role value with a meaning to the server: a `roles` item whose value is `admin` (in any case) makes
 * the user an administrator (the `is_admin` column, which authentication reads, follows it). Every other role
 * value is data kept for clients, conferring nothing here.
 */
export const ADMIN_ROLE = 'admin';

/** How the administrator role is stored when the server grants it itself (first start, password reset). */
export const ADMIN_ROLE_ITEM: ValueItem = { value: ADMIN_ROLE, display: ADMIN_ROLE };

export function isAdminRole(item: ValueItem): boolean {
  return typeof item.value === 'string' && item.value.toLowerCase() === ADMIN_ROLE;
}

export function confersAdministration(roles: readonly ValueItem[] | undefined): boolean {
  return (roles ?? []).some(isAdminRole);
}

/**
 * The user's roles as stored, and the administrator role when the flag says so but no item does (rows made
 * before roles were stored item by item): what a client sees and PATCHes is never less than the authority held.
 */
export function effectiveRoles(user: Pick<User, 'isAdmin' | 'attributes'>): readonly ValueItem[] {
  const stored = user.attributes.values.get('roles') ?? [];
  return user.isAdmin && !confersAdministration(stored) ? [...stored, ADMIN_ROLE_ITEM] : stored;
}

export function userFromRow(row: UserRow, attributes: UserAttributes, groups?: readonly UserGroup[]): User {
  return {
    id: row.id,
    userName: row.user_name,
    active: row.active,
    isAdmin: row.is_admin,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    attributes,
    ...(groups === undefined ? {} : { groups }),
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
