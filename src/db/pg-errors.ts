/** PostgreSQL SQLSTATE helpers; both pg and PGlite expose `code` on errors. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** 57014 query_canceled: statement_timeout fired. */
export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === '57014';
}

export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  // 08: connection exceptions; 57P01/57P03: shutting down / starting up; 57014: statement cancelled (timeout).
  if (state?.startsWith('08') || state === '57P01' || state === '57P03' || state === '57014') return true;
  if (isQueryTimeout(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'ENOTFOUND') return true;
  // node-postgres reports a dropped or unobtainable connection with a plain Error and no code.
  const message = error instanceof Error ? error.message : '';
  return /connection terminated|timeout exceeded when trying to connect|connection timeout|server closed the connection|not queryable/i.test(
    message,
  );
}

/**
 * 0A000 "cached plan must not change result type": a prepared statement whose table changed columns since it
 * was prepared (a migration by another instance); 26000: the connection lost its prepared statements.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const state = sqlState(error);
  return state === '26000' || (state === '0A000' && error instanceof Error && /cached plan/.test(error.message));
}

/**
 * 40P01 deadlock_detected, 40001 serialization_failure: the database aborted this transaction to let a
 * concurrent one finish; the same request again normally succeeds.
 */
export function isTransactionConflict(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40P01' || state === '40001';
}

/** node-postgres's client-side query_timeout: the database did not answer in time (it may be hanging). */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

const STARTUP_FAILURES: Record<string, string> = {
  '3D000': 'the database does not exist (create it, or fix the database name in DATABASE_URL)',
  '28P01': 'password authentication failed (check the user and password in DATABASE_URL)',
  '28000': 'the server refused this user or client address (pg_hba.conf)',
  '42501': 'the user lacks a privilege the migrations need',
  '53300': 'the server has too many connections',
  '57P03': 'the database server is starting up or shutting down',
  ECONNREFUSED: 'nothing accepts connections at the host and port of DATABASE_URL',
  ENOTFOUND: 'the host in DATABASE_URL is not found',
  ETIMEDOUT: 'connecting to the database timed out',
};

/**
 * Why the database could not be opened or migrated, from the first error in the cause chain that says so:
 * an operator sees "the database does not exist", not a stack trace. Never includes DATABASE_URL itself.
 */
export function describeDatabaseFailure(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    const code = sqlState(current);
    const known = code === undefined ? undefined : STARTUP_FAILURES[code];
    if (known !== undefined) return `${known} [${code}]: ${current.message}`;
    if (isConnectionFailure(current)) return `the database cannot be reached: ${current.message}`;
    current = current.cause;
  }
  return undefined;
}
