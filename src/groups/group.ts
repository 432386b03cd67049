import type { GroupRow } from '../db/database.js';

export type MemberKind = 'User' | 'Group';

/** A member as a write names it; the kind is looked up when the client did not say. */
export interface MemberInput {
  id: string;
  kind?: MemberKind | undefined;
}

/** A direct member as read back: the display is the user's userName or the group's displayName. */
export interface Member {
  id: string;
  kind: MemberKind;
  display: string;
}

/** A group as the business rules see it; members are loaded separately, only when asked for. */
export interface Group {
  id: string;
  displayName: string;
  externalId: string | undefined;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A group the user belongs to, directly or through a nested group. */
export interface UserGroup {
  id: string;
  display: string;
  direct: boolean;
}

/**
 * The domain commands a write is made of (RFC 7644 PATCH operations and PUT are translated into
 * these by the SCIM layer). Adding or removing named members never reads the member list.
 */
export type GroupChange =
  | { kind: 'setDisplayName'; displayName: unknown }
  | { kind: 'setExternalId'; externalId: unknown }
  | { kind: 'addMembers'; members: MemberInput[] }
  | { kind: 'removeMembers'; ids: string[] }
  | { kind: 'removeAllMembers' }
  | { kind: 'replaceMembers'; members: MemberInput[] }
  /** Rare forms (a member filter on type or display): the member list is read and tested. */
  | { kind: 'removeMembersWhere'; matches: (member: Member) => boolean };

export function groupFromRow(row: GroupRow): Group {
  return {
    id: row.id,
    displayName: row.display_name,
    externalId: row.external_id ?? undefined,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
