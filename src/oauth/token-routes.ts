import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Authenticator, parseBasic } from '../auth/authenticate.js';
import { APPLICATION_SCOPES, permit } from '../auth/permissions.js';
import { AppError, type ErrorCode } from '../errors/app-error.js';
import { toAppError } from '../errors/from-fastify-error.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import type { ClientService } from './client-service.js';
import type { SigningKeyStore } from './signing-keys.js';
import type { ClientCredentials, TokenService } from './token-service.js';

export interface OAuthRoutesOptions {
  tokens: TokenService;
  clients: ClientService;
  signingKeys: SigningKeyStore;
  /** Basic or bearer: how administrators authenticate at the introspection endpoint. */
  authenticator: Authenticator;
}

const FORM = 'application/x-www-form-urlencoded';
const FORM_BODY_LIMIT = 16_384;

/** Form fields (RFC 6749 appendix B); unknown ones are ignored as the RFC asks. */
const Form = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ maxLength: 64 })),
    username: Type.Optional(Type.String({ maxLength: 255 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    scope: Type.Optional(Type.String({ maxLength: 4096 })),
    refresh_token: Type.Optional(Type.String({ maxLength: 1024 })),
    client_id: Type.Optional(Type.String({ maxLength: 255 })),
    client_secret: Type.Optional(Type.String({ maxLength: 1024 })),
    token: Type.Optional(Type.String({ maxLength: 8192 })),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
    code: Type.Optional(Type.String({ maxLength: 256 })),
    redirect_uri: Type.Optional(Type.String({ maxLength: 2000 })),
    code_verifier: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: Type.String() },
);
type FormFields = Static<typeof Form>;

const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) });
/** Typed as undefined so the handler sends no body at all. */
const Empty = Type.Unsafe<undefined>({ type: 'null', description: 'No body' });

const errors = { 400: OAuthErrorBody, 401: OAuthErrorBody, 403: OAuthErrorBody, 503: OAuthErrorBody };

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
  refresh_token: Type.Optional(Type.String()),
});

const Jwks = Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) });

/** RFC 6749 section 5.2 error codes for the AppErrors the /oauth2 endpoints can meet. */
const OAUTH_ERROR: Partial<Record<ErrorCode, string>> = {
  OAUTH_INVALID_REQUEST: 'invalid_request',
  OAUTH_INVALID_CLIENT: 'invalid_client',
  OAUTH_INVALID_GRANT: 'invalid_grant',
  OAUTH_UNAUTHORIZED_CLIENT: 'unauthorized_client',
  OAUTH_UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
  OAUTH_INVALID_SCOPE: 'invalid_scope',
  INVALID_SYNTAX: 'invalid_request',
  INVALID_VALUE: 'invalid_request',
  UNSUPPORTED_MEDIA_TYPE: 'invalid_request',
  PAYLOAD_TOO_LARGE: 'invalid_request',
  METHOD_NOT_ALLOWED: 'invalid_request',
  NOT_FOUND: 'not_found',
  FORBIDDEN: 'insufficient_scope',
  TOO_MANY_REQUESTS: 'slow_down',
  SERVICE_UNAVAILABLE: 'temporarily_unavailable',
};

/** RFC 6749's `{error, error_description}` for every error under /oauth2. */
function sendOAuthError(error: AppError, request: FastifyRequest, reply: FastifyReply) {
  if (error.status >= 500) {
    request.log.error({ err: error.cause ?? error, code: error.code }, 'request failed');
  } else {
    request.log.info({ code: error.code, status: error.status }, error.detail);
  }
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  let code = OAUTH_ERROR[error.code] ?? (error.status >= 500 ? 'server_error' : 'invalid_request');
  if (error.code === 'UNAUTHENTICATED') {
    code = /^bearer\s/i.test(request.headers.authorization ?? '') ? 'invalid_token' : 'invalid_client';
  }
  return reply
    .code(error.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .type('application/json; charset=utf-8')
    .send({ error: code, error_description: error.detail });
}

function installOAuthErrorHandling(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError, request, reply) => sendOAuthError(toAppError(error), request, reply));
  scope.setNotFoundHandler((request, reply) =>
    sendOAuthError(
      new AppError('NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
  );
}

/** RFC 6749: each parameter at most once. */
function parseForm(body: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(fields, name)) {
      throw new AppError('OAUTH_INVALID_REQUEST', `The parameter '${name}' is repeated`);
    }
    fields[name] = value;
  }
  return fields;
}

function requireForm(request: FastifyRequest): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM) throw new AppError('OAUTH_INVALID_REQUEST', `Send the parameters as ${FORM}`);
}

/** RFC 6749 section 2.3.1: Basic credentials of a client are form-encoded before base64. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function invalidClient(detail: string): AppError {
  return new AppError('OAUTH_INVALID_CLIENT', detail, {
    headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
  });
}

/** Client authentication: HTTP Basic or form fields, never both (RFC 6749 section 2.3). */
function clientCredentialsOf(request: FastifyRequest, form: FormFields): ClientCredentials | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header.trim() !== '') {
    if (form.client_secret !== undefined) {
      throw new AppError('OAUTH_INVALID_REQUEST', 'Use one client authentication method, not two');
    }
    const basic = parseBasic(header);
    if (basic === undefined) throw invalidClient('Client authentication must use HTTP Basic');
    const clientId = formDecode(basic.userName);
    if (form.client_id !== undefined && form.client_id !== clientId) {
      throw new AppError('OAUTH_INVALID_REQUEST', 'client_id differs from the authenticated client');
    }
    return { clientId, clientSecret: formDecode(basic.password), viaHeader: true };
  }
  if (form.client_id !== undefined) {
    if (form.client_secret === undefined) throw invalidClient('client_secret is required');
    return { clientId: form.client_id, clientSecret: form.client_secret, viaHeader: false };
  }
  if (form.client_secret !== undefined) throw new AppError('OAUTH_INVALID_REQUEST', 'client_secret without client_id');
  return undefined;
}

/** A public client (the Console, My Account) names itself with client_id alone (RFC 6749 section 2.3, RFC 7009). */
function publicClientIdOf(request: FastifyRequest, form: FormFields): string | undefined {
  const header = request.headers.authorization;
  const noAuthentication = (header === undefined || header.trim() === '') && form.client_secret === undefined;
  return noAuthentication ? form.client_id : undefined;
}

/** POST /oauth2/token, /oauth2/revoke, /oauth2/introspect and GET /oauth2/jwks. */
export const oauthRoutes: FastifyPluginAsyncTypebox<OAuthRoutesOptions> = async (app, options) => {
  const { tokens, clients, signingKeys, authenticator } = options;
  installOAuthErrorHandling(app);
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, parseForm(String(body)));
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)), undefined);
    }
  });

  app.post(
    '/token',
    {
      config: { permission: permit.public('the token endpoint authenticates clients and users itself') },
      schema: { body: Form, response: { 200: TokenResponse, ...errors } },
      bodyLimit: FORM_BODY_LIMIT,
    },
    async (request, reply) => {
      requireForm(request);
      const form = request.body;
      const publicClientId = form.grant_type === 'authorization_code' ? publicClientIdOf(request, form) : undefined;
      const client = publicClientId === undefined ? clientCredentialsOf(request, form) : undefined;
      if (form.grant_type === undefined || form.grant_type === '') {
        throw new AppError('OAUTH_INVALID_REQUEST', 'grant_type is required');
      }
      const issued = await tokens.token({
        grantType: form.grant_type,
        client,
        username: form.username,
        password: form.password,
        scope: form.scope,
        refreshToken: form.refresh_token,
        code: form.code,
        redirectUri: form.redirect_uri,
        codeVerifier: form.code_verifier,
        publicClientId,
        clientIp: request.ip,
      });
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(issued);
    },
  );

  app.post(
    '/revoke',
    {
      config: {
        permission: permit.public('RFC 7009: the token itself, and its client when it has one, are the credentials'),
      },
      schema: { body: Form, response: { 200: Empty, ...errors } },
      bodyLimit: FORM_BODY_LIMIT,
    },
    async (request, reply) => {
      requireForm(request);
      const form = request.body;
      const publicClientId = publicClientIdOf(request, form);
      const client = publicClientId === undefined ? clientCredentialsOf(request, form) : undefined;
      if (form.token === undefined || form.token === '')
        throw new AppError('OAUTH_INVALID_REQUEST', 'token is required');
      await tokens.revoke(client, form.token, form.token_type_hint, publicClientId);
      return reply.header('cache-control', 'no-store').code(200).send();
    },
  );

  app.post(
    '/introspect',
    {
      config: { permission: permit.clientOrAdmin(APPLICATION_SCOPES.view) },
      schema: {
        body: Form,
        response: { 200: Type.Object({ active: Type.Boolean() }, { additionalProperties: true }), ...errors },
      },
      bodyLimit: FORM_BODY_LIMIT,
    },
    async (request, reply) => {
      requireForm(request);
      const form = request.body;
      await authorizeIntrospection(request, form);
      if (form.token === undefined || form.token === '')
        throw new AppError('OAUTH_INVALID_REQUEST', 'token is required');
      const result = await tokens.introspect(form.token, form.token_type_hint);
      return reply.header('cache-control', 'no-store').send(result);
    },
  );

  /** RFC 7662 section 2.1: registered clients, or administrators (Basic, or a token with the table's scope). */
  async function authorizeIntrospection(request: FastifyRequest, form: FormFields): Promise<void> {
    const header = request.headers.authorization;
    const basic = header === undefined ? undefined : parseBasic(header);
    const basicClient = basic === undefined ? undefined : await clients.find(formDecode(basic.userName));
    if (basicClient !== undefined || form.client_id !== undefined) {
      const credentials = clientCredentialsOf(request, form);
      if (credentials === undefined) throw invalidClient('Client authentication failed');
      await tokens.authenticateClient(credentials);
      return;
    }
    request.principal = await authenticator.authenticate(header);
    requireAdmin(request);
  }

  app.get(
    '/jwks',
    { config: { permission: permit.public('public keys') }, schema: { response: { 200: Jwks } } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(await signingKeys.jwks()),
  );

  methodNotAllowed(app, '/token', ['POST']);
  methodNotAllowed(app, '/revoke', ['POST']);
  methodNotAllowed(app, '/introspect', ['POST']);
  methodNotAllowed(app, '/jwks', ['GET']);
};
