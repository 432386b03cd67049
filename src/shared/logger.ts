import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Paths that may carry a password, a token, a one-time code or a provider secret.
 * Codes and message texts are never logged on purpose; this list is the safety net.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  '*.password',
  'code',
  '*.code',
  'body',
  '*.body',
  'text',
  '*.text',
  'secret',
  '*.secret',
  '*.authToken',
  '*.apiSecret',
  '*.headers',
  'SECRET_KEY',
  'ADMIN_PASSWORD',
  'TWILIO_AUTH_TOKEN',
  'VONAGE_API_SECRET',
  'SMS_CUSTOM_HEADERS',
  // Also give errors their own redactor, so the censor below sees the path ['err', 'code'].
  'err.headers',
  'error.headers',
];

const CENSOR = '[redacted]';

/** `err.code` (SQLSTATE, ECONNREFUSED, ...) says what failed and is never a secret; `*.code` elsewhere may be an OTP. */
function censor(value: unknown, path: string[]): unknown {
  const isErrorCode = path.length === 2 && path[1] === 'code' && (path[0] === 'err' || path[0] === 'error');
  return isErrorCode && typeof value === 'string' ? value : CENSOR;
}

/** JSON lines for log storage; readable lines when a person watches a terminal. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor },
    base: { service: 'scim-mobile-verify' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (destination !== undefined) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, pretty({ colorize: true, sync: true })) : pino(options);
}
