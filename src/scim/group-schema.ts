import { attr, type SchemaDef } from './user-schema.js';

export const CORE_GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

/** RFC 7643 section 4.2 and 8.7.1, as this server implements it (displayName unique, members of users and groups). */
export const coreGroupSchema: SchemaDef = {
  id: CORE_GROUP_SCHEMA,
  name: 'Group',
  description: 'Group',
  attributes: [
    attr('id', 'Unique identifier for the SCIM resource.', {
      mutability: 'readOnly',
      returned: 'always',
      caseExact: true,
      uniqueness: 'server',
    }),
    attr('externalId', 'Identifier of the resource as defined by the provisioning client.', { caseExact: true }),
    attr('displayName', 'A human-readable name for the Group; unique, case-insensitively.', {
      required: true,
      uniqueness: 'server',
    }),
    attr('members', 'A list of members of the Group.', {
      type: 'complex',
      multiValued: true,
      subAttributes: [
        attr('value', 'Identifier of the member of this Group.', { mutability: 'immutable', caseExact: true }),
        attr('$ref', 'The URI corresponding to a SCIM resource that is a member of this Group.', {
          type: 'reference',
          referenceTypes: ['User', 'Group'],
          mutability: 'immutable',
          caseExact: true,
        }),
        attr('type', 'A label indicating the type of resource, e.g., "User" or "Group".', {
          canonicalValues: ['User', 'Group'],
          mutability: 'immutable',
        }),
        attr('display', "The member's userName or displayName.", { mutability: 'readOnly' }),
      ],
    }),
    attr('meta', 'Resource metadata.', {
      type: 'complex',
      mutability: 'readOnly',
      subAttributes: [
        attr('resourceType', 'The name of the resource type.', { mutability: 'readOnly', caseExact: true }),
        attr('created', 'When the resource was created.', { type: 'dateTime', mutability: 'readOnly' }),
        attr('lastModified', 'When the resource was last modified.', { type: 'dateTime', mutability: 'readOnly' }),
        attr('location', 'The URI of the resource.', { type: 'reference', mutability: 'readOnly', caseExact: true }),
        attr('version', 'The version (ETag) of the resource.', { mutability: 'readOnly', caseExact: true }),
      ],
    }),
  ],
};

/** The `groups` attribute of a User (RFC 7643 section 4.1.2): read-only, direct and indirect memberships. */
export const userGroupsAttribute = attr('groups', 'A list of groups to which the user belongs, direct or nested.', {
  type: 'complex',
  multiValued: true,
  mutability: 'readOnly',
  subAttributes: [
    attr('value', 'The identifier of the Group.', { mutability: 'readOnly', caseExact: true }),
    attr('$ref', 'The URI of the Group.', {
      type: 'reference',
      referenceTypes: ['Group'],
      mutability: 'readOnly',
      caseExact: true,
    }),
    attr('display', 'The displayName of the Group.', { mutability: 'readOnly' }),
    attr('type', 'How the user is a member: "direct" or "indirect".', {
      canonicalValues: ['direct', 'indirect'],
      mutability: 'readOnly',
    }),
  ],
});
