import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE, MAX_PATCH_OPERATIONS, ScimErrorResponses } from './schemas.js';
import { CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, findSchema, USER_SCHEMAS, WSO2_USER_SCHEMA } from './user-schema.js';

const SCIM_JSON = 'application/scim+json; charset=utf-8';
const AnyObject = Type.Object({}, { additionalProperties: true });
const discoveryResponses = { 200: AnyObject, ...ScimErrorResponses };

const DISCOVERY = permit.public('SCIM discovery is public (RFC 7644 section 4)');

/** RFC 7644 section 4: what this server really supports, nothing more. */
export const discoveryRoutes: FastifyPluginAsyncTypebox<{ publicBaseUrl: string | undefined }> = async (
  app,
  options,
) => {
  const base = (request: FastifyRequest) => `${options.publicBaseUrl ?? `${request.protocol}://${request.host}`}/scim2`;

  app.get(
    '/ServiceProviderConfig',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
        documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
        patch: { supported: true },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: true, maxResults: MAX_PAGE_SIZE },
        changePassword: { supported: true },
        sort: { supported: false },
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

  app.get(
    '/ResourceTypes',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) => reply.type(SCIM_JSON).send(listOf([userResourceType(request)])),
  );
  app.get(
    '/ResourceTypes/:name',
    {
      config: { permission: DISCOVERY },
      schema: { params: Type.Object({ name: Type.String() }), response: discoveryResponses },
    },
    async (request, reply) => {
      if (request.params.name !== 'User')
        throw new AppError('NOT_FOUND', `Unknown resource type ${request.params.name}`);
      return reply.type(SCIM_JSON).send(userResourceType(request));
    },
  );

  const schemaResource = (request: FastifyRequest, schema: (typeof USER_SCHEMAS)[number]) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    ...schema,
    meta: { resourceType: 'Schema', location: `${base(request)}/Schemas/${schema.id}` },
  });

  app.get(
    '/Schemas',
    { config: { permission: DISCOVERY }, schema: { response: discoveryResponses } },
    async (request, reply) =>
      reply.type(SCIM_JSON).send(listOf(USER_SCHEMAS.map((schema) => schemaResource(request, schema)))),
  );
  app.get(
    '/Schemas/:id',
    {
      config: { permission: DISCOVERY },
      schema: { params: Type.Object({ id: Type.String() }), response: discoveryResponses },
    },
    async (request, reply) => {
      const schema = findSchema(request.params.id);
      if (schema === undefined) throw new AppError('NOT_FOUND', `Unknown schema ${request.params.id}`);
      return reply.type(SCIM_JSON).send(schemaResource(request, schema));
    },
  );

  for (const url of ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/:name', '/Schemas', '/Schemas/:id']) {
    methodNotAllowed(app, url, ['GET']);
  }
};

function listOf(resources: unknown[]) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
