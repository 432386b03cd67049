import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticate.js';
import { declarationProblem, type RoutePermission } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../errors/app-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Who may call the route; required on every route (see src/auth/permissions.ts). */
    permission?: RoutePermission;
  }
}

/** A registered route and what it declared (tests walk them against the table). */
export interface DeclaredRoute {
  method: string;
  url: string;
  permission: RoutePermission;
}

/**
 * The one place that enforces route permissions. Installed on the root instance before any
 * route: every route registered afterwards must declare `config.permission` matching the
 * table (else registration throws and the server does not start), and every request is
 * authenticated and authorized from that declaration before its body is read.
 * Returns the routes seen, for tests.
 */
export function enforcePermissions(app: FastifyInstance, authenticator: Authenticator): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const permission = route.config?.permission;
    for (const method of methods) {
      const problem = declarationProblem(method, route.url, permission);
      if (problem !== undefined || permission === undefined) throw new Error(problem);
      routes.push({ method, url: route.url, permission });
    }
  });
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    // No route matched (404 handler), a public route, or one that authenticates clients itself.
    if (permission === undefined || permission.access === 'public' || permission.access === 'client-or-admin') return;
    request.principal = await authenticator.authenticate(request.headers.authorization, request.ip);
    authorize(request.principal, permission);
  });
  return routes;
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

/** Basic callers by role (administrators on privileged routes); bearer callers by the route's scope. */
function authorize(principal: Principal, permission: RoutePermission): void {
  if (permission.access === 'public') return;
  const adminRoute = permission.access !== 'self';
  if (principal.scheme === 'basic') {
    if (adminRoute && !principal.isAdmin) throw new AppError('FORBIDDEN', 'This operation requires an administrator');
    return;
  }
  if (!adminRoute && principal.subject === 'client') {
    throw new AppError('FORBIDDEN', "This operation acts on the caller's own account and needs a user's token");
  }
  if (!(principal.scopes ?? []).includes(permission.scope)) throw insufficientScope(permission.scope);
}

/** The caller, as the permission hook authenticated and authorized it. */
export function principalOf(request: FastifyRequest): Principal {
  return authenticated(request);
}

/**
 * The caller of a privileged route, checked again as an administrator against the route's
 * declared scope (also for `client-or-admin` routes, which authenticate the caller themselves).
 */
export function requireAdmin(request: FastifyRequest): Principal {
  const principal = authenticated(request);
  const permission = request.routeOptions.config.permission;
  if (permission === undefined || permission.access === 'public' || permission.access === 'self') {
    throw new AppError('FORBIDDEN', 'This operation requires an administrator');
  }
  authorize(principal, { access: 'admin', scope: permission.scope });
  return principal;
}
