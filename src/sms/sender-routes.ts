import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { CONFIG_SCOPES, permit } from '../auth/permissions.js';
import { AppError } from '../errors/app-error.js';
import { requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { IdentityErrorSchema } from '../verification/code-routes.js';
import type { SenderService } from './sender-service.js';

const SenderName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9._-]+$' });
// WSO2's Console sends null for the fields a provider does not use.
const OptionalText = (maxLength: number) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));

const Property = Type.Object(
  { key: Type.String({ minLength: 1, maxLength: 255 }), value: Type.String({ maxLength: 10_000 }) },
  { additionalProperties: false },
);

/** WSO2's SMSSenderAdd; PUT takes the same body (its `name`, if any, must match the path). */
const SmsSenderBody = Type.Object(
  {
    name: Type.Optional(SenderName),
    provider: Type.String({ minLength: 1, maxLength: 64 }),
    providerURL: OptionalText(2048),
    key: OptionalText(1024),
    secret: OptionalText(4096),
    sender: OptionalText(255),
    contentType: Type.String({ minLength: 1, maxLength: 16 }),
    properties: Type.Optional(Type.Array(Property, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

/**
 * WSO2's SMSSender. `secret` is not part of it, and the `http.headers` property is omitted rather than
 * masked: its values are credentials, and a masked value sent back on PUT would overwrite the real one.
 * On PUT, leaving either out keeps the stored value.
 */
const SmsSender = Type.Object({
  name: Type.String(),
  provider: Type.String(),
  providerURL: Type.Optional(Type.String()),
  key: Type.Optional(Type.String()),
  sender: Type.Optional(Type.String()),
  contentType: Type.String(),
  properties: Type.Array(Type.Object({ key: Type.String(), value: Type.String() })),
});

const NameParams = Type.Object({ senderName: Type.String({ minLength: 1, maxLength: 255 }) });

const errors = {
  400: IdentityErrorSchema,
  401: IdentityErrorSchema,
  403: IdentityErrorSchema,
  404: IdentityErrorSchema,
  409: IdentityErrorSchema,
};

const COLLECTION = '/notification-senders/sms';
const ITEM = '/notification-senders/sms/:senderName';

/** WSO2's notification-senders API for SMS (identity-api-server, notification-sender.yaml). */
export const senderRoutes: FastifyPluginAsyncTypebox<{ senders: SenderService }> = async (app, options) => {
  const { senders } = options;

  app.post(
    COLLECTION,
    {
      config: { permission: permit.admin(CONFIG_SCOPES.add) },
      schema: { body: SmsSenderBody, response: { 201: SmsSender, ...errors } },
      attachValidation: true,
    },
    async (request, reply) => {
      requireAdmin(request);
      rejectInvalidBody(request);
      const sender = await senders.createSender(request.body);
      const location = `${request.url.split('?')[0]}/${encodeURIComponent(sender.name)}`;
      return reply.code(201).header('location', location).send(sender);
    },
  );

  app.get(
    COLLECTION,
    {
      config: { permission: permit.admin(CONFIG_SCOPES.view) },
      schema: { response: { 200: Type.Array(SmsSender), ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      return senders.listSenders();
    },
  );

  app.get(
    ITEM,
    {
      config: { permission: permit.admin(CONFIG_SCOPES.view) },
      schema: { params: NameParams, response: { 200: SmsSender, ...errors } },
    },
    async (request) => {
      requireAdmin(request);
      return senders.getSender(request.params.senderName);
    },
  );

  app.put(
    ITEM,
    {
      config: { permission: permit.admin(CONFIG_SCOPES.update) },
      schema: { params: NameParams, body: SmsSenderBody, response: { 200: SmsSender, ...errors } },
      attachValidation: true,
    },
    async (request) => {
      requireAdmin(request);
      rejectInvalidBody(request);
      return senders.updateSender(request.params.senderName, request.body);
    },
  );

  app.delete(
    ITEM,
    {
      config: { permission: permit.admin(CONFIG_SCOPES.delete) },
      schema: { params: NameParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      requireAdmin(request);
      await senders.deleteSender(request.params.senderName);
      return reply.code(204).send(null);
    },
  );

  methodNotAllowed(app, COLLECTION, ['GET', 'POST']);
  methodNotAllowed(app, ITEM, ['GET', 'PUT', 'DELETE']);
};

/** Body problems answer NSM-60003 as WSO2 does, and only after the caller is known to be an administrator. */
function rejectInvalidBody(request: FastifyRequest): void {
  const { validationError } = request;
  if (validationError === undefined) return;
  const extra = validationError.validation[0]?.params.additionalProperty;
  const detail = typeof extra === 'string' ? `: "${extra.slice(0, 64)}" is not supported` : '';
  throw new AppError('SMS_SENDER_INVALID', `Invalid SMS sender: ${validationError.message}${detail}`);
}
