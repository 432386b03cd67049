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
  if (state?.startsWith('08') || state === '57P01' || state === '57P03') return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'ENOTFOUND') return true;
  // node-postgres reports a dropped or unobtainable connection with a plain Error and no code.
  const message = error instanceof Error ? error.message : '';
  return /connection terminated|timeout exceeded when trying to connect|connection timeout|server closed the connection/i.test(
    message,
  );
}

function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
