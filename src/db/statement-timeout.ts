import { sql } from 'kysely';
import type { Db, Trx } from './executor.js';

/**
 * Runs a SCIM listing in a repeatable-read transaction (its count and its page agree) whose statements may each take at most `statementTimeoutMs` in the
 * database (SET LOCAL: this transaction only), so that one expensive listing cannot hold it; a cancelled
 * statement (SQLSTATE 57014) answers 503 (src/errors/from-fastify-error.ts). PGlite runs queries synchronously
 * in this process and has no statement timer, so there the setting has no effect.
 */
export async function withStatementTimeout<T>(
  db: Db,
  statementTimeoutMs: number,
  read: (trx: Trx) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await sql`select set_config('statement_timeout', ${String(statementTimeoutMs)}, true)`.execute(trx);
      return read(trx);
    });
}
