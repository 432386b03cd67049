import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { permit, scopesAllowedForUser } from '../auth/permissions.js';
import type { UserRow } from '../db/database.js';
import type { Db } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { issueAuthorizationCode, S256_CHALLENGE } from './authorization-codes.js';
import type { ClientService, OAuthClient } from './client-service.js';
import { renderErrorPage, renderSignInPage, SIGN_IN_CSS, SIGN_IN_CSS_PATH } from './sign-in-page.js';

export interface AuthorizeRoutesOptions {
  db: Db;
  clock: Clock;
  clients: ClientService;
  /** The same failure counting and account lock as Basic and the password grant. */
  loginThrottle: LoginThrottle;
  publicBaseUrl: string | undefined;
}

/** One message for every failure, so the page does not tell whether a user exists, is disabled or is locked. */
export const SIGN_IN_FAILED = 'The username or password is incorrect, or this account cannot sign in.';

const FORM = 'application/x-www-form-urlencoded';
const PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
];

interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  scopes: string[];
  /** The parameters as received, to carry through the sign-in form. */
  hidden: Record<string, string>;
}

/** Errors that go back to the client on its redirect URI (RFC 6749 section 4.1.2.1). */
class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** Errors that must not redirect: the client or its redirect URI cannot be trusted. */
class PageError extends Error {}

/** A refused sign-in (wrong, unknown, disabled or locked alike); answered with the sign-in page again. */
class SignInRefused extends AppError {
  constructor() {
    super('UNAUTHENTICATED', SIGN_IN_FAILED);
  }
}

/** The sign-in page and its stylesheet need no credentials: signing in is what they are for. */
const PUBLIC = { permission: permit.public('the sign-in page of the authorization code flow') };

const Params = Type.Record(Type.String(), Type.Unknown());

/**
 * GET /oauth2/authorize shows the sign-in page; POST /oauth2/authorize checks the credentials and redirects to
 * the client with a single-use code (RFC 6749 section 4.1, PKCE S256 only per RFC 7636).
 */
export const authorizeRoutes: FastifyPluginAsyncTypebox<AuthorizeRoutesOptions> = async (app, options) => {
  const { db, clock, clients, loginThrottle } = options;
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16_384 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.setErrorHandler((error, request, reply) => {
    request.log.info({ err: error }, 'authorization request failed');
    return sendPage(
      reply,
      400,
      renderErrorPage('Sign-in failed', 'The request could not be read. Start again from the application.'),
    );
  });

  app.get(
    SIGN_IN_CSS_PATH.replace('/oauth2', ''),
    { config: PUBLIC, schema: { hide: true } },
    async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(SIGN_IN_CSS),
  );

  app.get('/authorize', { config: PUBLIC, schema: { querystring: Params, hide: true } }, async (request, reply) => {
    const parsed = await parse(request, reply, request.query);
    return parsed === undefined ? reply : sendSignIn(reply, parsed, 200);
  });

  app.post('/authorize', { config: PUBLIC, schema: { body: Params, hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const parsed = await parse(request, reply, body);
    if (parsed === undefined) return reply;
    const userName = typeof body.username === 'string' ? body.username : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const user = userName === '' || password === '' ? undefined : await signIn(userName, password, request.ip);
    if (user === 'throttled') {
      return sendSignIn(reply, parsed, 429, userName, 'Too many failed sign-ins from this network. Try again later.');
    }
    if (user === undefined) {
      request.log.info({ event: 'sign_in_failed', clientId: parsed.client.clientId }, 'sign-in refused');
      return sendSignIn(reply, parsed, 401, userName, SIGN_IN_FAILED);
    }
    const allowed = scopesAllowedForUser(user.is_admin);
    const code = await issueAuthorizationCode(db, {
      clientId: parsed.client.clientId,
      userId: user.id,
      redirectUri: parsed.redirectUri,
      codeChallenge: parsed.codeChallenge,
      scopes: parsed.scopes.filter((scope) => allowed.includes(scope)),
      now: clock.now(),
    });
    request.log.info({ event: 'sign_in', userId: user.id, clientId: parsed.client.clientId }, 'signed in');
    return redirectTo(reply, parsed.redirectUri, {
      code,
      ...(parsed.state === undefined ? {} : { state: parsed.state }),
    });
  });

  /** The user, undefined for any refusal (one answer for all), or 'throttled' when this address is over its limit. */
  async function signIn(
    userName: string,
    password: string,
    clientIp: string,
  ): Promise<UserRow | undefined | 'throttled'> {
    try {
      return await loginThrottle.verifyPasswordLogin({
        userName,
        password,
        clientIp,
        failure: () => new SignInRefused(),
      });
    } catch (error) {
      if (error instanceof SignInRefused) return undefined;
      if (error instanceof AppError && error.code === 'TOO_MANY_REQUESTS') return 'throttled';
      throw error;
    }
  }

  /** The validated request, or undefined when an error page or an error redirect was sent instead. */
  async function parse(
    request: FastifyRequest,
    reply: FastifyReply,
    raw: Record<string, unknown>,
  ): Promise<AuthorizationRequest | undefined> {
    try {
      return await validate(request, raw);
    } catch (error) {
      if (error instanceof PageError) {
        await sendPage(reply, 400, renderErrorPage('Sign-in is not possible', error.message));
        return undefined;
      }
      if (error instanceof RedirectError) {
        const state = typeof raw.state === 'string' ? raw.state : undefined;
        const redirectUri = String(raw.redirect_uri);
        await redirectTo(reply, redirectUri, {
          error: error.error,
          error_description: error.description,
          ...(state === undefined ? {} : { state }),
        });
        return undefined;
      }
      throw error;
    }
  }

  async function validate(request: FastifyRequest, raw: Record<string, unknown>): Promise<AuthorizationRequest> {
    const value = (name: string): string | undefined => {
      const given = raw[name];
      if (given === undefined) return undefined;
      if (typeof given !== 'string') throw new PageError(`The parameter '${name}' is repeated.`);
      return given;
    };
    const clientId = value('client_id');
    const client = clientId === undefined ? undefined : await clients.find(clientId);
    if (client === undefined) throw new PageError('The application is not registered with this server.');
    const redirectUri = value('redirect_uri');
    if (redirectUri === undefined || !registeredRedirectUris(client, baseUrlOf(request)).includes(redirectUri)) {
      throw new PageError('The redirect URI is not registered for this application.');
    }
    if (value('response_type') !== 'code') {
      throw new RedirectError('unsupported_response_type', "Only response_type 'code' is supported");
    }
    if (!client.grantTypes.includes('authorization_code')) {
      throw new RedirectError('unauthorized_client', 'The client may not use the authorization code grant');
    }
    const method = value('code_challenge_method');
    const codeChallenge = value('code_challenge');
    if (codeChallenge === undefined)
      throw new RedirectError('invalid_request', 'PKCE is required: send code_challenge');
    if (method !== 'S256') throw new RedirectError('invalid_request', "code_challenge_method must be 'S256'");
    if (!S256_CHALLENGE.test(codeChallenge)) throw new RedirectError('invalid_request', 'code_challenge is malformed');
    const requested = (value('scope') ?? '').split(' ').filter((scope) => scope !== '');
    const unknown = requested.find((scope) => !client.scopes.includes(scope));
    if (unknown !== undefined) throw new RedirectError('invalid_scope', `The scope '${unknown}' is not allowed`);
    const hidden: Record<string, string> = {};
    for (const name of PARAMETERS) {
      const given = value(name);
      if (given !== undefined) hidden[name] = given;
    }
    return {
      client,
      redirectUri,
      state: value('state'),
      codeChallenge,
      scopes: requested.length === 0 ? client.scopes : requested,
      hidden,
    };
  }

  function baseUrlOf(request: FastifyRequest): string {
    return (options.publicBaseUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
  }
};

/** Exact strings; a registered path (the built-in applications) is relative to the server's base URL. */
export function registeredRedirectUris(client: OAuthClient, baseUrl: string): string[] {
  return client.redirectUris.map((uri) => (uri.startsWith('/') ? `${baseUrl}${uri}` : uri));
}

function sendSignIn(
  reply: FastifyReply,
  request: AuthorizationRequest,
  status: number,
  userName?: string,
  error?: string,
) {
  const html = renderSignInPage({
    clientName: request.client.name,
    hidden: request.hidden,
    ...(userName === undefined ? {} : { userName }),
    ...(error === undefined ? {} : { error }),
  });
  // Chromium applies form-action to the redirect that follows the POST: allow the client's origin too.
  return sendPage(reply, status, html, new URL(request.redirectUri).origin);
}

function sendPage(reply: FastifyReply, status: number, html: string, redirectOrigin?: string) {
  const formAction = redirectOrigin === undefined ? "'self'" : `'self' ${redirectOrigin}`;
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

function redirectTo(reply: FastifyReply, uri: string, parameters: Record<string, string>) {
  const target = new URL(uri);
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(target.toString(), 303);
}
