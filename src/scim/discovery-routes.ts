import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { methodNotAllowed } from '../http/error-handling.js';
import type { BulkLimits } from './bulk-routes.js';
import { CORE_GROUP_SCHEMA, coreGroupSchema, userGroupsAttribute } from './group-schema.js';
import { SCIM_JSON } from './responses.js';
import { LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE, MAX_PATCH_OPERATIONS, ScimErrorResponses } from './schemas.js';
import {
  CORE_USER_SCHEMA,
  coreUserSchema,
  ENTERPRISE_USER_SCHEMA,
  type SchemaDef,
  USER_SCHEMAS,
  WSO2_USER_SCHEMA,
} from './user-schema.js';

const AnyObject = Type.Object({}, { additionalProperties: true });
const discoveryResponses = { 200: AnyObject, ...ScimErrorResponses };

const DISCOVERY = permit.public('SCIM discovery is public (RFC 7644 section 4)');

/** RFC 7644 section 4: what this server really supports, nothing more. */
export const discoveryRoutes: FastifyPluginAsyncTypebox<{
  publicBaseUrl: string | undefined;
  bulk: BulkLimits;
}> = async (app, options) => {
  const base = (request: FastifyRequest) => `${options.publicBaseUrl ?? `${request.protocol}://${request.host}`}/scim2`;

  app.get(
    '/ServiceProviderConfig',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
        patch: { supported: true },
        bulk: { supported: true, ...options.bulk },
        filter: { supported: true, maxResults: MAX_PAGE_SIZE },
        changePassword: { supported: true },
        sort: { supported: true },
        etag: { supported: true },
        authenticationSchemes: [
          {
            type: 'httpbasic',
            name: 'HTTP Basic',
            description: 'Authentication with the user name and password of a local account',
            specUri: 'https://datatracker.ietf.org/doc/html/rfc7617',
            primary: true,
          },
          {
            type: 'oauthbearertoken',
            name: 'OAuth Bearer Token',
            description: 'Authentication with an OAuth 2.0 access token (JWT) from /oauth2/token',
            specUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
            primary: false,
          },
        ],
        meta: { resourceType: 'ServiceProviderConfig', location: `${base(request)}/ServiceProviderConfig` },
        'x-maxPatchOperations': MAX_PATCH_OPERATIONS,
      }),
  );

  const userResourceType = (request: FastifyRequest) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: CORE_USER_SCHEMA,
    schemaExtensions: [
      { schema: ENTERPRISE_USER_SCHEMA, required: false },
      { schema: WSO2_USER_SCHEMA, required: false },
    ],
    meta: { resourceType: 'ResourceType', location: `${base(request)}/ResourceTypes/User` },
  });

  const groupResourceType = (request: FastifyRequest) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group',
    schema: CORE_GROUP_SCHEMA,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: `${base(request)}/ResourceTypes/Group` },
  });
  const resourceTypes = { User: userResourceType, Group: groupResourceType } as const;

  app.get(
    '/ResourceTypes',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(listOf([userResourceType(request), groupResourceType(request)])),
  );
  app.get(
    '/ResourceTypes/:name',
    {
      config: { permission: DISCOVERY },
      schema: { params: Type.Object({ name: Type.String() }), response: discoveryResponses },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (name !== 'User' && name !== 'Group') throw new AppError('NOT_FOUND', `Unknown resource type ${name}`);
      return reply.type(SCIM_JSON).send(resourceTypes[name](request));
    },
  );

  const schemaResource = (request: FastifyRequest, schema: SchemaDef) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    ...schema,
    meta: { resourceType: 'Schema', location: `${base(request)}/Schemas/${schema.id}` },
  });

  app.get(
    '/Schemas',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(listOf(SERVED_SCHEMAS.map((schema) => schemaResource(request, schema)))),
  );
  app.get(
    '/Schemas/:id',
    {
      config: { permission: DISCOVERY },
      schema: { params: Type.Object({ id: Type.String() }), response: discoveryResponses },
    },
    async (request, reply) => {
      const wanted = request.params.id.toLowerCase();
      const schema = SERVED_SCHEMAS.find((candidate) => candidate.id.toLowerCase() === wanted);
      if (schema === undefined) throw new AppError('NOT_FOUND', `Unknown schema ${request.params.id}`);
      return reply.type(SCIM_JSON).send(schemaResource(request, schema));
    },
  );

  for (const url of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:name', '/Schemas', '/Schemas/:id']) {
    methodNotAllowed(app, url, ['GET']);
  }
};

/** The User schema as served also declares the read-only `groups` the Groups endpoint maintains. */
const SERVED_SCHEMAS: readonly SchemaDef[] = [
  { ...coreUserSchema, attributes: [...coreUserSchema.attributes, userGroupsAttribute] },
  ...USER_SCHEMAS.filter((schema) => schema.id !== CORE_USER_SCHEMA),
  coreGroupSchema,
];

function listOf(resources: unknown[]) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
