import { sql } from 'kysely';
import type { Db, Trx } from './executor.js';

/**
 * Runs a SCIM read in a transaction with settings of its own (SET LOCAL: this transaction only):
 *
 * - each statement may take at most `statementTimeoutMs` in the database, so that one expensive listing cannot
 *   hold it; a cancelled statement (SQLSTATE 57014) answers 503 (src/errors/from-fastify-error.ts). PGlite runs
 *   queries synchronously in this process and has no statement timer, so there it has no effect;
 * - no JIT compilation: the recursive membership queries (a user's groups, `groups.value eq` filters) are
 *   estimated far above jit_above_cost when statistics are missing or coarse, and PostgreSQL then spent about
 *   250 ms compiling a query that runs in 2 ms (measured on a user in 1,000 groups). These reads are short.
 */
export async function readTransaction<T>(
  db: Db,
  statementTimeoutMs: number,
  read: (trx: Trx) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('statement_timeout', ${String(statementTimeoutMs)}, true), set_config('jit', 'off', true)`.execute(
      trx,
    );
    return read(trx);
  });
}
