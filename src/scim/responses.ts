import type { FastifyRequest } from 'fastify';
import { LIST_RESPONSE_SCHEMA, MAX_PAGE_SIZE } from './schemas.js';

/** Shared by every SCIM resource's routes: media type, base URL, If-Match, paging and list responses. */
export const SCIM_JSON = 'application/scim+json';

export function baseUrlOf(request: FastifyRequest, publicBaseUrl: string | undefined): string {
  return publicBaseUrl ?? `${request.protocol}://${request.host}`;
}

export function ifMatchOf(request: FastifyRequest): string | undefined {
  const header = request.headers['if-match'];
  return typeof header === 'string' && header.trim() !== '' ? header : undefined;
}

/** RFC 7644 section 3.4.2.4. Past the last result the page is simply empty; the cap keeps the SQL offset within bigint. */
export function pageWindow(query: { startIndex?: number | undefined; count?: number | undefined }): {
  startIndex: number;
  count: number;
} {
  return {
    startIndex: Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, query.startIndex ?? 1)),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, query.count ?? 100)),
  };
}

export function listResponse(totalResults: number, startIndex: number, resources: readonly unknown[]) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}
