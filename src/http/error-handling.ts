import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { identityErrorBody, scimErrorBody } from '../errors/error-bodies.js';
import { toAppError } from '../errors/from-fastify-error.js';

export type ErrorFormat = 'scim' | 'identity';

/** Installs the error and 404 handlers of one route family; each family renders errors its own way. */
export function installErrorHandling(scope: FastifyInstance, format: ErrorFormat): void {
  scope.setErrorHandler((error: FastifyError, request, reply) => sendError(toAppError(error), format, request, reply));
  scope.setNotFoundHandler((request, reply) =>
    sendError(
      new AppError('NOT_FOUND', `No resource at ${request.method} ${request.url.split('?')[0]}`),
      format,
      request,
      reply,
    ),
  );
}

export function sendError(error: AppError, format: ErrorFormat, request: FastifyRequest, reply: FastifyReply) {
  if (error.status >= 500) {
    request.log.error({ err: error.cause ?? error, errorCode: error.code }, 'request failed');
  } else {
    request.log.info({ errorCode: error.code, status: error.status }, error.detail);
  }
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  reply.code(error.status);
  if (format === 'scim') {
    return reply.type('application/scim+json').send(scimErrorBody(error));
  }
  return reply.type('application/json; charset=utf-8').send(identityErrorBody(error, request.id));
}

/** Registers a handler answering 405 for the methods a path does not support. */
export function methodNotAllowed(scope: FastifyInstance, url: string, allowed: readonly string[]): void {
  const all = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  const others = all.filter((method) => !allowed.includes(method));
  if (others.length === 0) return;
  const refuse = async () => {
    throw new AppError('METHOD_NOT_ALLOWED', `Method not allowed; use ${allowed.join(', ')}`, {
      headers: { allow: allowed.join(', ') },
    });
  };
  // Refused in onRequest, before the body is parsed: a malformed or oversized body still gets the 405.
  // A 405 is not an operation: keep it out of /openapi.json.
  scope.route({
    method: others,
    url,
    config: { permission: permit.public('answers 405 only') },
    schema: { hide: true },
    onRequest: refuse,
    handler: refuse,
  });
}
