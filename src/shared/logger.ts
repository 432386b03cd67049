import pino, { type DestinationStream, type Logger } from 'pino';

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
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'scim-mobile-verify' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
