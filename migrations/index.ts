import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-29T0000_initial.js';

/** An explicit list: works the same from TypeScript sources and from compiled output, on PGlite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '2026-11-29T0000_initial': initial,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
