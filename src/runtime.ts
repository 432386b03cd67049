import type { Logger } from 'pino';
import type { Config } from './config/config-schema.js';
import { ConfigError } from './config/load-config.js';
import { createDatabase, type DatabaseHandle, type DatabaseTarget } from './db/create-db.js';
import { migrateToLatest } from './db/migrate.js';
import { describeDatabaseFailure } from './db/pg-errors.js';
import { deriveSecretKeys, resolveSecret, type SecretKeys } from './shared/secret-keys.js';
import { createSmsProvider } from './sms/providers/create-sms-provider.js';
import { redactSecrets } from './sms/providers/sms-provider.js';
import { environmentSenderSettings } from './sms/sender-settings.js';

/** DATABASE_URL selects PostgreSQL; without it the embedded PGlite under DATA_DIR. */
export function databaseTargetOf(config: Readonly<Config>): DatabaseTarget {
  return config.DATABASE_URL === undefined
    ? { kind: 'pglite', dataDir: config.DATA_DIR }
    : { kind: 'postgres', url: config.DATABASE_URL };
}

/**
 * Opens the configured database and applies pending migrations. On PostgreSQL the migrations run on a
 * connection of their own without the statement deadline (they may wait for another instance's lock or
 * build an index); the handle the server uses answers within DATABASE_QUERY_TIMEOUT_MS or fails.
 */
export async function openDatabase(config: Readonly<Config>): Promise<DatabaseHandle> {
  const target = databaseTargetOf(config);
  if (target.kind === 'pglite') {
    const database = await createDatabase(target);
    await migrateToLatest(database.db);
    return database;
  }
  const migrating = await createDatabase(target);
  try {
    await migrateToLatest(migrating.db);
  } finally {
    await migrating.db.destroy();
  }
  return createDatabase(target, {
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
  });
}

export function loadSecretKeys(config: Readonly<Config>): { keys: SecretKeys; generated: boolean } {
  const { secret, generated } = resolveSecret(config.SECRET_KEY, config.DATA_DIR);
  return { keys: deriveSecretKeys(secret), generated };
}

/**
 * Builds the SMS provider of SMS_PROVIDER once at start, so settings an SDK refuses (a Twilio Account SID
 * not starting with AC, ...) stop the server instead of failing every send. The message never carries a secret.
 */
export function checkEnvironmentProvider(config: Readonly<Config>, logger: Logger): void {
  if (config.SMS_PROVIDER === undefined) return;
  try {
    createSmsProvider(environmentSenderSettings(config), {
      logger,
      production: config.NODE_ENV === 'production',
      timeoutMs: config.SMS_SEND_TIMEOUT_MS,
    });
  } catch (error) {
    const secrets = [config.TWILIO_AUTH_TOKEN, config.VONAGE_API_SECRET, config.SMS_CUSTOM_HEADERS];
    const reason = redactSecrets(
      error instanceof Error ? error.message : 'rejected',
      secrets.map((s) => s ?? ''),
    );
    throw new ConfigError(`SMS_PROVIDER=${config.SMS_PROVIDER}: the provider refuses its settings: ${reason}`);
  }
}

/** What an operator reads when the process cannot start: the setting or the database's reason, else the stack. */
export function startupFailureMessage(error: unknown): string {
  if (error instanceof ConfigError) return `Invalid configuration: ${error.message}`;
  const databaseReason = describeDatabaseFailure(error);
  if (databaseReason !== undefined) return `Failed to start: database: ${databaseReason}`;
  return `Failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}

/**
 * How long a graceful stop may take before close-with-grace exits anyway: long enough for a provider call
 * in flight (its own deadline plus the dispatcher's grace) and for writing its outcome.
 */
export function shutdownGraceMs(config: Readonly<Config>): number {
  return config.SMS_SEND_TIMEOUT_MS + 1000 + 2 * config.DATABASE_QUERY_TIMEOUT_MS + 2000;
}
