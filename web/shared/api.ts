import { currentSession } from './auth';

export interface ApiResponse<T> {
  status: number;
  ok: boolean;
  headers: Headers;
  body: T | undefined;
}

/** An error an API answered, turned into a sentence that says what to do next. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly headers: Headers,
  ) {
    super(message);
  }
}

/** Called when the token is refused (expired or revoked): the app asks for a new sign-in. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown; contentType?: string } = {},
): Promise<ApiResponse<T>> {
  const token = currentSession()?.accessToken;
  const headers: Record<string, string> = { accept: 'application/json, application/scim+json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  const body = text === '' ? undefined : (JSON.parse(text) as T);
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError('Your session has ended. Sign in again.', 401, undefined, response.headers);
  }
  if (!response.ok) throw errorOf(response, body);
  return { status: response.status, ok: response.ok, headers: response.headers, body };
}

function errorOf(response: Response, body: unknown): ApiError {
  const fields = (body ?? {}) as { code?: string; description?: string; detail?: string; message?: string };
  const detail = fields.description ?? fields.detail ?? fields.message ?? response.statusText;
  return new ApiError(guidance(response, fields.code, detail), response.status, fields.code, response.headers);
}

/** The server's reason plus the next step, for the errors a person can do something about. */
function guidance(response: Response, code: string | undefined, detail: string): string {
  const attempts = response.headers.get('x-verification-attempts-remaining');
  const wait = response.headers.get('x-verification-resend-after') ?? response.headers.get('retry-after');
  switch (code) {
    case '18001':
      return attempts === null
        ? 'The code is not valid. Check the SMS, or use "Resend code" to get a new one.'
        : `The code is not valid: ${attempts} attempt(s) left. Check the SMS and try again, or use "Resend code".`;
    case '18002':
      return 'The code has expired. Use "Resend code" to get a new one.';
    case '17007':
      return 'Verification on behalf of users is disabled on this server (PRIVILEGED_VERIFICATION_ENABLED).';
    case 'UAR-10011':
      return 'No verification is pending for this number. Save the number again to get a code.';
    default:
      break;
  }
  if (response.status === 429) {
    return `${detail}${wait === null ? '' : ` Try again in ${wait} seconds.`}`;
  }
  if (response.status === 403) return `${detail} Sign in with an account that may do this.`;
  if (response.status === 412 || response.status === 409) return `${detail} Reload the page and try again.`;
  if (response.status >= 500) return `${detail} Try again in a moment; if it persists, check the server logs.`;
  return `${detail}`;
}
