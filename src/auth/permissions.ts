/**
 * The one authorization table for bearer tokens: which WSO2 scope each route needs.
 *
 * Keys are `METHOD url`, with the url as Fastify reports it in `request.routeOptions.url`
 * (prefix included, path parameters as `:name`; parameter names do not matter when matching).
 * Basic callers are not affected: they keep the role-based rules (administrators only on
 * privileged routes). A bearer caller on a route missing here is refused (fail closed).
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
  ...Object.values(CONFIG_SCOPES),
  ...Object.values(APPLICATION_SCOPES),
  ...Object.values(KEYSTORE_SCOPES),
  ...Object.values(ROLE_SCOPES),
];

export interface RouteRule {
  scope: string;
  /** The route acts on the caller: a token with no user (client_credentials) is refused. */
  selfService?: boolean;
}

const self: RouteRule = { scope: SELF_SERVICE_SCOPE, selfService: true };
const need = (scope: string): RouteRule => ({ scope });

const IDENTITY = '/api/identity/user/v1.0';
const SERVER = '/api/server/v1';

const RULES: Record<string, RouteRule> = {
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
  // The verification audit trail (WSO2 keeps audit logs under its monitoring permissions).
  [`GET ${SERVER}/audit-events`]: need(CONFIG_SCOPES.view),

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
  'POST /oauth2/introspect': need(APPLICATION_SCOPES.view),
};

/** `/a/:id/b/:x` → `/a/:/b/:`, so a renamed path parameter does not open or close a route. */
function normalise(url: string): string {
  return url.replace(/:[^/]+/g, ':');
}

const NORMALISED = new Map(Object.entries(RULES).map(([key, rule]) => [normalise(key), rule]));

/** The rule for a matched route, or undefined when the table does not list it (then: refuse). */
export function ruleFor(method: string, routeUrl: string | undefined): RouteRule | undefined {
  if (routeUrl === undefined) return undefined;
  const verb = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
  return NORMALISED.get(normalise(`${verb} ${routeUrl}`));
}

/** The scopes a user may be granted: administrators all, everyone else self-service only. */
export function scopesAllowedForUser(isAdmin: boolean): readonly string[] {
  return isAdmin ? ALL_SCOPES : [SELF_SERVICE_SCOPE];
}

export function isKnownScope(scope: string): boolean {
  return ALL_SCOPES.includes(scope);
}

/** Every `METHOD url` the table lists (tests check each names a real route). */
export function listedRoutes(): { method: string; url: string }[] {
  return Object.keys(RULES).map((key) => {
    const [method = '', url = ''] = key.split(' ');
    return { method, url };
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
