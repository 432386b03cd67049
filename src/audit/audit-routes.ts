import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CONFIG_SCOPES, permit } from '../auth/permissions.js';
import type { Db } from '../db/executor.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { AUDIT_EVENT_TYPES } from './audit-event-types.js';
import { queryAuditEvents } from './audit-log.js';

const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  description: Type.String(),
  traceId: Type.String(),
});

const AuditQuery = Type.Object({
  userId: Type.Optional(Type.String({ format: 'uuid' })),
  type: Type.Optional(Type.Union(AUDIT_EVENT_TYPES.map((type) => Type.Literal(type)))),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  startIndex: Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 }),
  count: Type.Integer({ minimum: 0, maximum: 200, default: 50 }),
});

const AuditEventBody = Type.Object({
  id: Type.String(),
  occurredAt: Type.String(),
  type: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  actorId: Type.Union([Type.String(), Type.Null()]),
  persona: Type.Union([Type.String(), Type.Null()]),
  maskedNumber: Type.Union([Type.String(), Type.Null()]),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

/** GET /api/server/v1/audit-events: the verification flow's trail, for administrators. */
export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, options) => {
  app.get(
    '/audit-events',
    {
      config: { permission: permit.admin(CONFIG_SCOPES.view) },
      schema: {
        querystring: AuditQuery,
        response: {
          200: Type.Object({
            totalResults: Type.Integer(),
            startIndex: Type.Integer(),
            itemsPerPage: Type.Integer(),
            events: Type.Array(AuditEventBody),
          }),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { userId, type, from, to, startIndex, count } = request.query;
      const page = await queryAuditEvents(options.db, {
        userId,
        type,
        from: from === undefined ? undefined : new Date(from),
        to: to === undefined ? undefined : new Date(to),
        startIndex,
        count,
      });
      return {
        totalResults: page.totalResults,
        startIndex,
        itemsPerPage: page.events.length,
        events: page.events.map((event) => ({
          id: event.id,
          occurredAt: event.occurred_at.toISOString(),
          type: event.type,
          userId: event.user_id,
          actorId: event.actor_id,
          persona: event.persona,
          maskedNumber: event.masked_number,
          clientIp: event.client_ip,
          requestId: event.request_id,
          details: event.details === null ? null : (JSON.parse(event.details) as Record<string, unknown>),
        })),
      };
    },
  );
  methodNotAllowed(app, '/audit-events', ['GET']);
};
