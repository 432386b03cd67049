// Writes the server's /openapi.json to a file (CI lints it with `redocly lint`). Uses an in-memory database.
import { writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { createDatabase } from '../src/db/create-db.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { createLogger } from '../src/shared/logger.js';
import { deriveSecretKeys } from '../src/shared/secret-keys.js';

const target = process.argv[2] ?? 'openapi.json';
const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
const database = await createDatabase({ kind: 'pglite', dataDir: null });
await migrateToLatest(database.db);
const app = await buildApp({
  config,
  database,
  keys: deriveSecretKeys('openapi-document-only-secret-0123456789'),
  logger: createLogger('silent'),
});
await app.ready();
const response = await app.inject({ method: 'GET', url: '/openapi.json' });
writeFileSync(target, response.body);
await app.close();
await database.db.destroy();
