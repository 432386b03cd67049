import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import {
  createDatabase,
  type DatabaseHandle,
  PGLITE_EXTENSIONS,
  pgliteListener,
  TurnTakingPGlite,
} from '../../src/db/create-db.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export interface TestDatabase {
  handle: DatabaseHandle;
  /** For a second app on the same database (PostgreSQL only; PGlite is one process). */
  url: string | undefined;
  close(): Promise<void>;
}

/**
 * PGlite in memory by default; with TEST_DATABASE_URL, a fresh PostgreSQL database per call,
 * so runs never depend on what an earlier run left behind.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') {
    const handle = await createPgliteFromSnapshot();
    return { handle, url: undefined, close: () => handle.db.destroy() };
  }
  const name = `scim_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`create database "${name}"`));
  const url = databaseUrl(adminUrl, name);
  const handle = await createDatabase({ kind: 'postgres', url });
  await migrateToLatest(handle.db);
  return {
    handle,
    url,
    close: async () => {
      await handle.db.destroy();
      await withAdminClient(adminUrl, (client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

let migratedSnapshot: Promise<File | Blob> | undefined;

/** initdb + migrations once per test worker; every test database starts from a copy of that data directory. */
async function createPgliteFromSnapshot(): Promise<DatabaseHandle> {
  migratedSnapshot ??= (async () => {
    const template = new PGlite({ extensions: PGLITE_EXTENSIONS });
    await template.waitReady;
    const db = new Kysely<Database>({ dialect: new PGliteDialect(template) });
    await migrateToLatest(db);
    const snapshot = await template.dumpDataDir('none');
    await db.destroy();
    return snapshot;
  })();
  const client = new TurnTakingPGlite({ loadDataDir: await migratedSnapshot, extensions: PGLITE_EXTENSIONS });
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return {
    db,
    kind: 'pglite',
    ping: async () => void (await client.query('select 1')),
    listen: pgliteListener(client),
  };
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdminClient<T>(url: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}
