import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { BULK_SCOPES, permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import {
  BULK_REQUEST_SCHEMA,
  BULK_RESPONSE_SCHEMA,
  type DispatchRequest,
  type DispatchResult,
  runBulk,
} from './bulk.js';
import { baseUrlOf, SCIM_JSON } from './responses.js';
import { ScimErrorResponses } from './schemas.js';

export interface BulkLimits {
  maxOperations: number;
  maxPayloadSize: number;
}

export interface BulkRoutesOptions extends BulkLimits {
  publicBaseUrl: string | undefined;
}

const BulkBodySchema = Type.Object({
  schemas: Type.Array(Type.String(), { minItems: 1 }),
  failOnErrors: Type.Optional(Type.Integer({ minimum: 0 })),
  Operations: Type.Array(
    Type.Object({
      method: Type.String({ minLength: 1, maxLength: 16 }),
      path: Type.String({ minLength: 1, maxLength: 1024 }),
      bulkId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
      version: Type.Optional(Type.String({ maxLength: 256 })),
      data: Type.Optional(Type.Unknown()),
    }),
    { minItems: 1 },
  ),
});

const BulkResponseSchema = Type.Object(
  { schemas: Type.Array(Type.String()), Operations: Type.Array(Type.Object({}, { additionalProperties: true })) },
  { additionalProperties: false },
);

/**
 * POST /scim2/Bulk (RFC 7644 section 3.7). The caller needs the Bulk permission, and each operation runs as
 * the caller through its own route, so it also needs that route's permission (as WSO2 IS 7.2 checks per operation).
 */
export const bulkRoutes: FastifyPluginAsyncTypebox<BulkRoutesOptions> = async (app, options) => {
  const tooLarge = () =>
    new AppError(
      'PAYLOAD_TOO_LARGE',
      `The size of the bulk operation exceeds the maxPayloadSize (${options.maxPayloadSize} bytes)`,
    );

  app.post(
    '/Bulk',
    {
      config: { permission: permit.admin(BULK_SCOPES.create) },
      bodyLimit: options.maxPayloadSize,
      // A declared length over the limit is refused before the body is read, with the limit named.
      preParsing: async (request) => {
        if (Number(request.headers['content-length'] ?? 0) > options.maxPayloadSize) throw tooLarge();
      },
      schema: { body: BulkBodySchema, response: { 200: BulkResponseSchema, ...ScimErrorResponses } },
    },
    async (request, reply) => {
      requireAdmin(request);
      const { body } = request;
      if (!body.schemas.includes(BULK_REQUEST_SCHEMA)) {
        throw new AppError('INVALID_SYNTAX', `The request must use the schema ${BULK_REQUEST_SCHEMA}`);
      }
      if (body.Operations.length > options.maxOperations) {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `The number of operations exceeds the maxOperations (${options.maxOperations})`,
        );
      }
      const results = await runBulk(body.Operations, body.failOnErrors, (operation) =>
        dispatchAs(request, operation, baseUrlOf(request, options.publicBaseUrl)),
      );
      return reply.type(SCIM_JSON).send({ schemas: [BULK_RESPONSE_SCHEMA], Operations: results });
    },
  );

  methodNotAllowed(app, '/Bulk', ['POST']);
};

/** One operation as the request it stands for, with the caller's credentials, address and request id. */
async function dispatchAs(request: FastifyRequest, operation: DispatchRequest, base: string): Promise<DispatchResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/scim+json',
    'x-request-id': `${request.id.slice(0, 100)}.${operation.index}`,
  };
  if (request.headers.authorization !== undefined) headers.authorization = request.headers.authorization;
  if (operation.ifMatch !== undefined) headers['if-match'] = operation.ifMatch;
  const response = await request.server.inject({
    method: operation.method,
    url: `/scim2${operation.path}`,
    headers,
    remoteAddress: request.ip,
    ...(operation.body === undefined ? {} : { payload: JSON.stringify(operation.body) }),
  });
  const location = response.headers.location;
  const etag = response.headers.etag;
  return {
    status: response.statusCode,
    location:
      typeof location === 'string'
        ? location
        : operation.method === 'POST'
          ? undefined
          : `${base}/scim2${operation.path.replace(/\/$/, '')}`,
    etag: typeof etag === 'string' ? etag : undefined,
    body: response.body === '' ? undefined : (JSON.parse(response.body) as unknown),
  };
}
