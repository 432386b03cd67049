import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../migrations/index.js';
import { createDatabase } from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

const adminUrl = process.env.TEST_DATABASE_URL;

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function appliedNames(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('kysely_migration' as never)
    .select('name' as never)
    .execute();
  return rows.map((row) => (row as { name: string }).name).sort();
}

describe('migrations on a fresh database', () => {
  const expected = async () => Object.keys(await migrationProvider.getMigrations()).sort();

  it.skipIf(adminUrl !== undefined && adminUrl !== '')('apply once on PGlite when started concurrently', async () => {
    const database = await createDatabase({ kind: 'pglite', dataDir: null });
    try {
      const results = await Promise.all([1, 2, 3].map(() => migrateToLatest(database.db)));
      expect(results.flat().sort()).toEqual(await expected());
      expect(await appliedNames(database.db)).toEqual(await expected());
    } finally {
      await database.db.destroy();
    }
  });

  it.skipIf(adminUrl === undefined || adminUrl === '')(
    'apply exactly once when three instances start at once (advisory lock)',
    async () => {
      const name = `scim_migrate_${randomBytes(4).toString('hex')}`;
      await admin(`create database "${name}"`);
      const url = new URL(adminUrl ?? '');
      url.pathname = `/${name}`;
      const instances = [1, 2, 3].map(
        () =>
          new Kysely<Database>({
            dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString() }) }),
          }),
      );
      try {
        const results = await Promise.all(instances.map((db) => migrateToLatest(db)));
        // Each migration was applied by exactly one of the instances.
        expect(results.flat().sort()).toEqual(await expected());
        expect(await appliedNames(instances[0] as Kysely<Database>)).toEqual(await expected());
      } finally {
        await Promise.all(instances.map((db) => db.destroy()));
        await admin(`drop database if exists "${name}" with (force)`);
      }
    },
  );
});
