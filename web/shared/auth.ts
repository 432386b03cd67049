/**
 * Sign-in with the server's OAuth 2.0 authorization code grant and PKCE (S256). The access token lives in this
 * module's memory only; sessionStorage holds just the state and code_verifier across the redirect.
 */

export interface Session {
  accessToken: string;
  scopes: string[];
}

export interface SignInConfig {
  clientId: string;
  /** The registered redirect path, e.g. /console/ */
  path: string;
  scope: string;
}

let session: Session | undefined;

export class SignInError extends Error {}

const storageKey = (config: SignInConfig) => `oauth-request:${config.clientId}`;

function randomString(bytes: number): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64Url(data);
}

function base64Url(data: Uint8Array): string {
  let text = '';
  for (const byte of data) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function s256(verifier: string): Promise<string> {
  if (crypto.subtle === undefined) {
    throw new SignInError('Sign-in needs a secure context: open this page over https or on localhost.');
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

function redirectUri(config: SignInConfig): string {
  return `${location.origin}${config.path}`;
}

/** Sends the browser to the sign-in page. */
export async function startSignIn(config: SignInConfig): Promise<void> {
  const state = randomString(16);
  const verifier = randomString(32);
  sessionStorage.setItem(storageKey(config), JSON.stringify({ state, verifier }));
  const url = new URL('/oauth2/authorize', location.origin);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(config),
    scope: config.scope,
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

/**
 * Completes a sign-in when the page was opened by the authorization server's redirect.
 * Undefined: this page load is not a sign-in response (start one).
 */
export async function completeSignIn(config: SignInConfig): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (code === null && error === null) return undefined;
  const saved = sessionStorage.getItem(storageKey(config));
  sessionStorage.removeItem(storageKey(config));
  history.replaceState(null, '', config.path);
  if (error !== null)
    throw new SignInError(`Sign-in failed: ${params.get('error_description') ?? error}. Sign in again.`);
  const request = saved === null ? undefined : (JSON.parse(saved) as { state: string; verifier: string });
  if (request === undefined || request.state !== params.get('state')) {
    throw new SignInError('The sign-in response does not belong to this browser tab. Sign in again.');
  }
  const response = await fetch('/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: redirectUri(config),
      client_id: config.clientId,
      code_verifier: request.verifier,
    }),
  });
  const body = (await response.json()) as { access_token?: string; scope?: string; error_description?: string };
  if (!response.ok || body.access_token === undefined) {
    throw new SignInError(`Sign-in failed: ${body.error_description ?? response.statusText}. Sign in again.`);
  }
  session = { accessToken: body.access_token, scopes: (body.scope ?? '').split(' ').filter(Boolean) };
  return session;
}

export function currentSession(): Session | undefined {
  return session;
}

/** Revokes the access token (RFC 7009) and forgets it. */
export async function signOut(config: SignInConfig): Promise<void> {
  const token = session?.accessToken;
  session = undefined;
  if (token === undefined) return;
  await fetch('/oauth2/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token', client_id: config.clientId }),
  });
}
