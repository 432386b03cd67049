import { AppError } from '../errors/app-error.js';
import type { CredentialCache } from './credential-cache.js';
import { targetTag } from './credential-events.js';
import type { LoginThrottle } from './login-throttle.js';
import type { Principal } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';

export const BASIC_CHALLENGE = 'Basic realm="scim", charset="UTF-8"';

export interface Authenticator {
  /** Resolves the Authorization header to a principal, or throws UNAUTHENTICATED. */
  authenticate(authorization: string | undefined, clientIp?: string): Promise<Principal>;
}

export interface AuthenticatorDeps {
  throttle: LoginThrottle;
  cache: CredentialCache;
  /** Credentials seen moments ago answer without a query (revocations drop them; see credential-events.ts). */
  principals: PrincipalCache;
  now?: () => number;
}

function unauthenticated(detail: string): AppError {
  return new AppError('UNAUTHENTICATED', detail, { headers: { 'www-authenticate': BASIC_CHALLENGE } });
}

export function parseBasic(header: string): { userName: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const userName = decoded.slice(0, colon);
  // No stored user name holds these; refusing here keeps them away from the database (which rejects NUL).
  if (userName.includes('\u0000') || userName.includes('\uFFFD') || userName.length > 255) return undefined;
  return { userName, password: decoded.slice(colon + 1) };
}

export function createBasicAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const now = deps.now ?? Date.now;
  return {
    async authenticate(authorization, clientIp) {
      if (authorization === undefined || authorization.trim() === '') {
        throw unauthenticated('Authentication required');
      }
      const credentials = parseBasic(authorization);
      if (credentials === undefined) throw unauthenticated('Unsupported or malformed Authorization header');
      const { userName, password } = credentials;
      // User names are matched without regard to case, so the key is too.
      const key = deps.principals.keyOf('basic', userName.toLowerCase(), password);
      const cached = deps.principals.get(key);
      if (cached !== undefined) return cached;
      const ticket = deps.principals.ticket();
      const user = await deps.throttle.verifyPasswordLogin({
        userName,
        password,
        clientIp,
        failure: () => unauthenticated('Invalid credentials'),
        recentlyVerified: (hash) => deps.cache.isVerified(userName, password, hash, now()),
      });
      if (user.password_hash !== null) deps.cache.remember(userName, password, user.password_hash, now());
      const principal: Principal = {
        userId: user.id,
        userName: user.user_name,
        isAdmin: user.is_admin,
        scheme: 'basic',
      };
      deps.principals.put(ticket, key, principal, [targetTag({ kind: 'user', id: user.id })]);
      return principal;
    },
  };
}
