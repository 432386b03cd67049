import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';
import { urlForLog } from './log-url.js';
import { maskNumbersIn } from './mask.js';

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

/** What Fastify logs of a request, with the URL fit for a log (secret query values redacted, numbers masked). */
interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}

function serializeRequest(request: LoggedRequest) {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : urlForLog(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** Error messages may quote what a client sent (a number, a URL): masked like every other message. */
function serializeError(error: Error) {
  const serialized: Record<string, unknown> = pino.stdSerializers.err(error);
  for (const field of ['message', 'stack', 'detail']) {
    const value = serialized[field];
    if (typeof value === 'string') serialized[field] = maskNumbersIn(value);
  }
  return serialized;
}

/** JSON lines for log storage; readable lines when a person watches a terminal. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor },
    base: { service: 'scim-mobile-verify' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { req: serializeRequest, err: serializeError },
    hooks: {
      // Messages are often an error's detail, which may quote a number the client sent: never whole in a log.
      logMethod(args, method) {
        const masked = args.map((arg) => (typeof arg === 'string' ? maskNumbersIn(arg) : arg));
        return method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
  if (destination !== undefined) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, pretty({ colorize: true, sync: true })) : pino(options);
}
