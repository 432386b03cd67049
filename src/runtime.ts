import type { Config } from './config/config-schema.js';
import { createDatabase, type DatabaseHandle, type DatabaseTarget } from './db/create-db.js';
import { migrateToLatest } from './db/migrate.js';
import { deriveSecretKeys, resolveSecret, type SecretKeys } from './shared/secret-keys.js';

/** DATABASE_URL selects PostgreSQL; without it the embedded PGlite under DATA_DIR. */
export function databaseTargetOf(config: Readonly<Config>): DatabaseTarget {
  return config.DATABASE_URL === undefined
    ? { kind: 'pglite', dataDir: config.DATA_DIR }
    : { kind: 'postgres', url: config.DATABASE_URL };
}

/** Opens the configured database and applies pending migrations. */
export async function openDatabase(config: Readonly<Config>): Promise<DatabaseHandle> {
  const database = await createDatabase(databaseTargetOf(config));
  await migrateToLatest(database.db);
  return database;
}

export function loadSecretKeys(config: Readonly<Config>): { keys: SecretKeys; generated: boolean } {
  const { secret, generated } = resolveSecret(config.SECRET_KEY, config.DATA_DIR);
  return { keys: deriveSecretKeys(secret), generated };
}
