import { ALL_SCOPES, SELF_SERVICE_SCOPE } from '../auth/permissions.js';
import type { BuiltInClient } from './client-service.js';

/**
 * The server's own browser applications: public clients (no secret, PKCE), registered at every start.
 * Their redirect URIs are paths, resolved against PUBLIC_BASE_URL (or the request's origin).
 */
export const BUILT_IN_CLIENTS: readonly BuiltInClient[] = [
  { clientId: 'console', name: 'Console', scopes: ALL_SCOPES, redirectPath: '/console/' },
  { clientId: 'myaccount', name: 'My Account', scopes: [SELF_SERVICE_SCOPE], redirectPath: '/myaccount/' },
];
