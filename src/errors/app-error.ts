/**
 * The one error type services throw. It carries a stable code from a closed
 * catalogue; the wire format (SCIM or WSO2 identity API) is chosen by the
 * route family's error handler, never by the service.
 */
export type ScimType =
  | 'invalidSyntax'
  | 'invalidFilter'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'mutability'
  | 'uniqueness'
  | 'tooMany'
  | 'invalidVers'
  | 'sensitive';

interface CatalogueEntry {
  status: number;
  scimType?: ScimType;
  /** WSO2-style code for the /api/... endpoints. */
  identityCode: string;
  message: string;
  /** WSO2 answers some errors with only {message, traceId}; `message` then carries the detail. */
  identityMessageOnly?: true;
}

export const ERROR_CATALOGUE = {
  INVALID_SYNTAX: { status: 400, scimType: 'invalidSyntax', identityCode: 'UAR-10001', message: 'Bad Request' },
  INVALID_FILTER: { status: 400, scimType: 'invalidFilter', identityCode: 'UAR-10001', message: 'Bad Request' },
  INVALID_PATH: { status: 400, scimType: 'invalidPath', identityCode: 'UAR-10001', message: 'Bad Request' },
  NO_TARGET: { status: 400, scimType: 'noTarget', identityCode: 'UAR-10001', message: 'Bad Request' },
  INVALID_VALUE: { status: 400, scimType: 'invalidValue', identityCode: 'UAR-10001', message: 'Bad Request' },
  MUTABILITY: { status: 400, scimType: 'mutability', identityCode: 'UAR-10001', message: 'Bad Request' },
  TOO_MANY_RESULTS: { status: 400, scimType: 'tooMany', identityCode: 'UAR-10001', message: 'Bad Request' },
  MULTIPLE_MOBILE_NUMBERS: {
    status: 400,
    scimType: 'invalidValue',
    identityCode: 'UMV-10002',
    message: 'Bad Request',
  },
  UNIQUENESS: { status: 409, scimType: 'uniqueness', identityCode: 'UAR-10009', message: 'Conflict' },
  NOT_FOUND: { status: 404, identityCode: 'UAR-10008', message: 'Not Found' },
  USER_NOT_FOUND: { status: 404, identityCode: '20008', message: 'Not Found' },
  PRECONDITION_FAILED: { status: 412, identityCode: 'UAR-10012', message: 'Precondition Failed' },
  UNAUTHENTICATED: { status: 401, identityCode: '401', message: 'Unauthorized' },
  FORBIDDEN: { status: 403, identityCode: '403', message: 'Forbidden' },
  METHOD_NOT_ALLOWED: { status: 405, identityCode: '405', message: 'Method Not Allowed' },
  NOT_ACCEPTABLE: { status: 406, identityCode: '406', message: 'Not Acceptable' },
  PAYLOAD_TOO_LARGE: { status: 413, identityCode: '413', message: 'Payload Too Large' },
  URI_TOO_LONG: { status: 414, identityCode: '414', message: 'URI Too Long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, identityCode: '415', message: 'Unsupported Media Type' },
  CODE_INVALID: { status: 400, identityCode: '18001', message: 'Bad Request' },
  CODE_EXPIRED: { status: 400, identityCode: '18002', message: 'Bad Request' },
  PRIVILEGED_VERIFICATION_DISABLED: { status: 400, identityCode: '17007', message: 'Bad Request' },
  INVALID_RECOVERY_SCENARIO: { status: 400, identityCode: 'UAR-10011', message: 'Bad Request' },
  INVALID_REQUEST: { status: 400, identityCode: 'UAR-10001', message: 'Bad Request' },
  RECOVERY_DATA_NOT_FOUND: { status: 400, identityCode: '', message: 'Bad Request', identityMessageOnly: true },
  // 429s carry no scimType: RFC 7644 keeps `tooMany` for filters matching too many results. The SMV- codes are
  // this server's own (WSO2 has no such limits; its UAR-10013 means "invalid recovery code").
  TOO_MANY_REQUESTS: { status: 429, identityCode: 'SMV-10004', message: 'Too Many Requests' },
  CODE_ATTEMPTS_EXCEEDED: { status: 429, identityCode: 'SMV-10001', message: 'Too Many Requests' },
  RESEND_COOLDOWN: { status: 429, identityCode: 'SMV-10002', message: 'Too Many Requests' },
  SMS_QUOTA_EXCEEDED: { status: 429, identityCode: 'SMV-10003', message: 'Too Many Requests' },
  SMS_SENDER_CONFLICT: { status: 409, identityCode: 'NSM-60002', message: 'Conflict' },
  SMS_SENDER_INVALID: { status: 400, identityCode: 'NSM-60003', message: 'Bad Request' },
  SMS_SENDER_NO_TEMPLATE: { status: 400, identityCode: 'NSM-60004', message: 'Bad Request' },
  SMS_SENDER_NOT_FOUND: { status: 404, identityCode: 'NSM-60006', message: 'Not Found' },
  // OAuth 2.0 (RFC 6749 section 5.2, RFC 7009); /oauth2 renders them as {error, error_description}.
  OAUTH_INVALID_REQUEST: { status: 400, identityCode: 'OAUTH-60001', message: 'Bad Request' },
  OAUTH_INVALID_CLIENT: { status: 401, identityCode: 'OAUTH-60002', message: 'Unauthorized' },
  OAUTH_INVALID_GRANT: { status: 400, identityCode: 'OAUTH-60003', message: 'Bad Request' },
  OAUTH_UNAUTHORIZED_CLIENT: { status: 400, identityCode: 'OAUTH-60004', message: 'Bad Request' },
  OAUTH_UNSUPPORTED_GRANT_TYPE: { status: 400, identityCode: 'OAUTH-60005', message: 'Bad Request' },
  OAUTH_INVALID_SCOPE: { status: 400, identityCode: 'OAUTH-60006', message: 'Bad Request' },
  OAUTH_CLIENT_NOT_FOUND: { status: 404, identityCode: 'APP-60006', message: 'Not Found' },
  SERVICE_UNAVAILABLE: { status: 503, identityCode: '503', message: 'Service Unavailable' },
  INTERNAL: { status: 500, identityCode: '500', message: 'Internal Server Error' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  /** Logged, never sent. */
  cause?: unknown;
  /** Sent as `Retry-After` on 429/503. */
  retryAfterSeconds?: number;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Allow`). */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Public, safe to send to the client. */
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, detail: string, options: AppErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get scimType(): ScimType | undefined {
    const entry: CatalogueEntry = ERROR_CATALOGUE[this.code];
    return entry.scimType;
  }

  get identityCode(): string {
    return ERROR_CATALOGUE[this.code].identityCode;
  }

  get publicMessage(): string {
    return ERROR_CATALOGUE[this.code].message;
  }

  get identityMessageOnly(): boolean {
    const entry: CatalogueEntry = ERROR_CATALOGUE[this.code];
    return entry.identityMessageOnly === true;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
