import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { ExpressionBuilder } from 'kysely';
import type { Logger } from 'pino';
import { scopesAllowedForUser } from '../auth/permissions.js';
import type { Database, UserRow } from '../db/database.js';
import type { Db } from '../db/executor.js';
import { AppError } from '../errors/app-error.js';
import type { Clock } from '../shared/clock.js';
import { isUuid } from '../shared/values.js';
import { findUserById, findUserByUserName } from '../users/user-repository.js';
import type { ClientService, OAuthClient } from './client-service.js';
import {
  ACCESS_TOKEN_TYPE,
  EXTERNAL_ALGORITHMS,
  type ExternalIssuerSettings,
  type OAuthSettings,
  SIGNING_ALGORITHM,
} from './oauth-settings.js';
import type { SigningKeyStore } from './signing-keys.js';

/** WSO2's `aut` claim: whom an access token speaks for. */
export const AUT_USER = 'APPLICATION_USER';
export const AUT_CLIENT = 'APPLICATION';

/** A token that must be refused with 401; the message is safe to send to the client. */
export class InvalidTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

export type TokenSubject = { kind: 'user'; user: UserRow } | { kind: 'client'; client: OAuthClient };

export interface ResolvedToken {
  source: 'local' | 'external';
  subject: TokenSubject;
  /** What the token may do now: its scopes, cut down to what its user or client may still have. */
  scopes: string[];
  clientId: string | undefined;
  claims: JWTPayload;
}

export interface IssueInput {
  subject: { kind: 'user'; userId: string; userName: string } | { kind: 'client'; clientId: string };
  clientId: string | undefined;
  scopes: readonly string[];
  /** The password grant this token belongs to (claim `sid`); revoking the grant revokes the token. */
  grantId?: string;
  /** The client's secret version (claim `cver`); rotating the secret revokes the token. */
  clientSecretVersion?: number;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export interface AccessTokens {
  issue(input: IssueInput): Promise<IssuedAccessToken>;
  /** Verifies signature, issuer, audience, lifetime and revocation, and finds the token's user or client. */
  resolve(token: string): Promise<ResolvedToken>;
  /** Claims of a token this server signed (expiry not checked), or undefined: for revocation. */
  ownClaims(token: string): Promise<JWTPayload | undefined>;
}

export interface AccessTokensDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  signingKeys: SigningKeyStore;
  clients: ClientService;
  settings: OAuthSettings;
}

const LOCAL_CLOCK_TOLERANCE_S = 5;
const EXTERNAL_CLOCK_TOLERANCE_S = 60;

export function createAccessTokens(deps: AccessTokensDeps): AccessTokens {
  const { db, clock, signingKeys, clients, settings } = deps;
  const external = settings.external;
  const remoteKeys = external === undefined ? undefined : externalKeyResolver(external);
  const localKeys: JWTVerifyGetKey = (header) => signingKeys.verificationKey(header);

  async function verifyLocal(token: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, localKeys, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: [SIGNING_ALGORITHM],
      typ: ACCESS_TOKEN_TYPE,
      currentDate: clock.now(),
      clockTolerance: LOCAL_CLOCK_TOLERANCE_S,
      requiredClaims: ['jti', 'sub', 'exp', 'iat'],
    });
    return payload;
  }

  async function resolveLocal(token: string): Promise<ResolvedToken> {
    const claims = await verifyLocal(token);
    const jti = String(claims.jti);
    const scopes = scopesOf(claims);
    const clientId = typeof claims.client_id === 'string' ? claims.client_id : undefined;
    const tokenRevoked = (eb: ExpressionBuilder<Database, keyof Database>) =>
      eb.exists(eb.selectFrom('oauth_revoked_tokens').select('jti').where('jti', '=', jti));

    if (claims.aut === AUT_CLIENT) {
      const { revoked } = await db.selectNoFrom((eb) => tokenRevoked(eb).as('revoked')).executeTakeFirstOrThrow();
      if (revoked) throw new InvalidTokenError('The access token was revoked');
      const client = clientId === undefined ? undefined : await clients.find(clientId);
      if (client === undefined || client.clientId !== claims.sub) {
        throw new InvalidTokenError('The client of the access token no longer exists');
      }
      if ((claims.cver ?? 1) !== client.secretVersion) {
        throw new InvalidTokenError('The client secret of the access token was rotated');
      }
      return {
        source: 'local',
        subject: { kind: 'client', client },
        scopes: scopes.filter((scope) => client.scopes.includes(scope)),
        clientId,
        claims,
      };
    }
    if (claims.aut !== AUT_USER || typeof claims.sid !== 'string' || !isUuid(claims.sid)) {
      throw new InvalidTokenError('The access token is malformed');
    }
    // The login and the token's own revocation in one round trip.
    const grant = await db
      .selectFrom('oauth_grants')
      .select(['user_id', 'revoked_at'])
      .select((eb) => tokenRevoked(eb).as('token_revoked'))
      .where('id', '=', claims.sid)
      .executeTakeFirst();
    if (grant === undefined || grant.token_revoked || grant.revoked_at !== null || grant.user_id !== claims.sub) {
      throw new InvalidTokenError('The access token was revoked');
    }
    const user = activeUser(await findUserById(db, grant.user_id));
    return { source: 'local', subject: { kind: 'user', user }, scopes: allowedFor(user, scopes), clientId, claims };
  }

  async function resolveExternal(token: string, issuer: ExternalIssuerSettings, keys: JWTVerifyGetKey) {
    const { payload: claims } = await jwtVerify(token, keys, {
      issuer: issuer.issuer,
      ...(issuer.audience === undefined ? {} : { audience: issuer.audience }),
      algorithms: EXTERNAL_ALGORITHMS,
      currentDate: clock.now(),
      clockTolerance: EXTERNAL_CLOCK_TOLERANCE_S,
      requiredClaims: ['exp'],
    });
    const user = activeUser(await externalUser(claims, issuer.userClaim));
    const clientId =
      typeof claims.client_id === 'string' ? claims.client_id : typeof claims.azp === 'string' ? claims.azp : undefined;
    const result: ResolvedToken = {
      source: 'external',
      subject: { kind: 'user', user },
      scopes: allowedFor(user, scopesOf(claims)),
      clientId,
      claims,
    };
    return result;
  }

  /** Maps an external token to a local user: the configured claim, then `username`, by userName or id. */
  async function externalUser(claims: JWTPayload, userClaim: string): Promise<UserRow | undefined> {
    const candidates = [claims[userClaim], claims.username].filter(
      (value, index, all): value is string => typeof value === 'string' && value !== '' && all.indexOf(value) === index,
    );
    for (const candidate of candidates) {
      const user =
        (isUuid(candidate) ? await findUserById(db, candidate) : undefined) ??
        (await findUserByUserName(db, candidate));
      if (user !== undefined) return user;
    }
    return undefined;
  }

  return {
    async issue(input) {
      const signer = await signingKeys.signer();
      const now = Math.floor(clock.now().getTime() / 1000);
      const jti = randomUUID();
      const subject = input.subject;
      const payload: JWTPayload = {
        scope: input.scopes.join(' '),
        aut: subject.kind === 'user' ? AUT_USER : AUT_CLIENT,
        ...(subject.kind === 'user' ? { username: subject.userName } : {}),
        ...(input.clientId === undefined ? {} : { client_id: input.clientId }),
        ...(input.grantId === undefined ? {} : { sid: input.grantId }),
        ...(input.clientSecretVersion === undefined ? {} : { cver: input.clientSecretVersion }),
      };
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setSubject(subject.kind === 'user' ? subject.userId : subject.clientId)
        .setJti(jti)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + settings.accessTokenTtlSeconds)
        .sign(signer.privateKey);
      return { token, jti, expiresIn: settings.accessTokenTtlSeconds };
    },

    async resolve(token) {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new InvalidTokenError('The access token is malformed');
      }
      try {
        if (issuer === settings.issuer) return await resolveLocal(token);
        if (external !== undefined && remoteKeys !== undefined && issuer === external.issuer) {
          return await resolveExternal(token, external, remoteKeys);
        }
      } catch (error) {
        throw translate(error, deps.logger);
      }
      throw new InvalidTokenError('The access token was not issued by a trusted issuer');
    },

    async ownClaims(token) {
      try {
        if (decodeJwt(token).iss !== settings.issuer) return undefined;
        const { payload } = await jwtVerify(token, localKeys, {
          issuer: settings.issuer,
          algorithms: [SIGNING_ALGORITHM],
          typ: ACCESS_TOKEN_TYPE,
          // Far in the past: an expired token verifies here (revoking it is a no-op anyway).
          currentDate: new Date(0),
          clockTolerance: Number.MAX_SAFE_INTEGER,
        });
        return payload;
      } catch {
        return undefined;
      }
    },
  };
}

function activeUser(user: UserRow | undefined): UserRow {
  if (user === undefined) throw new InvalidTokenError('The user of the access token does not exist');
  if (!user.active) throw new InvalidTokenError('The user of the access token is disabled');
  return user;
}

/** A user's token can do no more than the user may do today (an administrator demoted since loses it). */
function allowedFor(user: UserRow, scopes: string[]): string[] {
  const allowed = scopesAllowedForUser(user.is_admin);
  return scopes.filter((scope) => allowed.includes(scope));
}

/** `scope` (RFC 9068, space-separated) or `scp` (Entra ID and others: a string or a list). */
function scopesOf(claims: JWTPayload): string[] {
  const raw = claims.scope ?? claims.scp;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(' ') : [];
  return [...new Set(list.filter((scope): scope is string => typeof scope === 'string' && scope !== ''))];
}

/** The identity provider's keys could not be had (timeout, network, bad answer): not the caller's fault. */
class KeysUnavailableError extends Error {}

/** jose's remote JWKS (cached, refetched on an unknown `kid` at most every 30 s), with fetch failures told apart. */
function externalKeyResolver(external: ExternalIssuerSettings): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(external.jwksUrl, {
    timeoutDuration: external.timeoutMs,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeysUnavailableError('external JWKS unavailable', { cause: error });
    }
  };
}

function translate(error: unknown, logger: Logger): Error {
  if (error instanceof InvalidTokenError || error instanceof AppError) return error;
  if (error instanceof KeysUnavailableError) {
    logger.warn({ err: error.cause }, 'the external identity provider keys could not be fetched');
    return new AppError('SERVICE_UNAVAILABLE', 'The identity provider keys could not be fetched; try again shortly', {
      retryAfterSeconds: 5,
    });
  }
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('The access token expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new InvalidTokenError(`The access token's '${error.claim}' claim is not acceptable`);
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JWSSignatureVerificationFailed
  ) {
    return new InvalidTokenError('The access token signature could not be verified');
  }
  if (error instanceof errors.JOSEError) return new InvalidTokenError('The access token is invalid');
  return error instanceof Error ? error : new Error(String(error));
}
