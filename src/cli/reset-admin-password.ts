import { loadConfig } from '../config/load-config.js';
import { openDatabase, startupFailureMessage } from '../runtime.js';
import { resetAdministratorPassword } from '../users/bootstrap-admin.js';

/**
 * `npm run reset-admin-password`: sets the password of ADMIN_USERNAME to ADMIN_PASSWORD, or to a generated one
 * printed once. With the embedded database, stop the server first (one process at a time may open DATA_DIR).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await openDatabase(config);
  try {
    const result = await resetAdministratorPassword(
      database.db,
      config.ADMIN_USERNAME,
      config.ADMIN_PASSWORD,
      new Date(),
    );
    const what = result.created ? 'Created administrator' : 'Reset the password of administrator';
    process.stdout.write(
      result.generatedPassword === undefined
        ? `${what} '${result.userName}' to ADMIN_PASSWORD.\n`
        : `${what} '${result.userName}'; generated password: ${result.generatedPassword}\nStore it now; it will not be shown again.\n`,
    );
  } finally {
    await database.db.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${startupFailureMessage(error)}\n`);
  process.exit(1);
});
