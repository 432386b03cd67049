import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { permit, USER_SCOPES } from '../auth/permissions.js';
import { principalOf, requireAdmin } from '../http/auth-hooks.js';
import { methodNotAllowed } from '../http/error-handling.js';
import { requestContextOf } from '../http/request-context.js';
import type { VerificationService } from './verification-service.js';

const Property = Type.Object({ key: Type.String({ maxLength: 256 }), value: Type.String({ maxLength: 1024 }) });
const Properties = Type.Array(Property, { maxItems: 50 });

export const ValidateCodeBody = Type.Object({
  code: Type.String({ minLength: 1, maxLength: 64 }),
  properties: Type.Optional(Properties),
  // WSO2's privileged request may carry verifiedChannel; it changes nothing here (see README).
  verifiedChannel: Type.Optional(Type.Object({ type: Type.String(), claim: Type.String() })),
});

export const ResendOwnCodeBody = Type.Object({ properties: Properties });

export const ResendCodeBody = Type.Object({
  user: Type.Object({
    username: Type.String({ minLength: 1, maxLength: 255 }),
    realm: Type.Optional(Type.String({ maxLength: 64 })),
  }),
  properties: Properties,
});

export const IdentityErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  description: Type.String(),
  traceId: Type.String(),
});

/** WSO2's privileged resend-code answers "nothing to resend" with only these two fields. */
const RecoveryDataNotFoundSchema = Type.Object({ message: Type.String(), traceId: Type.String() });

const errors = {
  429: IdentityErrorSchema,
  400: IdentityErrorSchema,
  401: IdentityErrorSchema,
  403: IdentityErrorSchema,
  404: IdentityErrorSchema,
};
// Typed as undefined so handlers send no body at all, as WSO2 does.
const Empty = Type.Unsafe<undefined>({ type: 'null', description: 'No body' });

/**
 * WSO2's /api/identity/user/v1.0 code endpoints. The /me routes act on the caller; the
 * privileged ones on the user a code or a user name points at. Both call the same service.
 */
export const codeRoutes: FastifyPluginAsyncTypebox<{ verification: VerificationService }> = async (app, options) => {
  const { verification } = options;

  app.post(
    '/me/validate-code',
    { config: { permission: permit.self() }, schema: { body: ValidateCodeBody, response: { 202: Empty, ...errors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      await verification.validateOwnCode(
        principal.userId,
        request.body.code,
        requestContextOf(request, principal, 'self'),
      );
      return reply.code(202).send();
    },
  );

  app.post(
    '/validate-code',
    {
      config: { permission: permit.admin(USER_SCOPES.update) },
      schema: {
        body: ValidateCodeBody,
        response: {
          202: Type.Object({
            username: Type.String(),
            'tenant-domain': Type.String(),
            realm: Type.String(),
            userId: Type.String(),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const principal = requireAdmin(request);
      const context = requestContextOf(request, principal, 'admin');
      const user = await verification.validateCodeOnBehalf(request.body.code, context);
      return reply
        .code(202)
        .send({ username: user.userName, 'tenant-domain': 'carbon.super', realm: 'PRIMARY', userId: user.userId });
    },
  );

  app.post(
    '/me/resend-code',
    { config: { permission: permit.self() }, schema: { body: ResendOwnCodeBody, response: { 201: Empty, ...errors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const context = requestContextOf(request, principal, 'self');
      const hints = await verification.resendOwnCode(principal.userId, request.body.properties, context);
      reply.headers(hints);
      return reply.code(201).send();
    },
  );

  app.post(
    '/resend-code',
    {
      config: { permission: permit.admin(USER_SCOPES.update) },
      schema: {
        body: ResendCodeBody,
        response: { 201: Empty, ...errors, 400: Type.Union([IdentityErrorSchema, RecoveryDataNotFoundSchema]) },
      },
    },
    async (request, reply) => {
      const principal = requireAdmin(request);
      const context = requestContextOf(request, principal, 'admin');
      const hints = await verification.resendCodeOnBehalf(request.body.user, request.body.properties, context);
      reply.headers(hints);
      return reply.code(201).send();
    },
  );

  for (const url of ['/me/validate-code', '/validate-code', '/me/resend-code', '/resend-code']) {
    methodNotAllowed(app, url, ['POST']);
  }
};
