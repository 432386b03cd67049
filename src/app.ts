import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { auditRoutes } from './audit/audit-routes.js';
import { createBasicAuthenticator } from './auth/authenticate.js';
import { createBearerAuthenticator, createCompositeAuthenticator } from './auth/bearer-authenticator.js';
import { CredentialCache } from './auth/credential-cache.js';
import { createCredentialEventFeed, createRevocations } from './auth/credential-events.js';
import { createLoginThrottle } from './auth/login-throttle.js';
import { limitPasswordHashing } from './auth/password.js';
import { permit } from './auth/permissions.js';
import { PrincipalCache } from './auth/principal-cache.js';
import type { Config } from './config/config-schema.js';
import type { DatabaseHandle } from './db/create-db.js';
import { toAppError } from './errors/from-fastify-error.js';
import { createGroupService } from './groups/group-service.js';
import { UserGroupsCache } from './groups/user-groups-cache.js';
import { createHousekeeping, type Housekeeping } from './housekeeping/housekeeping.js';
import { type DeclaredRoute, enforcePermissions } from './http/auth-hooks.js';
import { installErrorHandling, sendError } from './http/error-handling.js';
import { healthRoutes } from './http/health-routes.js';
import { describeOperations } from './http/openapi-operations.js';
import { trustedProxiesOf } from './http/trusted-proxies.js';
import { webAppRoutes } from './http/web-apps.js';
import { createMetrics } from './metrics/metrics.js';
import { metricsRoutes } from './metrics/metrics-routes.js';
import { oauthAdminRoutes } from './oauth/admin-routes.js';
import { authorizeRoutes } from './oauth/authorize-routes.js';
import { createOAuth } from './oauth/oauth.js';
import { oauthRoutes } from './oauth/token-routes.js';
import { bulkRoutes } from './scim/bulk-routes.js';
import { discoveryRoutes } from './scim/discovery-routes.js';
import { groupRoutes } from './scim/group-routes.js';
import { SCIM_JSON as SCIM_MEDIA_TYPE } from './scim/responses.js';
import { userRoutes } from './scim/user-routes.js';
import { type Clock, systemClock } from './shared/clock.js';
import type { SecretKeys } from './shared/secret-keys.js';
import { deliveryRoutes } from './sms/delivery-routes.js';
import { createSmsDispatcher, type SmsDispatcher } from './sms/dispatcher.js';
import { inboxRoutes } from './sms/inbox-routes.js';
import { senderRoutes } from './sms/sender-routes.js';
import { createSenderService } from './sms/sender-service.js';
import { createUserService } from './users/user-service.js';
import { codeRoutes } from './verification/code-routes.js';
import { destinationPolicyOf, sameNumberUnder } from './verification/destination-policy.js';
import { createVerificationService } from './verification/verification-service.js';

export interface AppDeps {
  config: Readonly<Config>;
  database: DatabaseHandle;
  keys: SecretKeys;
  logger: Logger;
  clock?: Clock;
  /** Tests drive the dispatcher and housekeeping by hand; the server starts them. */
  startDispatcher?: boolean;
  /** The app closes the database when it closes, after its background work stopped (the server passes true). */
  closeDatabase?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the application: services are created once here and handed to the route plugins. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database, keys, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const db = database.db;

  const metrics = createMetrics({ database, clock });
  const senders = createSenderService({ db, clock, config, encryptionKey: keys.secretEncryption, logger });
  const dispatcher = createSmsDispatcher({
    db,
    clock,
    logger,
    resolveProvider: () => senders.activeProvider(),
    bodyKey: keys.smsBodyEncryption,
    settings: {
      maxAttempts: config.SMS_MAX_ATTEMPTS,
      retryBaseMs: config.SMS_RETRY_BASE_MS,
      pollIntervalMs: config.SMS_POLL_INTERVAL_MS,
      sendTimeoutMs: config.SMS_SEND_TIMEOUT_MS,
      globalPerHour: config.SMS_GLOBAL_PER_HOUR,
    },
  });
  dispatcher.onOutcome(({ kind, provider }) => {
    // An expired message never reached a provider; an unrecorded outcome is counted once it is written.
    if (kind !== 'unrecorded') metrics.smsOutcome(provider ?? 'none', kind === 'retry' ? 'retried' : kind);
  });
  const housekeeping = createHousekeeping({
    db,
    clock,
    logger,
    settings: { auditRetentionDays: config.AUDIT_RETENTION_DAYS },
  });
  const onSmsQueued = () => {
    metrics.smsQueued();
    dispatcher.notify();
  };
  const destinations = destinationPolicyOf(config);
  const verification = createVerificationService({
    db,
    clock,
    otpKey: keys.otpHmac,
    bucketKey: keys.limitBucketHmac,
    smsBodyKey: keys.smsBodyEncryption,
    onSmsQueued,
    onAuditEvent: (type) => metrics.verificationEvent(type),
    settings: {
      otpLength: config.OTP_LENGTH,
      otpCharset: config.OTP_CHARSET,
      otpTtlSeconds: config.OTP_TTL_SECONDS,
      otpMaxAttempts: config.OTP_MAX_ATTEMPTS,
      multipleNumbers: config.MULTIPLE_MOBILE_NUMBERS,
      privilegedVerificationEnabled: config.PRIVILEGED_VERIFICATION_ENABLED,
      smsTemplate: config.SMS_TEMPLATE_MOBILE_VERIFICATION,
      resendCooldownSeconds: config.RESEND_COOLDOWN_SECONDS,
      smsPerNumberPerDay: config.SMS_PER_NUMBER_PER_DAY,
      smsPerUserPerDay: config.SMS_PER_USER_PER_DAY,
      requestsPerIpPerHour: config.VERIFICATION_REQUESTS_PER_IP_PER_HOUR,
      destinations,
    },
  });
  // Authentication from a cache that every instance's revocations reach (src/auth/credential-events.ts).
  const principals = new PrincipalCache({
    maxEntries: config.AUTH_CACHE_MAX_ENTRIES,
    ttlMs: config.AUTH_CACHE_TTL_SECONDS * 1000,
    now: () => clock.now().getTime(),
    isCurrent: () => credentialEvents.isCurrent(),
  });
  const credentialEvents = createCredentialEventFeed({
    db,
    listen: database.listen,
    logger,
    maxDelayMs: config.AUTH_REVOCATION_MAX_DELAY_MS,
    onRevoked: (tags) => principals.revoke(tags),
    onReset: () => principals.clear(),
  });
  const revocations = createRevocations((tags) => principals.revoke(tags));
  limitPasswordHashing(config.PASSWORD_HASH_CONCURRENCY);
  const loginThrottle = createLoginThrottle({
    db,
    clock,
    logger,
    revocations,
    key: keys.otpHmac,
    settings: {
      maxFailures: config.LOGIN_MAX_FAILED_ATTEMPTS,
      lockSeconds: config.LOGIN_LOCK_SECONDS,
      lockGrowth: config.LOGIN_LOCK_GROWTH_FACTOR,
      ipFailuresPerHour: config.LOGIN_FAILURES_PER_IP_PER_HOUR,
      refusalDelayMs: config.LOGIN_REFUSAL_DELAY_MS,
    },
  });
  const users = createUserService({
    db,
    clock,
    logger,
    verification,
    loginThrottle,
    revocations,
    onSmsQueued,
    statementTimeoutMs: config.SCIM_STATEMENT_TIMEOUT_MS,
    groupsCache: new UserGroupsCache(),
    mobilePolicy: {
      verificationEnabled: config.MOBILE_VERIFICATION_ENABLED,
      skipForPrivileged: config.SKIP_VERIFICATION_FOR_PRIVILEGED,
      requireVerifyFlag: config.REQUIRE_VERIFY_MOBILE_FLAG,
      multipleNumbers: config.MULTIPLE_MOBILE_NUMBERS,
      sameNumber: sameNumberUnder(destinations),
    },
  });
  const groups = createGroupService({ db, clock, statementTimeoutMs: config.SCIM_STATEMENT_TIMEOUT_MS });
  const bulkLimits = { maxOperations: config.BULK_MAX_OPERATIONS, maxPayloadSize: config.BULK_MAX_PAYLOAD_SIZE };
  const oauth = await createOAuth({
    db,
    clock,
    logger,
    config,
    signingKeyEncryption: keys.signingKeyEncryption,
    loginThrottle,
    revocations,
  });
  const authenticator = createCompositeAuthenticator(
    createBasicAuthenticator({
      throttle: loginThrottle,
      cache: new CredentialCache(config.AUTH_CACHE_TTL_SECONDS * 1000),
      principals,
    }),
    createBearerAuthenticator(oauth.accessTokens, principals),
  );

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Clients (Okta among them) address collections with a trailing slash: /scim2/Users/ is /scim2/Users.
    // Microsoft's SCIM test collection writes /scim2/users: paths match in any case (ids keep theirs).
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false },
    trustProxy: trustedProxiesOf(config.TRUST_PROXY),
    // Malformed URLs are refused before routing; answer them in the format of the URL's family too.
    frameworkErrors: (error, request, reply) =>
      sendError(toAppError(error), request.url.startsWith('/scim2') ? 'scim' : 'identity', request, reply),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', undefined);
  const declaredRoutes = enforcePermissions(app, authenticator);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // RFC 7644 section 8.1 registers application/scim+json without parameters (clients compare it exactly);
    // Fastify appends "; charset=utf-8" to every JSON type it sends.
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith(SCIM_MEDIA_TYPE)) reply.header('content-type', SCIM_MEDIA_TYPE);
  });
  // SCIM clients send application/scim+json, or no content type at all. Only JSON is accepted:
  // Fastify's built-in text/plain parser would turn a text body into a string (400, not 415).
  // An empty body parses as "no body", so a DELETE that carries a JSON content type still works;
  // routes that need a body reject its absence through their schema.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(
    ['application/json', 'application/scim+json'],
    { parseAs: 'string' },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.length === 0) {
        done(null, undefined);
        return;
      }
      parseJson(request, text, done);
    },
  );
  app.addHook('onRequest', async (request) => {
    const { headers } = request;
    const hasBody =
      (headers['content-length'] !== undefined && headers['content-length'] !== '0') ||
      headers['transfer-encoding'] !== undefined;
    if (headers['content-type'] === undefined && hasBody) headers['content-type'] = 'application/json';
  });

  describeOperations(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SCIM 2.0 identity server',
        version: '0.1.0',
        description: 'SCIM 2.0 users with mobile number verification on update (WSO2-compatible API)',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      servers: [{ url: config.PUBLIC_BASE_URL ?? `http://${config.HOST}:${config.PORT}` }],
      components: {
        securitySchemes: {
          basic: { type: 'http', scheme: 'basic' },
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      security: [{ basic: [] }, { bearer: [] }],
    },
  });

  installErrorHandling(app, 'identity');
  const smsProblem = () =>
    senders.activeProvider().then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error.message : 'no usable SMS provider'),
    );
  await app.register(healthRoutes, { database, smsProblem });
  await app.register(oauthRoutes, { prefix: '/oauth2', ...oauth, authenticator });
  await app.register(authorizeRoutes, {
    prefix: '/oauth2',
    db,
    clock,
    clients: oauth.clients,
    loginThrottle,
    publicBaseUrl: config.PUBLIC_BASE_URL,
  });

  await app.register(
    async (scim) => {
      installErrorHandling(scim, 'scim');
      await scim.register(discoveryRoutes, { publicBaseUrl: config.PUBLIC_BASE_URL, bulk: bulkLimits });
      await scim.register(userRoutes, {
        users,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        pendingCodeHints: verification.pendingCodeHints,
      });
      await scim.register(groupRoutes, { groups, publicBaseUrl: config.PUBLIC_BASE_URL });
      await scim.register(bulkRoutes, { ...bulkLimits, publicBaseUrl: config.PUBLIC_BASE_URL });
    },
    { prefix: '/scim2' },
  );

  await app.register(
    async (identity) => {
      installErrorHandling(identity, 'identity');
      await identity.register(codeRoutes, { verification });
    },
    { prefix: '/api/identity/user/v1.0' },
  );

  await app.register(
    async (server) => {
      installErrorHandling(server, 'identity');
      await server.register(senderRoutes, { senders });
      await server.register(deliveryRoutes, { db });
      await server.register(auditRoutes, { db });
      const inboxEnabled = config.NODE_ENV !== 'production';
      await server.register(inboxRoutes, {
        db,
        clock,
        destinations,
        bodyKey: keys.smsBodyEncryption,
        onSmsQueued,
        inboxEnabled,
      });
      await server.register(oauthAdminRoutes, oauth);
    },
    { prefix: '/api/server/v1' },
  );

  await app.register(metricsRoutes, { metrics, authenticator, metricsToken: config.METRICS_TOKEN });

  app.get(
    '/openapi.json',
    { schema: { hide: true }, config: { permission: permit.public('the API description') } },
    async () => app.swagger(),
  );
  await app.register(webAppRoutes);

  // Without a cache there is nothing to keep current.
  if (principals.enabled) app.addHook('onReady', () => credentialEvents.start());
  if (deps.startDispatcher ?? false) {
    app.addHook('onReady', async () => {
      dispatcher.start();
      housekeeping.start();
    });
  }
  // Fastify runs its own close step first (no new requests, the ones in flight finish), then onClose hooks
  // last-added-first. One hook keeps the order that avoids duplicate SMS: sends in flight finish and record
  // their outcome, and only then does the database close.
  app.addHook('onClose', async () => {
    await Promise.all([dispatcher.stop(), housekeeping.stop(), credentialEvents.stop()]);
    if (deps.closeDatabase ?? false) await db.destroy();
  });
  app.decorate('smsDispatcher', dispatcher);
  app.decorate('housekeeping', housekeeping);
  app.decorate('declaredRoutes', declaredRoutes);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    smsDispatcher: SmsDispatcher;
    housekeeping: Housekeeping;
    /** Every route with the permission it declared (src/auth/permissions.ts). */
    declaredRoutes: readonly DeclaredRoute[];
  }
}
