import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CONFIG_SCOPES, permit } from '../auth/permissions.js';
import { countRows } from '../db/count-rows.js';
import type { Db } from '../db/executor.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import type { Clock } from '../shared/clock.js';
import { IdentityErrorSchema } from '../verification/code-routes.js';
import type { DestinationPolicy } from '../verification/destination-policy.js';
import { sendTestSms } from './test-message.js';

export interface InboxRoutesOptions {
  db: Db;
  clock: Clock;
  destinations: DestinationPolicy;
  /** Seals the test message's queued text. */
  bodyKey: Buffer;
  onSmsQueued: () => void;
  /** The development inbox is not served in production (the inbox provider is refused there anyway). */
  inboxEnabled: boolean;
}

const errors = { 400: IdentityErrorSchema, 401: IdentityErrorSchema, 403: IdentityErrorSchema };

const InboxQuery = Type.Object({
  to: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Only messages to this number' })),
  startIndex: Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 }),
  count: Type.Integer({ minimum: 0, maximum: 200, default: 50 }),
});

const InboxPage = Type.Object({
  totalResults: Type.Integer(),
  startIndex: Type.Integer(),
  itemsPerPage: Type.Integer(),
  messages: Type.Array(
    Type.Object({ id: Type.String(), to: Type.String(), text: Type.String(), createdAt: Type.String() }),
  ),
});

const TestSmsBody = Type.Object(
  { mobile: Type.String({ minLength: 1, maxLength: 32, description: 'Where the test message goes' }) },
  { additionalProperties: false },
);

/** GET /sms-inbox (development SMS inbox, newest first) and POST /sms-test-messages ("Send test SMS"). */
export const inboxRoutes: FastifyPluginAsyncTypebox<InboxRoutesOptions> = async (app, options) => {
  const { db } = options;

  if (options.inboxEnabled) {
    app.get(
      '/sms-inbox',
      {
        config: { permission: permit.admin(CONFIG_SCOPES.view) },
        schema: { querystring: InboxQuery, response: { 200: InboxPage, ...errors } },
      },
      async (request, reply) => {
        requireAdmin(request);
        const { to, startIndex, count } = request.query;
        let query = db.selectFrom('sms_inbox');
        if (to !== undefined) query = query.where('to_number', '=', to.trim());
        const rows = await query
          .selectAll()
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .offset(startIndex - 1)
          .limit(count)
          .execute();
        const totalResults = await countRows(query);
        reply.header('cache-control', 'no-store');
        return {
          totalResults,
          startIndex,
          itemsPerPage: rows.length,
          messages: rows.map((row) => ({
            id: row.id,
            to: row.to_number,
            text: row.body,
            createdAt: row.created_at.toISOString(),
          })),
        };
      },
    );
    methodNotAllowed(app, '/sms-inbox', ['GET']);
  }

  app.post(
    '/sms-test-messages',
    {
      config: { permission: permit.admin(CONFIG_SCOPES.update) },
      schema: {
        body: TestSmsBody,
        response: { 202: Type.Object({ deliveryId: Type.String() }), ...errors },
      },
    },
    async (request, reply) => {
      requireAdmin(request);
      return reply.code(202).send(await sendTestSms(options, request.body.mobile));
    },
  );
  methodNotAllowed(app, '/sms-test-messages', ['POST']);
};
