import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/audit-log.js';
import { mayManageAdministrators, permit, USER_SCOPES } from '../auth/permissions.js';
import type { Actor, AdminActor, Principal } from '../auth/principal.js';
import { AppError } from '../errors/app-error.js';
import { principalOf, requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { requestContextOf } from '../http/request-context.js';
import type { User } from '../users/user.js';
import type { UserService } from '../users/user-service.js';
import { type ListRequest, listRoutes } from './list-routes.js';
import { ifMatchOf, listResponse, pageWindow, SCIM_JSON, baseUrlOf as scimBaseUrlOf } from './responses.js';
import {
  IdParamsSchema,
  PATCH_OP_SCHEMA,
  PatchBodySchema,
  ProjectionQuerySchema,
  ScimErrorResponses,
  ScimUserInputSchema,
  ScimUserSchema,
} from './schemas.js';
import { createDraft, patchCommand, replaceCommand } from './user-commands.js';
import { parseUserFilter, parseUserSort } from './user-query.js';
import { isProjected, projectAttributes, toScimUser, userLocation } from './user-representation.js';
import { CORE_USER_SCHEMA } from './user-schema.js';

export interface UserRoutesOptions {
  users: UserService;
  publicBaseUrl: string | undefined;
  /** X-Verification-Resend-After and -Attempts-Remaining of a pending code, on reads and writes of one user. */
  pendingCodeHints?: (user: User) => Promise<Record<string, string>>;
}

/** Who a request acts on and as whom: the only difference between /Users/{id} and /Me. */
interface Target {
  id: string;
  actor: Actor;
  context: RequestContext;
}

function adminTarget(request: FastifyRequest, id: string): Target {
  const principal = requireAdmin(request);
  return {
    id,
    actor: adminActor(principal),
    context: requestContextOf(request, principal, 'admin'),
  };
}

function adminActor(principal: Principal): AdminActor {
  return { kind: 'admin', userId: principal.userId, mayManageAdministrators: mayManageAdministrators(principal) };
}

function selfTarget(request: FastifyRequest): Target {
  const principal = principalOf(request);
  return {
    id: principal.userId,
    actor: { kind: 'self', userId: principal.userId },
    context: requestContextOf(request, principal, 'self'),
  };
}

export const userRoutes: FastifyPluginAsyncTypebox<UserRoutesOptions> = async (app, options) => {
  const { users } = options;
  const baseUrlOf = (request: FastifyRequest) => scimBaseUrlOf(request, options.publicBaseUrl);

  /** The read-only `groups` (direct and nested) are read, in the user's own statement, only when the answer shows them. */
  const readFor = (query: Projection) => ({
    groups: isProjected('groups', query.attributes, query.excludedAttributes),
  });

  async function sendUser(
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    status = 200,
    query: Projection = {},
  ) {
    if (options.pendingCodeHints !== undefined) reply.headers(await options.pendingCodeHints(user));
    const body = projectAttributes(toScimUser(user, baseUrlOf(request)), query.attributes, query.excludedAttributes);
    return reply.code(status).type(SCIM_JSON).header('etag', `W/"${user.version}"`).send(body);
  }

  async function sendPage(request: FastifyRequest, reply: FastifyReply, query: ListRequest) {
    const { startIndex, count } = pageWindow(query);
    const page = await users.listUsers(
      {
        filter: query.filter === undefined ? undefined : parseUserFilter(query.filter),
        sort: parseUserSort(query.sortBy, query.sortOrder),
        startIndex,
        count,
      },
      readFor(query),
    );
    const base = baseUrlOf(request);
    return reply.type(SCIM_JSON).send(
      listResponse(
        page.totalResults,
        startIndex,
        page.users.map((user) => projectAttributes(toScimUser(user, base), query.attributes, query.excludedAttributes)),
      ),
    );
  }

  const userResponses = { 200: ScimUserSchema, ...ScimErrorResponses };
  const getSchema = { querystring: ProjectionQuerySchema, response: userResponses };
  const putSchema = { body: ScimUserInputSchema, querystring: ProjectionQuerySchema, response: userResponses };
  const patchSchema = { body: PatchBodySchema, querystring: ProjectionQuerySchema, response: userResponses };

  listRoutes(app, '/Users', permit.admin(USER_SCOPES.list), sendPage);

  app.post(
    '/Users',
    {
      config: { permission: permit.admin(USER_SCOPES.create) },
      schema: { body: ScimUserInputSchema, response: { 201: ScimUserSchema, ...ScimErrorResponses } },
    },
    async (request, reply) => {
      const principal = requireAdmin(request);
      assertUserSchemas(request.body);
      const ignored: string[] = [];
      const draft = createDraft(request.body, ignored);
      logIgnored(request, ignored);
      const user = await users.createUser(adminActor(principal), draft);
      reply.header('location', userLocation(baseUrlOf(request), user.id));
      return sendUser(request, reply, user, 201);
    },
  );

  // /Users/{id} and /Me share these handlers; only the target differs.
  const handlers = {
    get: async (request: FastifyRequest, reply: FastifyReply, target: Target, query: Projection) =>
      sendUser(request, reply, await users.getUser(target.id, readFor(query)), 200, query),
    put: async (
      request: FastifyRequest,
      reply: FastifyReply,
      target: Target,
      body: Record<string, unknown>,
      query: Projection,
    ) => {
      assertUserSchemas(body);
      const ignored: string[] = [];
      const command = replaceCommand(body, ignored);
      logIgnored(request, ignored);
      const user = await users.updateUser(
        target.actor,
        target.id,
        command,
        target.context,
        ifMatchOf(request),
        readFor(query),
      );
      return sendUser(request, reply, user, 200, query);
    },
    patch: async (
      request: FastifyRequest,
      reply: FastifyReply,
      target: Target,
      body: { schemas: string[]; Operations: { op: string; path?: string; value?: unknown }[] },
      query: Projection,
    ) => {
      if (!body.schemas.includes(PATCH_OP_SCHEMA)) {
        throw new AppError('INVALID_SYNTAX', `The request must use the schema ${PATCH_OP_SCHEMA}`);
      }
      const ignored: string[] = [];
      const command = patchCommand(body.Operations, ignored);
      const user = await users.updateUser(
        target.actor,
        target.id,
        command,
        target.context,
        ifMatchOf(request),
        readFor(query),
      );
      logIgnored(request, ignored);
      return sendUser(request, reply, user, 200, query);
    },
  };

  app.get(
    '/Users/:id',
    { config: { permission: permit.admin(USER_SCOPES.view) }, schema: { params: IdParamsSchema, ...getSchema } },
    (request, reply) => handlers.get(request, reply, adminTarget(request, request.params.id), request.query),
  );
  app.put(
    '/Users/:id',
    { config: { permission: permit.admin(USER_SCOPES.update) }, schema: { params: IdParamsSchema, ...putSchema } },
    (request, reply) =>
      handlers.put(request, reply, adminTarget(request, request.params.id), request.body, request.query),
  );
  app.patch(
    '/Users/:id',
    { config: { permission: permit.admin(USER_SCOPES.update) }, schema: { params: IdParamsSchema, ...patchSchema } },
    (request, reply) =>
      handlers.patch(request, reply, adminTarget(request, request.params.id), request.body, request.query),
  );
  app.delete(
    '/Users/:id',
    {
      config: { permission: permit.admin(USER_SCOPES.delete) },
      schema: { params: IdParamsSchema, response: { 204: { type: 'null' }, ...ScimErrorResponses } },
    },
    async (request, reply) => {
      await users.deleteUser(adminActor(requireAdmin(request)), request.params.id);
      return reply.code(204).send();
    },
  );

  app.get('/Me', { config: { permission: permit.self() }, schema: getSchema }, (request, reply) =>
    handlers.get(request, reply, selfTarget(request), request.query),
  );
  app.put('/Me', { config: { permission: permit.self() }, schema: putSchema }, (request, reply) =>
    handlers.put(request, reply, selfTarget(request), request.body, request.query),
  );
  app.patch('/Me', { config: { permission: permit.self() }, schema: patchSchema }, (request, reply) =>
    handlers.patch(request, reply, selfTarget(request), request.body, request.query),
  );

  methodNotAllowed(app, '/Users', ['GET', 'POST']);
  methodNotAllowed(app, '/Users/:id', ['GET', 'PUT', 'PATCH', 'DELETE']);
  methodNotAllowed(app, '/Me', ['GET', 'PUT', 'PATCH']);
};

interface Projection {
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

/** `schemas` may be left out (lenient, like most SCIM servers); when given it must name the User schema. */
function assertUserSchemas(body: Record<string, unknown>): void {
  const key = Object.keys(body).find((name) => name.toLowerCase() === 'schemas');
  if (key === undefined) return;
  const schemas = body[key];
  const valid =
    Array.isArray(schemas) &&
    schemas.every((schema) => typeof schema === 'string') &&
    schemas.some((schema) => typeof schema === 'string' && schema.toLowerCase() === CORE_USER_SCHEMA.toLowerCase());
  if (!valid) throw new AppError('INVALID_SYNTAX', `'schemas' must be an array that contains ${CORE_USER_SCHEMA}`);
}

/** Attributes the server does not define are ignored on writes (WSO2 and Entra ID expect it), never stored. */
function logIgnored(request: FastifyRequest, ignored: readonly string[]): void {
  if (ignored.length > 0) {
    request.log.debug({ ignoredAttributes: [...new Set(ignored)] }, 'ignored attributes the server does not define');
  }
}
