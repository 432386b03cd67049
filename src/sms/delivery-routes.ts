import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CONFIG_SCOPES, permit } from '../auth/permissions.js';
import type { Db } from '../db/executor.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { IdentityErrorSchema } from '../verification/code-routes.js';
import { listSmsDeliveries, type SmsDelivery } from './delivery-service.js';

const SmsStateSchema = Type.Union([
  Type.Literal('queued'),
  Type.Literal('sending'),
  Type.Literal('sent'),
  Type.Literal('failed'),
  Type.Literal('expired'),
]);

const DeliveryQuery = Type.Object({
  startIndex: Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 }),
  count: Type.Integer({ minimum: 0, maximum: 200, default: 50 }),
  state: Type.Optional(SmsStateSchema),
  userId: Type.Optional(
    Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' }),
  ),
});

const NullableString = Type.Union([Type.String(), Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

const Delivery = Type.Object({
  id: Type.String(),
  userId: NullableString,
  purpose: Type.String(),
  to: Type.String({ description: 'Masked destination number' }),
  state: SmsStateSchema,
  attempts: Type.Integer(),
  lastError: NullableString,
  provider: NullableString,
  providerMessageId: NullableString,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  sentAt: Type.Union([Timestamp, Type.Null()]),
  nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
  expiresAt: Type.Union([Timestamp, Type.Null()], {
    description: 'When the code the message carries expires; undelivered by then, the state becomes expired',
  }),
});

const DeliveryPage = Type.Object({
  totalResults: Type.Integer(),
  startIndex: Type.Integer(),
  itemsPerPage: Type.Integer(),
  deliveries: Type.Array(Delivery),
});

const errors = { 400: IdentityErrorSchema, 401: IdentityErrorSchema, 403: IdentityErrorSchema };

/** Outbox status for administrators: who was sent what kind of SMS, when, and what went wrong. */
export const deliveryRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, options) => {
  const { db } = options;

  app.get(
    '/sms-deliveries',
    {
      config: { permission: permit.admin(CONFIG_SCOPES.view) },
      schema: { querystring: DeliveryQuery, response: { 200: DeliveryPage, ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      const page = await listSmsDeliveries(db, request.query);
      return { ...page, deliveries: page.deliveries.map(toWire) };
    },
  );

  methodNotAllowed(app, '/sms-deliveries', ['GET']);
};

function toWire(delivery: SmsDelivery) {
  return {
    ...delivery,
    createdAt: delivery.createdAt.toISOString(),
    updatedAt: delivery.updatedAt.toISOString(),
    sentAt: delivery.sentAt?.toISOString() ?? null,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    expiresAt: delivery.expiresAt?.toISOString() ?? null,
  };
}
