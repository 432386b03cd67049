import { type Static, Type } from '@sinclair/typebox';

/**
 * Every setting the server reads, keyed by its environment variable name.
 * Defaults live here so the README table and the code cannot drift apart.
 */
const Bool = (defaultValue: boolean, description: string) => Type.Boolean({ default: defaultValue, description });
const Int = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ default: defaultValue, minimum, maximum, description });
const OptionalString = (description: string) => Type.Optional(Type.String({ minLength: 1, description }));

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  PORT: Int(8080, 0, 65535, 'HTTP port'),
  HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'Interface to listen on' }),
  PUBLIC_BASE_URL: OptionalString('Base URL used in meta.location; defaults to the request host'),
  DATABASE_URL: OptionalString('PostgreSQL connection string; unset: embedded PGlite under DATA_DIR'),
  DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'Embedded database and generated secrets' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  ADMIN_USERNAME: Type.String({ default: 'admin', minLength: 1, description: 'Bootstrap administrator' }),
  ADMIN_PASSWORD: OptionalString('Bootstrap administrator password; generated and printed once if unset'),
  SECRET_KEY: Type.Optional(
    Type.String({ minLength: 32, description: 'Key material for code HMACs and secret encryption (>= 32 chars)' }),
  ),
  BODY_LIMIT: Int(1_048_576, 1024, 104_857_600, 'Maximum request body in bytes'),
  METRICS_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'Bearer token a Prometheus scraper may use for GET /metrics' }),
  ),
  AUTH_CACHE_TTL_SECONDS: Int(60, 0, 3600, 'Longest a verified credential (Basic or bearer) stays cached; 0: none'),
  AUTH_CACHE_MAX_ENTRIES: Int(10_000, 1, 1_000_000, 'Credentials cached at most (least recently used go first)'),
  AUTH_REVOCATION_MAX_DELAY_MS: Int(
    2000,
    200,
    60_000,
    'Longest another instance may still accept a revoked credential from its cache',
  ),
  BULK_MAX_OPERATIONS: Int(1000, 1, 100_000, 'Operations one /scim2/Bulk request may carry (maxOperations)'),
  BULK_MAX_PAYLOAD_SIZE: Int(1_048_576, 1024, 104_857_600, 'Largest /scim2/Bulk body in bytes (maxPayloadSize)'),
  DATABASE_QUERY_TIMEOUT_MS: Int(
    5000,
    100,
    600_000,
    'Deadline of one PostgreSQL statement (a hanging database answers 503)',
  ),
  DATABASE_PREPARED_STATEMENTS: Bool(
    true,
    'Prepare each PostgreSQL statement once per connection; false behind a pooler that cannot (PgBouncer in transaction mode before 1.21)',
  ),
  AUDIT_RETENTION_DAYS: Int(365, 1, 36_500, 'Audit events older than this are deleted by housekeeping'),
  LOGIN_MAX_FAILED_ATTEMPTS: Int(5, 1, 1000, 'Wrong passwords in a row after which an account is locked'),
  LOGIN_LOCK_SECONDS: Int(300, 1, 86_400, 'Duration of the first account lock'),
  LOGIN_LOCK_GROWTH_FACTOR: Int(2, 1, 100, 'Each further lock lasts this many times longer'),
  LOGIN_FAILURES_PER_IP_PER_HOUR: Int(100, 1, 1_000_000, 'Failed logins per client IP per hour before it is refused'),
  LOGIN_REFUSAL_DELAY_MS: Int(
    1000,
    0,
    10_000,
    'How long a refusal of an address over its budget is held before it is sent',
  ),
  TRUST_PROXY: OptionalString('Proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For is believed'),
  SCIM_STATEMENT_TIMEOUT_MS: Int(5000, 100, 600_000, 'Longest a SCIM listing query may run in the database'),
  PASSWORD_HASH_CONCURRENCY: Int(2, 1, 64, 'Password hashes computed at once (more wait their turn)'),

  SMS_PROVIDER: Type.Optional(
    Type.Union([
      Type.Literal('twilio'),
      Type.Literal('vonage'),
      Type.Literal('custom'),
      Type.Literal('log'),
      Type.Literal('inbox'),
    ]),
  ),
  TWILIO_ACCOUNT_SID: OptionalString('Twilio Account SID'),
  TWILIO_AUTH_TOKEN: OptionalString('Twilio Auth Token'),
  TWILIO_SENDER: OptionalString('Twilio sender number or messaging service SID'),
  TWILIO_BASE_URL: OptionalString('Override of https://api.twilio.com (proxy, tests)'),
  VONAGE_API_KEY: OptionalString('Vonage API key'),
  VONAGE_API_SECRET: OptionalString('Vonage API secret'),
  VONAGE_SENDER: OptionalString('Vonage sender'),
  VONAGE_BASE_URL: OptionalString('Override of https://rest.nexmo.com (proxy, tests)'),
  SMS_CUSTOM_URL: OptionalString('Custom SMS gateway URL'),
  SMS_CUSTOM_CONTENT_TYPE: Type.Union([Type.Literal('JSON'), Type.Literal('FORM')], { default: 'JSON' }),
  SMS_CUSTOM_METHOD: Type.Union([Type.Literal('POST'), Type.Literal('PUT')], { default: 'POST' }),
  SMS_CUSTOM_PAYLOAD_TEMPLATE: OptionalString('Custom gateway payload with {{body}} and {{mobile}}'),
  SMS_CUSTOM_HEADERS: OptionalString('Static headers: "name: value, name2: value2"'),
  SMS_MAX_ATTEMPTS: Int(8, 1, 50, 'Delivery attempts before a message is marked failed'),
  SMS_RETRY_BASE_MS: Int(2000, 10, 3_600_000, 'First retry delay; doubles per attempt, with jitter'),
  SMS_POLL_INTERVAL_MS: Int(2000, 50, 600_000, 'How often the dispatcher polls for due messages'),
  SMS_SEND_TIMEOUT_MS: Int(10_000, 100, 120_000, 'Timeout of one provider call'),
  SMS_TEMPLATE_MOBILE_VERIFICATION: Type.String({
    default: 'Your mobile number verification code is {{confirmation-code}}. It expires in {{expiry-minutes}} minutes.',
    minLength: 1,
  }),

  MOBILE_VERIFICATION_ENABLED: Bool(true, 'Verify a changed primary mobile number by SMS'),
  SKIP_VERIFICATION_FOR_PRIVILEGED: Bool(false, 'Administrators change numbers without verification'),
  REQUIRE_VERIFY_MOBILE_FLAG: Bool(false, 'Only requests with verifyMobile=true start verification'),
  MULTIPLE_MOBILE_NUMBERS: Bool(true, 'Enable mobileNumbers / verifiedMobileNumbers (WSO2 7.x: on)'),
  PRIVILEGED_VERIFICATION_ENABLED: Bool(true, 'Administrators may validate codes on behalf of users'),
  OTP_LENGTH: Int(6, 4, 10, 'Length of one-time codes'),
  OTP_CHARSET: Type.Union([Type.Literal('numeric'), Type.Literal('alphanumeric')], { default: 'numeric' }),
  OTP_TTL_SECONDS: Int(300, 30, 86_400, 'Lifetime of a one-time code'),
  OTP_MAX_ATTEMPTS: Int(5, 1, 100, 'Failed attempts after which a code is dead'),
  RESEND_COOLDOWN_SECONDS: Int(60, 0, 3600, 'Minimum time between two codes for one user and scenario'),
  SMS_PER_NUMBER_PER_DAY: Int(10, 1, 10_000, 'Verification SMS one number may receive per day'),
  SMS_PER_USER_PER_DAY: Int(20, 1, 10_000, 'Verification SMS one user may trigger per day'),
  VERIFICATION_REQUESTS_PER_IP_PER_HOUR: Int(120, 1, 1_000_000, 'validate/resend requests per client IP per hour'),
  SMS_GLOBAL_PER_HOUR: Int(1000, 1, 10_000_000, 'Ceiling of SMS sent per hour; above it sending pauses'),
  PHONE_DEFAULT_REGION: OptionalString('ISO country for numbers written without a country code (e.g. LK, GB)'),
  SMS_ALLOWED_COUNTRIES: OptionalString('Comma-separated ISO countries codes may be sent to; unset: all'),

  TOKEN_ISSUER: OptionalString('`iss` of the access tokens this server issues; default PUBLIC_BASE_URL/oauth2/token'),
  TOKEN_AUDIENCE: OptionalString('`aud` of the access tokens this server issues; default the issuer'),
  ACCESS_TOKEN_TTL_SECONDS: Int(3600, 60, 86_400, 'Lifetime of an access token'),
  REFRESH_TOKEN_TTL_SECONDS: Int(86_400, 300, 31_536_000, 'Lifetime of a refresh token (renewed on each use)'),
  OAUTH_JWKS_URL: OptionalString('JWKS of an external identity provider whose tokens are accepted too'),
  OAUTH_ISSUER: OptionalString('`iss` of the external identity provider (required with OAUTH_JWKS_URL)'),
  OAUTH_AUDIENCE: OptionalString('`aud` the external tokens must carry; unset: not checked'),
  OAUTH_USER_CLAIM: Type.String({
    default: 'sub',
    minLength: 1,
    description: 'Claim of an external token naming the local user (by userName or id); falls back to `username`',
  }),
  OAUTH_JWKS_TIMEOUT_MS: Int(5000, 100, 60_000, 'Timeout of one fetch of the external JWKS'),
});

export type Config = Static<typeof ConfigSchema>;

/** Unknown variables with these prefixes are typos: fail rather than silently ignore them. */
export const OWNED_PREFIXES = [
  'SMS_',
  'TWILIO_',
  'VONAGE_',
  'OTP_',
  'MOBILE_VERIFICATION_',
  'ADMIN_',
  'OAUTH_',
  'PHONE_',
  'RESEND_',
  'VERIFICATION_',
  'BULK_',
] as const;
