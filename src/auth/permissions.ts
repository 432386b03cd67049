/**
 * Who may call each route: one table, declared again on every route, checked at start.
 *
 * ## Declaring a route's permission (every route must)
 *
 *   app.get('/Users', { config: { permission: permit.admin(USER_SCOPES.list) }, schema }, handler)
 *
 * - `permit.admin(scope)`: HTTP Basic → an administrator; Bearer → a token holding `scope`.
 * - `permit.self()`: any signed-in user acting on their own account; Bearer → `internal_login`
 *   and a token that speaks for a user (not a client_credentials token).
 * - `permit.clientOrAdmin(scope)`: a registered client (its own credentials, checked by the
 *   route) or an administrator as for `permit.admin(scope)` (e.g. /oauth2/introspect).
 * - `permit.public(reason)`: no credentials (discovery, health, JWKS, the token endpoint, which
 *   authenticates clients itself, 405 answers). Say why.
 *
 * One hook (`enforcePermissions` in src/http/auth-hooks.ts) authenticates the caller and
 * enforces the declaration before the body is read. At start (`onRoute`), a route without a
 * declaration, or whose declaration differs from RULES below, stops the server. Adding a route:
 * add its line to RULES and declare the same permission in its options.
 *
 * RULES keys are `METHOD url`, with the url as Fastify registers it (prefix included, path
 * parameters as `:name`; parameter names do not matter when matching).
 */

/** Self-service: /scim2/Me and /api/identity/user/v1.0/me/... */
export const SELF_SERVICE_SCOPE = 'internal_login';

export const USER_SCOPES = {
  view: 'internal_user_mgt_view',
  list: 'internal_user_mgt_list',
  create: 'internal_user_mgt_create',
  update: 'internal_user_mgt_update',
  delete: 'internal_user_mgt_delete',
} as const;

/** SCIM 2.0 /Groups (WSO2's group management permissions). */
export const GROUP_SCOPES = {
  view: 'internal_group_mgt_view',
  list: 'internal_group_mgt_list',
  create: 'internal_group_mgt_create',
  update: 'internal_group_mgt_update',
  delete: 'internal_group_mgt_delete',
} as const;

/** POST /scim2/Bulk; each operation also needs its own route's scope (as in WSO2 IS 7.2). */
export const BULK_SCOPES = { create: 'internal_bulk_resource_create' } as const;

/** SMS senders and the delivery log are server configuration. */
export const CONFIG_SCOPES = {
  view: 'internal_config_mgt_view',
  add: 'internal_config_mgt_add',
  update: 'internal_config_mgt_update',
  delete: 'internal_config_mgt_delete',
} as const;

/** Registered OAuth clients are WSO2 "applications"; introspection reads them too. */
export const APPLICATION_SCOPES = {
  view: 'internal_application_mgt_view',
  create: 'internal_application_mgt_create',
  update: 'internal_application_mgt_update',
  delete: 'internal_application_mgt_delete',
} as const;

/** Token-signing keys (WSO2's keystore management API). */
export const KEYSTORE_SCOPES = {
  view: 'internal_keystore_view',
  update: 'internal_keystore_update',
} as const;

/**
 * Granting or revoking administration (the `admin` role), and changing an administrator's
 * password, `active` or existence: WSO2's role-management scope. `internal_user_mgt_*` alone
 * never reaches authority.
 */
export const ROLE_SCOPES = {
  update: 'internal_role_mgt_update',
} as const;

/** Every scope this server knows; an administrator may hold all of them. */
export const ALL_SCOPES: readonly string[] = [
  SELF_SERVICE_SCOPE,
  ...Object.values(USER_SCOPES),
  ...Object.values(GROUP_SCOPES),
  ...Object.values(BULK_SCOPES),
  ...Object.values(CONFIG_SCOPES),
  ...Object.values(APPLICATION_SCOPES),
  ...Object.values(KEYSTORE_SCOPES),
  ...Object.values(ROLE_SCOPES),
];

/** What a route needs; see the top of this file. */
export type RoutePermission =
  | { access: 'public'; reason: string }
  | { access: 'self'; scope: typeof SELF_SERVICE_SCOPE }
  | { access: 'admin'; scope: string }
  | { access: 'client-or-admin'; scope: string };

export const permit = {
  public: (reason: string): RoutePermission => ({ access: 'public', reason }),
  self: (): RoutePermission => ({ access: 'self', scope: SELF_SERVICE_SCOPE }),
  admin: (scope: string): RoutePermission => ({ access: 'admin', scope }),
  clientOrAdmin: (scope: string): RoutePermission => ({ access: 'client-or-admin', scope }),
} as const;

const self = permit.self();
const need = permit.admin;

const IDENTITY = '/api/identity/user/v1.0';
const SERVER = '/api/server/v1';

const RULES: Record<string, RoutePermission> = {
  // SCIM 2.0 /Users (administration) and /Me (self-service).
  'GET /scim2/Users': need(USER_SCOPES.list),
  'POST /scim2/Users/.search': need(USER_SCOPES.list),
  'POST /scim2/Users': need(USER_SCOPES.create),
  'GET /scim2/Users/:id': need(USER_SCOPES.view),
  'PUT /scim2/Users/:id': need(USER_SCOPES.update),
  'PATCH /scim2/Users/:id': need(USER_SCOPES.update),
  'DELETE /scim2/Users/:id': need(USER_SCOPES.delete),
  'GET /scim2/Me': self,
  'PUT /scim2/Me': self,
  'PATCH /scim2/Me': self,
  'GET /scim2/Groups': need(GROUP_SCOPES.list),
  'POST /scim2/Groups/.search': need(GROUP_SCOPES.list),
  'POST /scim2/Groups': need(GROUP_SCOPES.create),
  'GET /scim2/Groups/:id': need(GROUP_SCOPES.view),
  'PUT /scim2/Groups/:id': need(GROUP_SCOPES.update),
  'PATCH /scim2/Groups/:id': need(GROUP_SCOPES.update),
  'DELETE /scim2/Groups/:id': need(GROUP_SCOPES.delete),
  'POST /scim2/Bulk': need(BULK_SCOPES.create),

  // Verification codes: the caller's own, or on behalf of a user (privileged).
  [`POST ${IDENTITY}/me/validate-code`]: self,
  [`POST ${IDENTITY}/me/resend-code`]: self,
  [`POST ${IDENTITY}/validate-code`]: need(USER_SCOPES.update),
  [`POST ${IDENTITY}/resend-code`]: need(USER_SCOPES.update),

  // SMS notification senders and the delivery log.
  [`GET ${SERVER}/notification-senders/sms`]: need(CONFIG_SCOPES.view),
  [`POST ${SERVER}/notification-senders/sms`]: need(CONFIG_SCOPES.add),
  [`GET ${SERVER}/notification-senders/sms/:senderName`]: need(CONFIG_SCOPES.view),
  [`PUT ${SERVER}/notification-senders/sms/:senderName`]: need(CONFIG_SCOPES.update),
  [`DELETE ${SERVER}/notification-senders/sms/:senderName`]: need(CONFIG_SCOPES.delete),
  [`GET ${SERVER}/sms-deliveries`]: need(CONFIG_SCOPES.view),
  // The development SMS inbox (not served in production) and "Send test SMS".
  [`GET ${SERVER}/sms-inbox`]: need(CONFIG_SCOPES.view),
  [`POST ${SERVER}/sms-test-messages`]: need(CONFIG_SCOPES.update),
  // The verification audit trail (WSO2 keeps audit logs under its monitoring permissions).
  [`GET ${SERVER}/audit-events`]: need(CONFIG_SCOPES.view),
  // Prometheus metrics (or the METRICS_TOKEN bearer, checked by the route itself).
  'GET /metrics': permit.clientOrAdmin(CONFIG_SCOPES.view),

  // Registered OAuth clients.
  [`GET ${SERVER}/oauth-clients`]: need(APPLICATION_SCOPES.view),
  [`POST ${SERVER}/oauth-clients`]: need(APPLICATION_SCOPES.create),
  [`GET ${SERVER}/oauth-clients/:clientId`]: need(APPLICATION_SCOPES.view),
  [`DELETE ${SERVER}/oauth-clients/:clientId`]: need(APPLICATION_SCOPES.delete),
  [`POST ${SERVER}/oauth-clients/:clientId/secret`]: need(APPLICATION_SCOPES.update),

  // Token-signing keys.
  [`GET ${SERVER}/oauth-signing-keys`]: need(KEYSTORE_SCOPES.view),
  [`POST ${SERVER}/oauth-signing-keys/rotate`]: need(KEYSTORE_SCOPES.update),

  // Token introspection (RFC 7662) by a bearer caller; clients and Basic administrators need no scope.
  'POST /oauth2/introspect': permit.clientOrAdmin(APPLICATION_SCOPES.view),
};

/** `/a/:id/b/:x` → `/a/:/b/:`, so a renamed path parameter does not open or close a route. */
function normalise(url: string): string {
  return url.replace(/:[^/]+/g, ':');
}

const NORMALISED = new Map(Object.entries(RULES).map(([key, rule]) => [normalise(key), rule]));

/** The table's permission for a route, or undefined when it does not list it (public routes are not listed). */
export function ruleFor(method: string, routeUrl: string | undefined): RoutePermission | undefined {
  if (routeUrl === undefined) return undefined;
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return NORMALISED.get(normalise(`${verb} ${routeUrl}`));
}

/**
 * Why a route's declaration is not acceptable, or undefined when it is: a declaration is
 * required, and it must say what RULES says (public routes must be absent from RULES).
 */
export function declarationProblem(method: string, url: string, declared: unknown): string | undefined {
  if (!isRoutePermission(declared)) {
    return `route ${method} ${url} declares no permission (config.permission; see src/auth/permissions.ts)`;
  }
  const listed = ruleFor(method, url);
  if (declared.access === 'public') {
    return listed === undefined ? undefined : `route ${method} ${url} is declared public but RULES protects it`;
  }
  if (listed === undefined) return `route ${method} ${url} is missing from RULES in src/auth/permissions.ts`;
  if (listed.access !== declared.access || listed.scope !== declared.scope) {
    return `route ${method} ${url} declares ${describe(declared)} but RULES says ${describe(listed)}`;
  }
  return undefined;
}

function describe(permission: RoutePermission): string {
  return permission.access === 'public' ? 'public' : `${permission.access}(${permission.scope})`;
}

export function isRoutePermission(value: unknown): value is RoutePermission {
  if (typeof value !== 'object' || value === null) return false;
  const { access, scope, reason } = value as Record<string, unknown>;
  if (access === 'public') return typeof reason === 'string' && reason !== '';
  return ['self', 'admin', 'client-or-admin'].includes(String(access)) && typeof scope === 'string';
}

/** The scopes a user may be granted: administrators all, everyone else self-service only. */
export function scopesAllowedForUser(isAdmin: boolean): readonly string[] {
  return isAdmin ? ALL_SCOPES : [SELF_SERVICE_SCOPE];
}

export function isKnownScope(scope: string): boolean {
  return ALL_SCOPES.includes(scope);
}

/** Every `METHOD url` the table lists, with its permission (tests check each names a real route). */
export function listedRoutes(): { method: string; url: string; permission: RoutePermission }[] {
  return Object.entries(RULES).map(([key, permission]) => {
    const [method = '', url = ''] = key.split(' ');
    return { method, url, permission };
  });
}

/**
 * Whether a privileged caller may grant or revoke administration: an administrator over Basic,
 * or a bearer token holding `internal_role_mgt_update` (a user's or a client's).
 */
export function mayManageAdministrators(principal: {
  scheme: 'basic' | 'bearer';
  isAdmin: boolean;
  scopes?: readonly string[] | undefined;
}): boolean {
  return principal.scheme === 'basic' ? principal.isAdmin : (principal.scopes ?? []).includes(ROLE_SCOPES.update);
}
