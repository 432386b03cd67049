import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';
import { isQueryTimeout } from './pg-errors.js';

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseTarget['kind'];
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** Connection pool figures for /metrics (PostgreSQL; PGlite has no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
}

export interface DatabaseOptions {
  /**
   * Client-side deadline of one statement on PostgreSQL (a frozen server never answers, so a server-side
   * statement_timeout cannot help). Unset: no deadline, for migrations that may wait on a lock or build an index.
   */
  queryTimeoutMs?: number;
}

/** PostgreSQL extensions the migrations create; PGlite must load them with the instance. */
export const PGLITE_EXTENSIONS = { pg_trgm };

/**
 * PGlite runs each statement synchronously on this thread, and its Kysely driver hands the connection from
 * one transaction to the next in microtasks: under load, the statements of queued requests ran back to back
 * without the event loop turning (blocks of hundreds of milliseconds, measured by `npm run bench`). Each
 * statement first waits for the next turn of the loop, so sockets and timers are served in between and a
 * block lasts one statement.
 */
export class TurnTakingPGlite extends PGlite {
  override async query<T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    await nextTurn();
    return super.query<T>(query, params, options);
  }
}

/** Fail fast when the database is unreachable or every connection is busy: requests answer 503 instead of queueing up. */
const CONNECT_AND_ACQUIRE_TIMEOUT_MS = 3000;

/** One code path for both backends: only the dialect differs. */
export async function createDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      Client: ResilientClient,
      connectionString: target.url,
      max: 10,
      // Bounds both opening a connection and waiting for a free one of the pool.
      connectionTimeoutMillis: CONNECT_AND_ACQUIRE_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    return { db, kind: 'postgres', ping: () => pingWith(db), poolStats };
  }
  let client: PGlite;
  if (target.dataDir === null) {
    client = new TurnTakingPGlite({ extensions: PGLITE_EXTENSIONS });
  } else {
    const dir = path.resolve(target.dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    client = new TurnTakingPGlite(dir, { extensions: PGLITE_EXTENSIONS });
  }
  await client.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client) });
  return { db, kind: 'pglite', ping: () => pingWith(db) };
}

/**
 * node-postgres emits 'error' on a client whose connection drops outside a query (for instance
 * while connecting through a dying socket); unhandled, that would crash the process. Queries
 * still fail and are answered 503, so the event itself can be dropped.
 *
 * A statement that hit query_timeout is still in flight on its connection, and every later statement
 * (the ROLLBACK too) would queue behind it until the server answers. The connection is dropped instead:
 * the pool then discards the client and opens a fresh one once the server answers again.
 */
class ResilientClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', () => undefined);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    Object.defineProperty(this, 'query', {
      value: (...args: unknown[]) => {
        const result = query(...args);
        if (result instanceof Promise) {
          result.catch((error: unknown) => {
            if (isQueryTimeout(error)) this.connection.stream.destroy();
          });
        }
        return result;
      },
    });
  }
}

async function pingWith(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
}
