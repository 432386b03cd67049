import { buildApp } from './app.js';
import { loadConfig } from './config/load-config.js';
import { installGracefulShutdown } from './process/shutdown-signals.js';
import {
  checkEnvironmentProvider,
  loadSecretKeys,
  openDatabase,
  shutdownGraceMs,
  startupFailureMessage,
} from './runtime.js';
import { createLogger } from './shared/logger.js';
import { ensureAdministrator } from './users/bootstrap-admin.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL);
  checkEnvironmentProvider(config, logger);
  const { keys, generated } = loadSecretKeys(config);
  if (generated) logger.warn({ dataDir: config.DATA_DIR }, 'generated a new secret key under DATA_DIR');
  const database = await openDatabase(config);
  logger.info({ database: database.kind }, 'database ready, migrations applied');

  const admin = await ensureAdministrator(database.db, config.ADMIN_USERNAME, config.ADMIN_PASSWORD, new Date());
  if (admin.generatedPassword !== undefined) {
    // Printed once, on purpose, outside the structured log so it is not shipped to log storage.
    process.stdout.write(
      `\nCreated administrator '${admin.userName}' with generated password: ${admin.generatedPassword}\n` +
        'Store it now; it will not be shown again.\n\n',
    );
  } else if (admin.created) {
    logger.info({ userName: admin.userName }, 'created administrator from ADMIN_USERNAME / ADMIN_PASSWORD');
  } else if (config.ADMIN_PASSWORD !== undefined) {
    logger.warn(
      'ADMIN_PASSWORD is ignored: an administrator already exists (to set a password: npm run reset-admin-password)',
    );
  }

  // The app closes the database itself, after in-flight requests and SMS sends have finished and recorded.
  const app = await buildApp({ config, database, keys, logger, startDispatcher: true, closeDatabase: true });

  installGracefulShutdown(logger, () => app.close(), shutdownGraceMs(config));

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureMessage(error)}\n`);
  process.exit(1);
});
