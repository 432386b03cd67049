import {
  isConnectionFailure,
  isStalePreparedStatement,
  isStatementTimeout,
  isTransactionConflict,
  isUniqueViolation,
} from '../db/pg-errors.js';
import { AppError, isAppError } from './app-error.js';

interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
  validationContext?: unknown;
}

/** Turns anything thrown while handling a request into an AppError; unknown errors become INTERNAL. */
export function toAppError(error: unknown): AppError {
  if (isAppError(error)) return error;
  const framework = (typeof error === 'object' && error !== null ? error : {}) as FrameworkError;
  if (framework.validation !== undefined) {
    const where = typeof framework.validationContext === 'string' ? framework.validationContext : 'request';
    const message = typeof framework.message === 'string' ? framework.message : 'invalid request';
    return new AppError(where === 'body' ? 'INVALID_SYNTAX' : 'INVALID_VALUE', `Invalid ${where}: ${message}`);
  }
  switch (framework.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('INVALID_SYNTAX', 'The request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type for this endpoint');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('URI_TOO_LONG', 'A path parameter is too long');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('INVALID_SYNTAX', 'Malformed request URL');
  }
  if (error instanceof SyntaxError) return new AppError('INVALID_SYNTAX', 'The request body is not valid JSON');
  if (isUniqueViolation(error)) return new AppError('UNIQUENESS', 'A unique value is already taken', { cause: error });
  if (isUnstorableText(error)) {
    // Request text the database cannot hold (NUL, or bytes PGlite made of a lone surrogate): the client's fault.
    return new AppError('INVALID_VALUE', 'A value contains a NUL character or text that is not valid UTF-8', {
      cause: error,
    });
  }
  if (isStatementTimeout(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The query took too long and was cancelled; narrow the filter', {
      cause: error,
      retryAfterSeconds: 5,
    });
  }
  // The request stream of a client that gave up mid-upload errs with ECONNRESET too: the client's doing, not the database's.
  if (framework.statusCode === 400 && framework.code === 'ECONNRESET') {
    return new AppError('INVALID_SYNTAX', 'The client closed the connection before the request body was complete');
  }
  if (isStalePreparedStatement(error)) {
    // The connection prepares its statements again (src/db/create-db.ts): the next attempt sees the new columns.
    return new AppError('SERVICE_UNAVAILABLE', 'The database schema changed during the request; try again', {
      cause: error,
      retryAfterSeconds: 1,
    });
  }
  if (isTransactionConflict(error)) {
    // The transaction was rolled back whole, so nothing changed and the request can simply be sent again.
    return new AppError('SERVICE_UNAVAILABLE', 'A concurrent write got in the way; try again', {
      cause: error,
      retryAfterSeconds: 1,
    });
  }
  if (isConnectionFailure(error)) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly', {
      cause: error,
      retryAfterSeconds: 5,
    });
  }
  const status = typeof framework.statusCode === 'number' ? framework.statusCode : 500;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type');
  if (status >= 400 && status < 500) {
    return new AppError('INVALID_SYNTAX', typeof framework.message === 'string' ? framework.message : 'Bad request');
  }
  return new AppError('INTERNAL', 'An unexpected error occurred', { cause: error });
}

/** SQLSTATE 22021 character_not_in_repertoire, 22P05 untranslatable_character. */
function isUnstorableText(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '22021' || code === '22P05';
}
