import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseTarget['kind'];
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** Connection pool figures for /metrics (PostgreSQL; PGlite has no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
}

/** One code path for both backends: only the dialect differs. */
export async function createDatabase(target: DatabaseTarget): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      Client: ResilientClient,
      connectionString: target.url,
      max: 10,
      // Fail fast when the database is unreachable: requests answer 503 instead of queueing up.
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    return { db, kind: 'postgres', ping: () => pingWith(db), poolStats };
  }
  let client: PGlite;
  if (target.dataDir === null) {
    client = new PGlite();
  } else {
    const dir = path.resolve(target.dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    client = new PGlite(dir);
  }
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'pglite', ping: () => pingWith(db) };
}

/**
 * node-postgres emits 'error' on a client whose connection drops outside a query (for instance
 * while connecting through a dying socket); unhandled, that would crash the process. Queries
 * still fail and are answered 503, so the event itself can be dropped.
 */
class ResilientClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

async function pingWith(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
}
