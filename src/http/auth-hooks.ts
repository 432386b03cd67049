import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticate.js';
import { ruleFor } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors/app-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Every route in `scope` requires an authenticated caller; checked before the body is read. */
export function requireAuthentication(scope: FastifyInstance, authenticator: Authenticator): void {
  scope.addHook('onRequest', async (request) => {
    request.principal = await authenticator.authenticate(request.headers.authorization);
  });
}

function authenticated(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new AppError('UNAUTHENTICATED', 'Authentication required');
  return request.principal;
}

/** RFC 6750 section 3.1: the scope the request lacks, in the challenge. */
function insufficientScope(scope: string): AppError {
  return new AppError('FORBIDDEN', `The access token lacks the scope '${scope}'`, {
    headers: {
      'www-authenticate': `Bearer realm="scim", error="insufficient_scope", error_description="The access token lacks a required scope", scope="${scope}"`,
    },
  });
}

/**
 * A bearer caller must hold the scope that src/auth/permissions.ts names for this route.
 * A route missing from the table is refused (fail closed); so is a self-service route for a
 * token that has no user (client_credentials), and `adminOnly` on a self-service route.
 */
function authorizeBearer(request: FastifyRequest, principal: Principal, adminOnly: boolean): void {
  const rule = ruleFor(request.method, request.routeOptions.url);
  if (rule === undefined) {
    throw new AppError('FORBIDDEN', 'This operation is not available to bearer tokens');
  }
  if (rule.selfService === true && (adminOnly || principal.subject === 'client')) {
    throw new AppError('FORBIDDEN', "This operation acts on the caller's own account and needs a user's token");
  }
  if (!(principal.scopes ?? []).includes(rule.scope)) throw insufficientScope(rule.scope);
}

/**
 * The caller. Basic callers pass as they are (role checks are the route's business);
 * bearer callers must hold the route's scope (self-service routes: `internal_login`).
 */
export function principalOf(request: FastifyRequest): Principal {
  const principal = authenticated(request);
  if (principal.scheme === 'bearer') authorizeBearer(request, principal, false);
  return principal;
}

/** Privileged routes: Basic callers must be administrators; bearer callers need the route's scope. */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = authenticated(request);
  if (principal.scheme === 'bearer') {
    authorizeBearer(request, principal, true);
    return principal;
  }
  if (!principal.isAdmin) throw new AppError('FORBIDDEN', 'This operation requires an administrator');
  return principal;
}
