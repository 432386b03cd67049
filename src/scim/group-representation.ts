import type { Group, Member } from '../groups/group.js';
import { etagOf } from '../users/user.js';
import { CORE_GROUP_SCHEMA } from './group-schema.js';
import type { ResourceSchemas } from './user-representation.js';

type ScimObject = Record<string, unknown>;

export const GROUP_RESOURCE_SCHEMAS: ResourceSchemas = { core: CORE_GROUP_SCHEMA, extensions: [] };

export function groupLocation(baseUrl: string, id: string): string {
  return `${baseUrl}/scim2/Groups/${id}`;
}

function memberLocation(baseUrl: string, member: Member): string {
  return `${baseUrl}/scim2/${member.kind === 'User' ? 'Users' : 'Groups'}/${member.id}`;
}

/** The wire form (RFC 7643 section 4.2); `members` undefined: not loaded, because the projection leaves it out. */
export function toScimGroup(group: Group, members: readonly Member[] | undefined, baseUrl: string): ScimObject {
  return {
    schemas: [CORE_GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId === undefined ? {} : { externalId: group.externalId }),
    displayName: group.displayName,
    ...(members === undefined || members.length === 0
      ? {}
      : {
          members: members.map((member) => ({
            value: member.id,
            $ref: memberLocation(baseUrl, member),
            display: member.display,
            type: member.kind,
          })),
        }),
    meta: {
      resourceType: 'Group',
      created: group.createdAt.toISOString(),
      lastModified: group.updatedAt.toISOString(),
      location: groupLocation(baseUrl, group.id),
      version: etagOf(group),
    },
  };
}
