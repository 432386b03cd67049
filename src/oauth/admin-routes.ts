import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { APPLICATION_SCOPES, KEYSTORE_SCOPES, permit } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors/app-error.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { IdentityErrorSchema } from '../verification/code-routes.js';
import { type ClientService, GRANT_TYPES, type OAuthClient } from './client-service.js';
import type { SigningKeyInfo, SigningKeyStore } from './signing-keys.js';

export interface OAuthAdminRoutesOptions {
  clients: ClientService;
  signingKeys: SigningKeyStore;
}

const GrantTypeSchema = Type.Union(GRANT_TYPES.map((grant) => Type.Literal(grant)));
const ScopeSchema = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' });

const NewClientBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    grantTypes: Type.Array(GrantTypeSchema, { minItems: 1, maxItems: GRANT_TYPES.length, uniqueItems: true }),
    scopes: Type.Array(ScopeSchema, { maxItems: 64, uniqueItems: true }),
    redirectUris: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 20, uniqueItems: true }),
    ),
  },
  { additionalProperties: false },
);

const Client = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  grantTypes: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  redirectUris: Type.Array(Type.String()),
  public: Type.Boolean({ description: 'No secret: authorization code with PKCE only' }),
  created: Type.String({ format: 'date-time' }),
  lastModified: Type.String({ format: 'date-time' }),
});

const ClientWithSecret = Type.Composite([Client, Type.Object({ clientSecret: Type.String() })]);
const ClientList = Type.Object({ totalResults: Type.Integer(), clients: Type.Array(Client) });
const ClientParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 255 }) });

const SigningKey = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
  created: Type.String({ format: 'date-time' }),
  retired: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  publishedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

/** Typed as undefined so the handler sends no body at all. */
const Empty = Type.Unsafe<undefined>({ type: 'null', description: 'No body' });

const errors = {
  400: IdentityErrorSchema,
  401: IdentityErrorSchema,
  403: IdentityErrorSchema,
  404: IdentityErrorSchema,
};

const CLIENTS = '/oauth-clients';
const CLIENT = '/oauth-clients/:clientId';
const SECRET = '/oauth-clients/:clientId/secret';
const KEYS = '/oauth-signing-keys';
const ROTATE = '/oauth-signing-keys/rotate';

function toWire(client: OAuthClient) {
  return {
    clientId: client.clientId,
    name: client.name,
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    redirectUris: client.redirectUris,
    public: client.isPublic,
    created: client.createdAt.toISOString(),
    lastModified: client.updatedAt.toISOString(),
  };
}

function keyToWire(key: SigningKeyInfo) {
  return {
    kid: key.kid,
    alg: key.alg,
    status: key.status,
    created: key.createdAt.toISOString(),
    retired: key.retiredAt?.toISOString() ?? null,
    publishedUntil: key.publishUntil?.toISOString() ?? null,
  };
}

/**
 * Registered OAuth clients and token-signing keys, for administrators, under /api/server/v1.
 * A client secret is answered once, on creation or rotation; only its hash is kept.
 */
export const oauthAdminRoutes: FastifyPluginAsyncTypebox<OAuthAdminRoutesOptions> = async (app, options) => {
  const { clients, signingKeys } = options;
  const noStore = 'no-store';

  app.post(
    CLIENTS,
    {
      config: { permission: permit.admin(APPLICATION_SCOPES.create) },
      schema: { body: NewClientBody, response: { 201: ClientWithSecret, ...errors } },
    },
    async (request, reply) => {
      const principal = requireAdmin(request);
      assertMayGrant(principal, request.body.scopes);
      const { client, clientSecret } = await clients.create(request.body);
      return reply
        .code(201)
        .header('location', `${request.url.split('?')[0]}/${encodeURIComponent(client.clientId)}`)
        .header('cache-control', noStore)
        .send({ ...toWire(client), clientSecret });
    },
  );

  app.get(
    CLIENTS,
    {
      config: { permission: permit.admin(APPLICATION_SCOPES.view) },
      schema: { response: { 200: ClientList, ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      const list = await clients.list();
      return { totalResults: list.length, clients: list.map(toWire) };
    },
  );

  app.get(
    CLIENT,
    {
      config: { permission: permit.admin(APPLICATION_SCOPES.view) },
      schema: { params: ClientParams, response: { 200: Client, ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      return toWire(await clients.get(request.params.clientId));
    },
  );

  app.delete(
    CLIENT,
    {
      config: { permission: permit.admin(APPLICATION_SCOPES.delete) },
      schema: { params: ClientParams, response: { 204: Empty, ...errors } },
    },
    async (request, reply) => {
      requireAdmin(request);
      await clients.delete(request.params.clientId);
      return reply.code(204).send();
    },
  );

  app.post(
    SECRET,
    {
      config: { permission: permit.admin(APPLICATION_SCOPES.update) },
      schema: { params: ClientParams, response: { 200: ClientWithSecret, ...errors } },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { client, clientSecret } = await clients.rotateSecret(request.params.clientId);
      return reply.header('cache-control', noStore).send({ ...toWire(client), clientSecret });
    },
  );

  app.get(
    KEYS,
    {
      config: { permission: permit.admin(KEYSTORE_SCOPES.view) },
      schema: { response: { 200: Type.Array(SigningKey), ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      return (await signingKeys.list()).map(keyToWire);
    },
  );

  app.post(
    ROTATE,
    {
      config: { permission: permit.admin(KEYSTORE_SCOPES.update) },
      schema: { response: { 201: SigningKey, ...errors } },
    },
    async (request, reply) => {
      requireAdmin(request);
      return reply.code(201).send(keyToWire(await signingKeys.rotate()));
    },
  );

  methodNotAllowed(app, CLIENTS, ['GET', 'POST']);
  methodNotAllowed(app, CLIENT, ['GET', 'DELETE']);
  methodNotAllowed(app, SECRET, ['POST']);
  methodNotAllowed(app, KEYS, ['GET']);
  methodNotAllowed(app, ROTATE, ['POST']);
};

/** A bearer caller registers clients with at most its own scopes: a client must not be a way to more authority. */
function assertMayGrant(principal: Principal, scopes: readonly string[]): void {
  if (principal.scheme !== 'bearer') return;
  const beyond = scopes.find((scope) => !(principal.scopes ?? []).includes(scope));
  if (beyond !== undefined) {
    throw new AppError('FORBIDDEN', `A client cannot be given the scope '${beyond}', which the caller does not hold`);
  }
}
