import { maskNumbersIn } from './mask.js';

/**
 * Query parameters whose value is a credential: passwords, one-time and authorization codes, tokens, client
 * secrets, keys, signatures (`code_challenge` is not one: it is public by design).
 */
const SECRET_PARAMETER =
  /^(?:code|otp|pin|code_verifier|assertion|client_assertion|session|sig|signature|key|api[-_]?key)$|password|passwd|secret|token/i;
const REDACTED = '[redacted]';

/**
 * A request URL fit for a log line: the values of secret-named query parameters replaced by `[redacted]`,
 * phone numbers anywhere else (a SCIM filter, a path) masked.
 */
export function urlForLog(url: string): string {
  const queryStart = url.indexOf('?');
  const path = maskNumbersIn(queryStart === -1 ? url : url.slice(0, queryStart));
  if (queryStart === -1) return path;
  const query = url
    .slice(queryStart + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      if (equals === -1) return pair;
      if (SECRET_PARAMETER.test(decodeLeniently(name))) return `${name}=${REDACTED}`;
      const value = decodeLeniently(pair.slice(equals + 1));
      const masked = maskNumbersIn(value);
      return masked === value ? pair : `${name}=${encodeURIComponent(masked)}`;
    });
  return `${path}?${query.join('&')}`;
}

function decodeLeniently(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
