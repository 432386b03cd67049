/** PostgreSQL SQLSTATE helpers; both pg and PGlite expose `code` on errors. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
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

/** node-postgres's client-side query_timeout: the database did not answer in time (it may be hanging). */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
