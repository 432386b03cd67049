import { loadConfig } from '../config/load-config.js';
import { createDatabase } from '../db/create-db.js';
import { migrateToLatest } from '../db/migrate.js';
import { databaseTargetOf, startupFailureMessage } from '../runtime.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await createDatabase(databaseTargetOf(config));
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${applied.join(', ')}\n`);
  } finally {
    await database.db.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureMessage(error)}\n`);
  process.exit(1);
});
