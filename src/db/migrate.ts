import { type Kysely, Migrator } from 'kysely';
import { migrationProvider } from '../../migrations/index.js';
import type { Database } from './database.js';

/**
 * Applies pending migrations. Kysely's Migrator takes a PostgreSQL advisory lock,
 * so several instances starting at once apply each migration exactly once.
 */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    throw new Error('database migration failed', { cause: error });
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
