import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Revocations } from '../auth/credential-events.js';
import type { LoginThrottle } from '../auth/login-throttle.js';
import { ALL_SCOPES, scopesAllowedForUser } from '../auth/permissions.js';
import type { Db, Executor } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { findUserById } from '../users/user-repository.js';
import { type AccessTokens, InvalidTokenError } from './access-tokens.js';
import {
  deleteStaleAuthorizationCodes,
  pkceMatches,
  recordGrantOfCode,
  redeemAuthorizationCode,
} from './authorization-codes.js';
import { type ClientService, type GrantType, type OAuthClient, splitSpaces } from './client-service.js';
import type { OAuthSettings } from './oauth-settings.js';

/** Client credentials as presented: in the Authorization header (Basic) or as form fields. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  viaHeader: boolean;
}

export interface TokenRequest {
  grantType: string;
  /** Undefined: no client authentication (the password grant of end users and scripts). */
  client: ClientCredentials | undefined;
  username?: string | undefined;
  password?: string | undefined;
  scope?: string | undefined;
  refreshToken?: string | undefined;
  /** authorization_code: the code, the redirect_uri it was issued for, and the PKCE code_verifier. */
  code?: string | undefined;
  redirectUri?: string | undefined;
  codeVerifier?: string | undefined;
  /** A client_id sent without a secret: a public client (authorization_code only). */
  publicClientId?: string | undefined;
  /** For the failed-login limits per client IP. */
  clientIp?: string | undefined;
}

/** RFC 6749 section 5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export interface TokenService {
  token(request: TokenRequest): Promise<TokenResponse>;
  /** RFC 7009: unknown tokens and tokens of other clients are answered like success (nothing to tell). */
  revoke(
    client: ClientCredentials | undefined,
    token: string,
    hint: string | undefined,
    publicClientId?: string,
  ): Promise<void>;
  introspect(token: string, hint: string | undefined): Promise<IntrospectionResponse>;
  /** A registered client by its credentials, or OAUTH_INVALID_CLIENT. */
  authenticateClient(credentials: ClientCredentials): Promise<OAuthClient>;
}

export interface TokenServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  clients: ClientService;
  accessTokens: AccessTokens;
  settings: OAuthSettings;
  loginThrottle: LoginThrottle;
  revocations: Revocations;
}

/** RFC 6749 appendix A.4: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const CLEANUP_INTERVAL_MS = 10 * 60_000;

export function createTokenService(deps: TokenServiceDeps): TokenService {
  const { db, clock, logger, clients, accessTokens, settings, revocations } = deps;
  let lastCleanup = 0;

  async function authenticateClient(credentials: ClientCredentials, clientIp?: string): Promise<OAuthClient> {
    return deps.loginThrottle.guard(
      credentials.clientId,
      clientIp,
      () =>
        new AppError('OAUTH_INVALID_CLIENT', 'Client authentication failed', {
          headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
        }),
      () => clients.authenticate(credentials.clientId, credentials.clientSecret),
    );
  }

  function requireGrantType(client: OAuthClient | undefined, grantType: GrantType): void {
    if (client !== undefined && !client.grantTypes.includes(grantType)) {
      throw new AppError('OAUTH_UNAUTHORIZED_CLIENT', `The client is not allowed to use the ${grantType} grant`);
    }
  }

  async function passwordGrant(request: TokenRequest, client: OAuthClient | undefined): Promise<TokenResponse> {
    requireGrantType(client, 'password');
    const { username, password } = request;
    if (username === undefined || username === '' || password === undefined) {
      throw new AppError('OAUTH_INVALID_REQUEST', "The password grant needs 'username' and 'password'");
    }
    const user = await deps.loginThrottle.verifyPasswordLogin({
      userName: username,
      password,
      clientIp: request.clientIp,
      failure: () => new AppError('OAUTH_INVALID_GRANT', 'Invalid username or password'),
    });
    const ceiling = scopesAllowedForUser(user.is_admin).filter((scope) => client?.scopes.includes(scope) ?? true);
    const scopes = requestedScopes(request.scope, ceiling);
    const withRefresh = client === undefined || client.grantTypes.includes('refresh_token');
    const now = clock.now();
    const grantId = randomUUID();
    const refresh = withRefresh ? newRefreshToken() : undefined;
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('oauth_grants')
        .values({
          id: grantId,
          user_id: user.id,
          client_id: client?.clientId ?? null,
          scope: scopes.join(' '),
          created_at: now,
          expires_at: grantExpiry(now, withRefresh),
          revoked_at: null,
        })
        .execute();
      if (refresh !== undefined) await storeRefreshToken(trx, grantId, refresh, now);
    });
    const access = await accessTokens.issue({
      subject: { kind: 'user', userId: user.id, userName: user.user_name },
      clientId: client?.clientId,
      scopes,
      grantId,
      ...(client === undefined ? {} : { clientSecretVersion: client.secretVersion }),
    });
    logger.info(
      { event: 'token_issued', grantType: 'password', userId: user.id, clientId: client?.clientId, jti: access.jti },
      'access token issued',
    );
    void cleanup();
    return response(access.token, scopes, refresh);
  }

  async function clientCredentialsGrant(request: TokenRequest, client: OAuthClient | undefined) {
    if (client === undefined) {
      throw new AppError('OAUTH_INVALID_CLIENT', 'The client_credentials grant needs client authentication', {
        headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
      });
    }
    requireGrantType(client, 'client_credentials');
    const scopes = requestedScopes(request.scope, client.scopes);
    const access = await accessTokens.issue({
      subject: { kind: 'client', clientId: client.clientId },
      clientId: client.clientId,
      scopes,
      clientSecretVersion: client.secretVersion,
    });
    logger.info(
      { event: 'token_issued', grantType: 'client_credentials', clientId: client.clientId, jti: access.jti },
      'access token issued',
    );
    return response(access.token, scopes, undefined);
  }

  async function refreshTokenGrant(request: TokenRequest, client: OAuthClient | undefined): Promise<TokenResponse> {
    requireGrantType(client, 'refresh_token');
    if (request.refreshToken === undefined || request.refreshToken === '') {
      throw new AppError('OAUTH_INVALID_REQUEST', "The refresh_token grant needs 'refresh_token'");
    }
    const tokenHash = hashToken(request.refreshToken);
    const now = clock.now();
    const outcome = await revocations.transaction(db, async (trx, revoke) => {
      const row = await trx
        .selectFrom('oauth_refresh_tokens as r')
        .innerJoin('oauth_grants as g', 'g.id', 'r.grant_id')
        .select(['r.grant_id', 'r.expires_at', 'r.used_at', 'g.user_id', 'g.client_id', 'g.scope', 'g.revoked_at'])
        .where('r.token_hash', '=', tokenHash)
        .forUpdate()
        .executeTakeFirst();
      if (row === undefined || row.revoked_at !== null || row.expires_at.getTime() <= now.getTime()) {
        return { kind: 'invalid' } as const;
      }
      if (row.client_id !== null && client === undefined) return { kind: 'client-required' } as const;
      if (row.client_id !== (client?.clientId ?? null)) return { kind: 'invalid' } as const;
      if (row.used_at !== null) {
        // A rotated token used again: it may have been stolen, so the whole grant dies (RFC 9700 4.14.2).
        await trx.updateTable('oauth_grants').set({ revoked_at: now }).where('id', '=', row.grant_id).execute();
        revoke({ kind: 'grant', id: row.grant_id });
        return { kind: 'reused', grantId: row.grant_id } as const;
      }
      const user = await findUserById(trx, row.user_id);
      if (user === undefined || !user.active) return { kind: 'invalid' } as const;
      const granted = splitSpaces(row.scope);
      const scopes = requestedScopes(request.scope, granted).filter((scope) =>
        scopesAllowedForUser(user.is_admin).includes(scope),
      );
      await trx.updateTable('oauth_refresh_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).execute();
      const refresh = newRefreshToken();
      await storeRefreshToken(trx, row.grant_id, refresh, now);
      await trx
        .updateTable('oauth_grants')
        .set({ expires_at: grantExpiry(now, true) })
        .where('id', '=', row.grant_id)
        .execute();
      return { kind: 'ok', user, scopes, refresh, grantId: row.grant_id } as const;
    });
    switch (outcome.kind) {
      case 'client-required':
        throw new AppError('OAUTH_INVALID_CLIENT', 'This refresh token needs client authentication', {
          headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
        });
      case 'reused':
        logger.warn({ event: 'refresh_token_reused', grantId: outcome.grantId }, 'a used refresh token came back');
        throw new AppError('OAUTH_INVALID_GRANT', 'The refresh token is invalid, expired or revoked');
      case 'invalid':
        throw new AppError('OAUTH_INVALID_GRANT', 'The refresh token is invalid, expired or revoked');
    }
    const access = await accessTokens.issue({
      subject: { kind: 'user', userId: outcome.user.id, userName: outcome.user.user_name },
      clientId: client?.clientId,
      scopes: outcome.scopes,
      grantId: outcome.grantId,
      ...(client === undefined ? {} : { clientSecretVersion: client.secretVersion }),
    });
    logger.info(
      { event: 'token_issued', grantType: 'refresh_token', userId: outcome.user.id, clientId: client?.clientId },
      'access token issued',
    );
    return response(access.token, outcome.scopes, outcome.refresh);
  }

  /** The client of an authorization code request: authenticated (confidential) or named by client_id (public). */
  async function codeClient(request: TokenRequest, client: OAuthClient | undefined): Promise<OAuthClient> {
    if (client !== undefined) return client;
    if (request.publicClientId === undefined) {
      throw new AppError('OAUTH_INVALID_REQUEST', "The authorization_code grant needs 'client_id'");
    }
    const named = await clients.find(request.publicClientId);
    if (named === undefined || !named.isPublic) {
      throw new AppError('OAUTH_INVALID_CLIENT', 'Client authentication failed', {
        headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
      });
    }
    return named;
  }

  async function authorizationCodeGrant(request: TokenRequest, given: OAuthClient | undefined) {
    const client = await codeClient(request, given);
    requireGrantType(client, 'authorization_code');
    const { code, redirectUri, codeVerifier } = request;
    if (code === undefined || code === '' || redirectUri === undefined || codeVerifier === undefined) {
      throw new AppError(
        'OAUTH_INVALID_REQUEST',
        "The authorization_code grant needs 'code', 'redirect_uri' and 'code_verifier' (PKCE)",
      );
    }
    const now = clock.now();
    const withRefresh = !client.isPublic && client.grantTypes.includes('refresh_token');
    const outcome = await revocations.transaction(db, async (trx, revoke) => {
      const redemption = await redeemAuthorizationCode(trx, code, now);
      if (redemption.kind === 'reused') {
        // RFC 6749 section 4.1.2: a code used twice may have been stolen; what it produced dies.
        if (redemption.grantId !== null) {
          await trx.updateTable('oauth_grants').set({ revoked_at: now }).where('id', '=', redemption.grantId).execute();
          revoke({ kind: 'grant', id: redemption.grantId });
        }
        return { kind: 'reused', grantId: redemption.grantId } as const;
      }
      if (redemption.kind === 'unknown') return { kind: 'invalid', reason: 'unknown code' } as const;
      const issued = redemption.code;
      // Any mismatch burns the code too (it is already marked used): no second guess at the verifier.
      if (issued.clientId !== client.clientId) return { kind: 'invalid', reason: 'other client' } as const;
      if (issued.expiresAt.getTime() <= now.getTime()) return { kind: 'invalid', reason: 'expired' } as const;
      if (issued.redirectUri !== redirectUri) return { kind: 'invalid', reason: 'redirect_uri differs' } as const;
      if (!pkceMatches(codeVerifier, issued.codeChallenge)) return { kind: 'invalid', reason: 'PKCE' } as const;
      const user = await findUserById(trx, issued.userId);
      if (user === undefined || !user.active) return { kind: 'invalid', reason: 'user disabled' } as const;
      const scopes = issued.scopes.filter((scope) => scopesAllowedForUser(user.is_admin).includes(scope));
      const grantId = randomUUID();
      await trx
        .insertInto('oauth_grants')
        .values({
          id: grantId,
          user_id: user.id,
          client_id: client.clientId,
          scope: scopes.join(' '),
          created_at: now,
          expires_at: grantExpiry(now, withRefresh),
          revoked_at: null,
        })
        .execute();
      const refresh = withRefresh ? newRefreshToken() : undefined;
      if (refresh !== undefined) await storeRefreshToken(trx, grantId, refresh, now);
      await recordGrantOfCode(trx, code, grantId);
      return { kind: 'ok', user, scopes, grantId, refresh } as const;
    });
    if (outcome.kind === 'reused') {
      logger.warn(
        { event: 'authorization_code_reused', clientId: client.clientId, grantId: outcome.grantId },
        'a used authorization code came back; its grant is revoked',
      );
    }
    if (outcome.kind !== 'ok') {
      if (outcome.kind === 'invalid') {
        logger.info(
          { event: 'authorization_code_refused', clientId: client.clientId, reason: outcome.reason },
          'authorization code refused',
        );
      }
      throw new AppError(
        'OAUTH_INVALID_GRANT',
        'The authorization code is invalid, expired or used, or does not match the redirect_uri or code_verifier',
      );
    }
    const access = await accessTokens.issue({
      subject: { kind: 'user', userId: outcome.user.id, userName: outcome.user.user_name },
      clientId: client.clientId,
      scopes: outcome.scopes,
      grantId: outcome.grantId,
    });
    logger.info(
      {
        event: 'token_issued',
        grantType: 'authorization_code',
        userId: outcome.user.id,
        clientId: client.clientId,
        jti: access.jti,
      },
      'access token issued',
    );
    void cleanup();
    return response(access.token, outcome.scopes, outcome.refresh);
  }

  function grantExpiry(now: Date, withRefresh: boolean): Date {
    const seconds = Math.max(settings.accessTokenTtlSeconds, withRefresh ? settings.refreshTokenTtlSeconds : 0);
    return new Date(now.getTime() + seconds * 1000);
  }

  async function storeRefreshToken(trx: Executor, grantId: string, token: string, now: Date): Promise<void> {
    await trx
      .insertInto('oauth_refresh_tokens')
      .values({
        token_hash: hashToken(token),
        grant_id: grantId,
        created_at: now,
        expires_at: new Date(now.getTime() + settings.refreshTokenTtlSeconds * 1000),
        used_at: null,
      })
      .execute();
  }

  function response(accessToken: string, scopes: readonly string[], refresh: string | undefined): TokenResponse {
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: settings.accessTokenTtlSeconds,
      scope: scopes.join(' '),
      ...(refresh === undefined ? {} : { refresh_token: refresh }),
    };
  }

  /** Expired grants (and their refresh tokens) and revocation entries of expired tokens, now and then. */
  async function cleanup(): Promise<void> {
    if (Date.now() - lastCleanup < CLEANUP_INTERVAL_MS) return;
    lastCleanup = Date.now();
    try {
      const now = clock.now();
      await db.deleteFrom('oauth_grants').where('expires_at', '<', now).execute();
      await db.deleteFrom('oauth_revoked_tokens').where('expires_at', '<', now).execute();
      await deleteStaleAuthorizationCodes(db, new Date(now.getTime() - CLEANUP_INTERVAL_MS));
    } catch (error) {
      logger.warn({ err: error }, 'cleaning up expired OAuth grants failed');
    }
  }

  /** Whether the caller may revoke a token issued to `tokenClient` (null: no client). */
  function mayRevoke(caller: OAuthClient | undefined, tokenClient: string | null): boolean {
    if (tokenClient !== null && caller === undefined) {
      throw new AppError('OAUTH_INVALID_CLIENT', 'This token was issued to a client: authenticate as that client', {
        headers: { 'www-authenticate': 'Basic realm="oauth2", charset="UTF-8"' },
      });
    }
    return (caller?.clientId ?? null) === tokenClient;
  }

  async function revokeAccessToken(caller: OAuthClient | undefined, token: string): Promise<boolean> {
    const claims = await accessTokens.ownClaims(token);
    if (claims === undefined || typeof claims.jti !== 'string' || typeof claims.exp !== 'number') return false;
    if (!mayRevoke(caller, typeof claims.client_id === 'string' ? claims.client_id : null)) return true;
    const jti = claims.jti;
    await revocations.transaction(db, async (trx, revoke) => {
      await trx
        .insertInto('oauth_revoked_tokens')
        .values({ jti, expires_at: new Date(Number(claims.exp) * 1000) })
        .onConflict((conflict) => conflict.column('jti').doNothing())
        .execute();
      revoke({ kind: 'token', id: jti });
    });
    logger.info({ event: 'token_revoked', kind: 'access_token', jti: claims.jti }, 'access token revoked');
    return true;
  }

  async function revokeRefreshToken(caller: OAuthClient | undefined, token: string): Promise<boolean> {
    const row = await db
      .selectFrom('oauth_refresh_tokens as r')
      .innerJoin('oauth_grants as g', 'g.id', 'r.grant_id')
      .select(['g.id', 'g.client_id'])
      .where('r.token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined) return false;
    if (!mayRevoke(caller, row.client_id)) return true;
    // The grant goes, and with it every refresh token and access token (claim `sid`) it produced.
    await revocations.transaction(db, async (trx, revoke) => {
      await trx
        .updateTable('oauth_grants')
        .set({ revoked_at: clock.now() })
        .where('id', '=', row.id)
        .where('revoked_at', 'is', null)
        .execute();
      revoke({ kind: 'grant', id: row.id });
    });
    logger.info({ event: 'token_revoked', kind: 'refresh_token', grantId: row.id }, 'grant revoked');
    return true;
  }

  async function introspectAccessToken(token: string): Promise<IntrospectionResponse | undefined> {
    try {
      const resolved = await accessTokens.resolve(token);
      const { claims, subject } = resolved;
      return {
        active: true,
        token_type: 'Bearer',
        scope: resolved.scopes.join(' '),
        ...(resolved.clientId === undefined ? {} : { client_id: resolved.clientId }),
        ...(subject.kind === 'user' ? { username: subject.user.user_name } : {}),
        sub: subject.kind === 'user' ? subject.user.id : subject.client.clientId,
        iss: claims.iss,
        aud: claims.aud,
        exp: claims.exp,
        iat: claims.iat,
        ...(claims.nbf === undefined ? {} : { nbf: claims.nbf }),
        ...(claims.jti === undefined ? {} : { jti: claims.jti }),
      };
    } catch (error) {
      if (error instanceof InvalidTokenError) return undefined;
      throw error;
    }
  }

  async function introspectRefreshToken(token: string): Promise<IntrospectionResponse | undefined> {
    const row = await db
      .selectFrom('oauth_refresh_tokens as r')
      .innerJoin('oauth_grants as g', 'g.id', 'r.grant_id')
      .innerJoin('users as u', 'u.id', 'g.user_id')
      .select(['r.created_at', 'r.expires_at', 'r.used_at', 'g.client_id', 'g.scope', 'g.revoked_at'])
      .select(['u.id as user_id', 'u.user_name', 'u.active'])
      .where('r.token_hash', '=', hashToken(token))
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const live =
      row.used_at === null && row.revoked_at === null && row.active && row.expires_at.getTime() > clock.now().getTime();
    if (!live) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      scope: row.scope,
      ...(row.client_id === null ? {} : { client_id: row.client_id }),
      username: row.user_name,
      sub: row.user_id,
      iss: settings.issuer,
      exp: Math.floor(row.expires_at.getTime() / 1000),
      iat: Math.floor(row.created_at.getTime() / 1000),
    };
  }

  return {
    authenticateClient,

    async token(request) {
      const client =
        request.client === undefined ? undefined : await authenticateClient(request.client, request.clientIp);
      switch (request.grantType) {
        case 'password':
          return passwordGrant(request, client);
        case 'client_credentials':
          return clientCredentialsGrant(request, client);
        case 'refresh_token':
          return refreshTokenGrant(request, client);
        case 'authorization_code':
          return authorizationCodeGrant(request, client);
        default:
          throw new AppError('OAUTH_UNSUPPORTED_GRANT_TYPE', `Unsupported grant_type '${request.grantType}'`);
      }
    },

    async revoke(credentials, token, hint, publicClientId) {
      const caller =
        credentials !== undefined
          ? await authenticateClient(credentials)
          : publicClientId === undefined
            ? undefined
            : await codeClient({ grantType: 'authorization_code', client: undefined, publicClientId }, undefined);
      const attempts =
        hint === 'refresh_token' ? [revokeRefreshToken, revokeAccessToken] : [revokeAccessToken, revokeRefreshToken];
      for (const attempt of attempts) {
        if (await attempt(caller, token)) return;
      }
    },

    async introspect(token, hint) {
      const attempts =
        hint === 'refresh_token'
          ? [introspectRefreshToken, introspectAccessToken]
          : [introspectAccessToken, introspectRefreshToken];
      for (const attempt of attempts) {
        const result = await attempt(token);
        if (result !== undefined) return result;
      }
      return { active: false };
    },
  };
}

/** Scopes for a token: the requested ones if all are within `ceiling` (else invalid_scope), or all of `ceiling`. */
export function requestedScopes(requested: string | undefined, ceiling: readonly string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...ceiling];
  const scopes = [...new Set(requested.split(' ').filter((scope) => scope !== ''))];
  for (const scope of scopes) {
    if (!SCOPE_TOKEN.test(scope)) throw new AppError('OAUTH_INVALID_SCOPE', 'The scope parameter is malformed');
    if (!ceiling.includes(scope)) {
      const known = ALL_SCOPES.includes(scope) ? 'not allowed here' : 'unknown';
      throw new AppError('OAUTH_INVALID_SCOPE', `The scope '${scope}' is ${known}`);
    }
  }
  return scopes;
}

function newRefreshToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Refresh tokens are 256 random bits: a plain SHA-256 is enough to keep them unusable if the table leaks. */
function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
