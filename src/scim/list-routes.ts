import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RoutePermission } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { requireAdmin } from '../http/auth-hooks.js';
import {
  ListQuerySchema,
  ListResponseSchema,
  ScimErrorResponses,
  SEARCH_REQUEST_SCHEMA,
  SearchBodySchema,
} from './schemas.js';

/** A list request (RFC 7644 section 3.4.2), from the query string of a GET or the body of a POST .search. */
export interface ListRequest {
  filter?: string | undefined;
  startIndex?: number | undefined;
  count?: number | undefined;
  sortBy?: string | undefined;
  sortOrder?: string | undefined;
  attributes?: string | undefined;
  excludedAttributes?: string | undefined;
}

type ScimApp = Parameters<FastifyPluginAsyncTypebox>[0];

/**
 * `GET <collection>` and `POST <collection>/.search` (RFC 7644 section 3.4.3) for one resource type: both
 * administrators' routes, answered by the same `sendPage`; only how the request arrives differs.
 */
export function listRoutes(
  app: ScimApp,
  collection: string,
  permission: RoutePermission,
  sendPage: (request: FastifyRequest, reply: FastifyReply, query: ListRequest) => Promise<FastifyReply>,
): void {
  const response = { 200: ListResponseSchema, ...ScimErrorResponses };
  app.get(
    collection,
    { config: { permission }, schema: { querystring: ListQuerySchema, response } },
    async (request, reply) => {
      requireAdmin(request);
      return sendPage(request, reply, request.query);
    },
  );
  app.post(
    `${collection}/.search`,
    { config: { permission }, schema: { body: SearchBodySchema, response } },
    async (request, reply) => {
      requireAdmin(request);
      const { body } = request;
      if (!body.schemas.includes(SEARCH_REQUEST_SCHEMA)) {
        throw new AppError('INVALID_SYNTAX', `The request must use the schema ${SEARCH_REQUEST_SCHEMA}`);
      }
      return sendPage(request, reply, {
        filter: body.filter,
        startIndex: body.startIndex,
        count: body.count,
        sortBy: body.sortBy,
        sortOrder: body.sortOrder,
        attributes: body.attributes?.join(','),
        excludedAttributes: body.excludedAttributes?.join(','),
      });
    },
  );
}
