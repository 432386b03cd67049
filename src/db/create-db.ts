import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';
import { isQueryTimeout, isStalePreparedStatement } from './pg-errors.js';
import { STATEMENT_NAME_LIMIT, StatementNames } from './statement-names.js';

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string | null };

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseTarget['kind'];
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** Connection pool figures for /metrics (PostgreSQL; PGlite has no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * Calls `onNotify` on each NOTIFY on `channel`, and once more after a lost listening connection is back
   * (notifications may have been missed meanwhile). Never fails: on PostgreSQL a dedicated connection is
   * opened in the background and reopened after a loss. Resolves to a function that stops listening.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}

export interface DatabaseOptions {
  /**
   * Client-side deadline of one statement on PostgreSQL (a frozen server never answers, so a server-side
   * statement_timeout cannot help). Unset: no deadline, for migrations that may wait on a lock or build an index.
   */
  queryTimeoutMs?: number;
  /**
   * Prepare parameterised statements once per connection (default true; DATABASE_PREPARED_STATEMENTS). Off for a
   * connection pooler that does not keep named statements per client (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
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
    const names = options.preparedStatements === false ? undefined : new StatementNames(STATEMENT_NAME_LIMIT);
    const pool = new pg.Pool({
      Client: resilientClient(names),
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
    // Every statement here is short. With coarse or missing statistics PostgreSQL estimates the recursive
    // membership queries (a user's groups, `groups.value eq` filters) far above jit_above_cost and then spent
    // about 250 ms JIT-compiling a query that runs in 2 ms (a user in 1,000 groups). Set once per connection:
    // the first statement a new client sends, before any query of the pool.
    pool.on('connect', (client) => {
      client.query('set jit = off').catch(() => undefined);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
    const listen = (channel: string, onNotify: () => void) => listenOnPostgres(target.url, channel, onNotify);
    return { db, kind: 'postgres', ping: () => pingWith(db), poolStats, listen };
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
  return { db, kind: 'pglite', ping: () => pingWith(db), listen: pgliteListener(client) };
}

/** PGlite is one process: its own LISTEN/NOTIFY reaches every listener in it. */
export function pgliteListener(client: PGlite): NonNullable<DatabaseHandle['listen']> {
  return async (channel, onNotify) => {
    const stop = await client.listen(channel, () => onNotify());
    return async () => {
      // The database may already be closed when the app stops.
      await stop().catch(() => undefined);
    };
  };
}

const RELISTEN_DELAY_MS = 1000;

/** LISTEN on a connection of its own (a pooled one would be handed to other queries). */
async function listenOnPostgres(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const reconnectLater = () => {
    if (stopped || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, RELISTEN_DELAY_MS);
    retry.unref();
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_AND_ACQUIRE_TIMEOUT_MS });
    next.on('error', () => {
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      reconnectLater();
    });
    next.on('end', () => {
      if (client === next) client = undefined;
      reconnectLater();
    });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    try {
      await next.connect();
      await next.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    } catch {
      await next.end().catch(() => undefined);
      reconnectLater();
      return;
    }
    if (stopped) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    onNotify();
  }

  void connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}

/**
 * node-postgres emits 'error' on a client whose connection drops outside a query (for instance
 * while connecting through a dying socket); unhandled, that would crash the process. Queries
 * still fail and are answered 503, so the event itself can be dropped.
 *
 * A statement that hit query_timeout is still in flight on its connection, and every later statement
 * (the ROLLBACK too) would queue behind it until the server answers. The connection is dropped instead:
 * the pool then discards the client and opens a fresh one once the server answers again.
 *
 * With `names`, parameterised statements (Kysely sends `query(text, values)`) are sent as named ones. When
 * one went stale (a migration changed the columns it returns), that request fails (503) and the connection
 * names its statements afresh, so each is prepared again for the new columns.
 */
function resilientClient(names: StatementNames | undefined): typeof pg.Client {
  return class ResilientClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.on('error', () => undefined);
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      let generation = 0;
      Object.defineProperty(this, 'query', {
        value: (...args: unknown[]) => {
          const result = query(...namedQuery(names, generation, args));
          if (result instanceof Promise) {
            result.catch((error: unknown) => {
              if (isQueryTimeout(error)) this.connection.stream.destroy();
              if (isStalePreparedStatement(error)) generation += 1;
            });
          }
          return result;
        },
      });
    }
  };
}

function namedQuery(names: StatementNames | undefined, generation: number, args: unknown[]): unknown[] {
  const [text, values, ...rest] = args;
  if (names === undefined || typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return args;
  const name = names.nameOf(text);
  return name === undefined ? args : [{ name: `${name}_${generation}`, text, values }, ...rest];
}

async function pingWith(db: Kysely<Database>): Promise<void> {
  await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
}
