import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GROUP_SCOPES, permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import type { Group } from '../groups/group.js';
import type { GroupService } from '../groups/group-service.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { etagOf } from '../users/user.js';
import { parseGroupFilter, parseGroupSort } from './group-filter.js';
import { ignoredKeys, toGroupInput } from './group-input.js';
import { toGroupChanges } from './group-patch.js';
import { GROUP_RESOURCE_SCHEMAS, groupLocation, toScimGroup } from './group-representation.js';
import { type ListRequest, listRoutes } from './list-routes.js';
import { baseUrlOf, ifMatchOf, listResponse, pageWindow, SCIM_JSON } from './responses.js';
import {
  IdParamsSchema,
  PATCH_OP_SCHEMA,
  PatchBodySchema,
  ProjectionQuerySchema,
  ScimErrorResponses,
} from './schemas.js';
import { isProjected, projectAttributes } from './user-representation.js';

export interface GroupRoutesOptions {
  groups: GroupService;
  publicBaseUrl: string | undefined;
}

interface Projection {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

const ScimGroupSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String({ format: 'uuid' }),
    displayName: Type.Optional(Type.String()),
    members: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
    meta: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true, description: 'A SCIM Group (RFC 7643 section 4.2)' },
);
/** Attribute-level checks are the SCIM layer's (group-input.ts), which knows the Group schema. */
const ScimGroupInputSchema = Type.Object({}, { additionalProperties: true });

/** /scim2/Groups: administrators (Basic) or bearer tokens with WSO2's internal_group_mgt_* scopes. */
export const groupRoutes: FastifyPluginAsyncTypebox<GroupRoutesOptions> = async (app, options) => {
  const { groups } = options;
  const base = (request: FastifyRequest) => baseUrlOf(request, options.publicBaseUrl);
  const wantsMembers = (query: Projection) =>
    isProjected('members', query.attributes, query.excludedAttributes, GROUP_RESOURCE_SCHEMAS);
  const project = (resource: Record<string, unknown>, query: Projection) =>
    projectAttributes(resource, query.attributes, query.excludedAttributes, GROUP_RESOURCE_SCHEMAS);

  /** `excludedAttributes=members` never loads the member list. */
  async function sendGroup(
    request: FastifyRequest,
    reply: FastifyReply,
    group: Group,
    status: number,
    query: Projection,
  ) {
    const members = wantsMembers(query) ? (await groups.membersOf([group.id])).get(group.id) : undefined;
    return reply
      .code(status)
      .type(SCIM_JSON)
      .header('etag', etagOf(group))
      .send(project(toScimGroup(group, members, base(request)), query));
  }

  async function sendPage(request: FastifyRequest, reply: FastifyReply, query: ListRequest) {
    const { startIndex, count } = pageWindow(query);
    const page = await groups.listGroups({
      filter: query.filter === undefined ? undefined : parseGroupFilter(query.filter),
      sort: parseGroupSort(query.sortBy, query.sortOrder),
      startIndex,
      count,
    });
    const members = wantsMembers(query) ? await groups.membersOf(page.groups.map((group) => group.id)) : undefined;
    const resources = page.groups.map((group) =>
      project(toScimGroup(group, members?.get(group.id), base(request)), query),
    );
    return reply.type(SCIM_JSON).send(listResponse(page.totalResults, startIndex, resources));
  }

  function logIgnored(request: FastifyRequest, body: Record<string, unknown>) {
    const ignored = ignoredKeys(body);
    if (ignored.length > 0) request.log.debug({ ignored }, 'attributes the Group schema does not define were ignored');
  }

  const groupResponses = { 200: ScimGroupSchema, ...ScimErrorResponses };

  listRoutes(app, '/Groups', permit.admin(GROUP_SCOPES.list), sendPage);

  app.post(
    '/Groups',
    {
      config: { permission: permit.admin(GROUP_SCOPES.create) },
      schema: {
        body: ScimGroupInputSchema,
        querystring: ProjectionQuerySchema,
        response: { 201: ScimGroupSchema, ...ScimErrorResponses },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      logIgnored(request, request.body);
      const group = await groups.createGroup(toGroupInput(request.body));
      reply.header('location', groupLocation(base(request), group.id));
      return sendGroup(request, reply, group, 201, request.query);
    },
  );

  app.get(
    '/Groups/:id',
    {
      config: { permission: permit.admin(GROUP_SCOPES.view) },
      schema: { params: IdParamsSchema, querystring: ProjectionQuerySchema, response: groupResponses },
    },
    async (request, reply) => {
      requireAdmin(request);
      return sendGroup(request, reply, await groups.getGroup(request.params.id), 200, request.query);
    },
  );

  app.put(
    '/Groups/:id',
    {
      config: { permission: permit.admin(GROUP_SCOPES.update) },
      schema: {
        params: IdParamsSchema,
        body: ScimGroupInputSchema,
        querystring: ProjectionQuerySchema,
        response: groupResponses,
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      logIgnored(request, request.body);
      const group = await groups.replaceGroup(request.params.id, toGroupInput(request.body), ifMatchOf(request));
      return sendGroup(request, reply, group, 200, request.query);
    },
  );

  // RFC 7644 section 3.5.2: 204 without a body, unless the client asks for attributes (then 200 with them).
  // Returning the whole group by default would read every member of a big group after each change.
  app.patch(
    '/Groups/:id',
    {
      config: { permission: permit.admin(GROUP_SCOPES.update) },
      schema: {
        params: IdParamsSchema,
        body: PatchBodySchema,
        querystring: ProjectionQuerySchema,
        response: { ...groupResponses, 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      if (!request.body.schemas.includes(PATCH_OP_SCHEMA)) {
        throw new AppError('INVALID_SYNTAX', `The request must use the schema ${PATCH_OP_SCHEMA}`);
      }
      const ignored: string[] = [];
      const changes = toGroupChanges(request.body.Operations, ignored);
      if (ignored.length > 0)
        request.log.debug({ ignored }, 'attributes the Group schema does not define were ignored');
      const group = await groups.changeGroup(request.params.id, ifMatchOf(request), changes);
      const { attributes, excludedAttributes } = request.query;
      if (attributes === undefined && excludedAttributes === undefined) {
        return reply.code(204).header('etag', etagOf(group)).send();
      }
      return sendGroup(request, reply, group, 200, request.query);
    },
  );

  app.delete(
    '/Groups/:id',
    {
      config: { permission: permit.admin(GROUP_SCOPES.delete) },
      schema: { params: IdParamsSchema, response: { 204: { type: 'null' }, ...ScimErrorResponses } },
    },
    async (request, reply) => {
      requireAdmin(request);
      await groups.deleteGroup(request.params.id);
      return reply.code(204).send();
    },
  );

  methodNotAllowed(app, '/Groups', ['GET', 'POST']);
  methodNotAllowed(app, '/Groups/.search', ['POST']);
  methodNotAllowed(app, '/Groups/:id', ['GET', 'PUT', 'PATCH', 'DELETE']);
};
