import type { FastifyInstance, RouteOptions } from 'fastify';

/** A summary per route where a generated one would say less; other routes get `METHOD path`. */
const SUMMARIES: Record<string, string> = {
  'GET /health': 'Liveness',
  'GET /health/ready': 'Readiness: the database answers and an SMS provider is usable',
  'GET /scim2/Users': 'List or filter users',
  'POST /scim2/Users': 'Create a user',
  'POST /scim2/Users/.search': 'Search users (POST query)',
  'GET /scim2/Users/{id}': 'Get a user',
  'PUT /scim2/Users/{id}': 'Replace a user (a changed mobile number starts verification)',
  'PATCH /scim2/Users/{id}': 'Modify a user (a changed mobile number starts verification)',
  'DELETE /scim2/Users/{id}': 'Delete a user',
  'GET /scim2/Me': 'Get the caller',
  'PUT /scim2/Me': 'Replace the caller (a changed mobile number starts verification)',
  'PATCH /scim2/Me': 'Modify the caller (a changed mobile number starts verification)',
  'POST /api/identity/user/v1.0/me/validate-code': "Confirm the caller's pending mobile number with its code",
  'POST /api/identity/user/v1.0/me/resend-code': 'Send the caller a new code',
  'POST /api/identity/user/v1.0/validate-code': 'Confirm a code on behalf of a user (privileged)',
  'POST /api/identity/user/v1.0/resend-code': 'Send a user a new code (privileged)',
  'POST /oauth2/token': 'Issue tokens (password, client_credentials, refresh_token grants)',
  'POST /oauth2/revoke': 'Revoke a token (RFC 7009)',
  'POST /oauth2/introspect': 'Introspect a token (RFC 7662)',
  'GET /oauth2/jwks': 'Public token-signing keys',
};

const TAGS: [prefix: string, tag: string][] = [
  ['/scim2/Users', 'SCIM Users'],
  ['/scim2/Me', 'SCIM Me'],
  ['/scim2', 'SCIM discovery'],
  ['/api/identity/user/v1.0', 'Verification codes'],
  ['/api/server/v1/notification-senders', 'SMS senders'],
  ['/api/server/v1/oauth', 'OAuth administration'],
  ['/api/server/v1', 'Server administration'],
  ['/oauth2', 'OAuth 2.0'],
  ['/', 'Operations'],
];

/**
 * Gives every documented operation an operationId, a summary and a tag, through onRoute, so routes added
 * anywhere get them too. A route that declares its own keeps it. Must be installed before routes are added.
 */
export function describeOperations(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    if (schema.hide === true || route.url === '*' || route.url.endsWith('/*')) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    if (methods.length !== 1) return;
    const method = String(methods[0]).toUpperCase();
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    schema.operationId ??= operationId(method, path);
    schema.summary ??= SUMMARIES[`${method} ${path}`] ?? `${method} ${path}`;
    schema.tags ??= [TAGS.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 'Operations'];
    route.schema = schema;
  });
}

/** `GET /scim2/Users/{id}` → `getScim2UsersById`: stable, unique per method and path. */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((part) => part !== '')
    .map((part) => (part.startsWith('{') ? `by-${part.slice(1, -1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter((word) => word !== '');
  return [method.toLowerCase(), ...words.map((word) => word.charAt(0).toUpperCase() + word.slice(1))].join('');
}
