import { AppError, isAppError } from '../errors/app-error.js';
import { type AccessTokens, InvalidTokenError, type ResolvedToken } from '../oauth/access-tokens.js';
import { type Authenticator, BASIC_CHALLENGE } from './authenticate.js';
import { type RevocationTarget, targetTag } from './credential-events.js';
import type { Principal } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';

export const BEARER_CHALLENGE = 'Bearer realm="scim"';
/** RFC 7235: one header may carry several challenges; both schemes are offered. */
export const BOTH_CHALLENGES = `${BASIC_CHALLENGE}, ${BEARER_CHALLENGE}`;

/** RFC 6750 section 2.1: b64token. */
const BEARER = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i;

function quoted(value: string): string {
  return value.replace(/["\\]/g, '');
}

/** 401 for a token that is missing, malformed, expired, revoked, forged or whose user is gone (RFC 6750 3.1). */
function invalidToken(description: string): AppError {
  return new AppError('UNAUTHENTICATED', description, {
    headers: {
      'www-authenticate': `${BEARER_CHALLENGE}, error="invalid_token", error_description="${quoted(description)}"`,
    },
  });
}

/** `Authorization: Bearer <JWT>`: a token of this server or of the configured external identity provider. */
export function createBearerAuthenticator(accessTokens: AccessTokens, principals: PrincipalCache): Authenticator {
  return {
    async authenticate(authorization) {
      const match = authorization === undefined ? null : BEARER.exec(authorization);
      if (match?.[1] === undefined) throw invalidToken('Malformed bearer token');
      // The whole token is the key (its signature covers the claims): a hit needs no signature check.
      const key = principals.keyOf('bearer', match[1]);
      const cached = principals.get(key);
      if (cached !== undefined) return cached;
      const ticket = principals.ticket();
      let resolved: ResolvedToken;
      try {
        resolved = await accessTokens.resolve(match[1]);
      } catch (error) {
        if (error instanceof InvalidTokenError) throw invalidToken(error.message);
        throw error;
      }
      const { subject } = resolved;
      const principal: Principal =
        subject.kind === 'user'
          ? {
              userId: subject.user.id,
              userName: subject.user.user_name,
              isAdmin: subject.user.is_admin,
              scheme: 'bearer',
              scopes: resolved.scopes,
              subject: 'user',
            }
          : {
              userId: subject.client.clientId,
              userName: subject.client.name,
              isAdmin: false,
              scheme: 'bearer',
              scopes: resolved.scopes,
              subject: 'client',
            };
      if (resolved.clientId !== undefined) principal.clientId = resolved.clientId;
      const expiresAt = typeof resolved.claims.exp === 'number' ? resolved.claims.exp * 1000 : undefined;
      principals.put(ticket, key, principal, revocationTags(resolved), expiresAt);
      return principal;
    },
  };
}

/** What can revoke a token: its user or client, its login (`sid`), itself (`jti`), the client it was issued to. */
function revocationTags(resolved: ResolvedToken): string[] {
  const { subject, claims } = resolved;
  const targets: RevocationTarget[] = [
    subject.kind === 'user' ? { kind: 'user', id: subject.user.id } : { kind: 'client', id: subject.client.clientId },
  ];
  if (typeof claims.sid === 'string') targets.push({ kind: 'grant', id: claims.sid });
  if (typeof claims.jti === 'string') targets.push({ kind: 'token', id: claims.jti });
  if (resolved.clientId !== undefined) targets.push({ kind: 'client', id: resolved.clientId });
  return targets.map(targetTag);
}

/** `Basic ...` → the Basic authenticator, `Bearer ...` → the bearer one; the 401 challenge offers both. */
export function createCompositeAuthenticator(basic: Authenticator, bearer: Authenticator): Authenticator {
  return {
    async authenticate(authorization, clientIp) {
      const scheme = authorization?.trim().split(/\s+/, 1)[0]?.toLowerCase();
      if (scheme === 'bearer') return bearer.authenticate(authorization);
      if (scheme === 'basic') {
        try {
          return await basic.authenticate(authorization, clientIp);
        } catch (error) {
          if (isAppError(error) && error.code === 'UNAUTHENTICATED') {
            throw new AppError('UNAUTHENTICATED', error.detail, { headers: { 'www-authenticate': BOTH_CHALLENGES } });
          }
          throw error;
        }
      }
      const detail =
        scheme === undefined || scheme === '' ? 'Authentication required' : 'Unsupported authorization scheme';
      throw new AppError('UNAUTHENTICATED', detail, { headers: { 'www-authenticate': BOTH_CHALLENGES } });
    },
  };
}
