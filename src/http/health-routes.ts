import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { permit } from '../auth/permissions.js';
import type { DatabaseHandle } from '../db/create-db.js';

const Health = Type.Object({
  status: Type.String(),
  database: Type.Optional(Type.String()),
  sms: Type.Optional(Type.String({ description: 'Why no SMS can be sent, when none can' })),
});
const READY_TIMEOUT_MS = 2000;

/** Liveness (the process answers) and readiness (the database answers, quickly). */
export interface HealthOptions {
  database: DatabaseHandle;
  /** Why no SMS provider is usable (production without one, a stored sender that cannot work), or undefined. */
  smsProblem?: () => Promise<string | undefined>;
}

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (app, options) => {
  app.get(
    '/health',
    { config: { permission: permit.public('liveness probe') }, schema: { response: { 200: Health } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/health/ready',
    { config: { permission: permit.public('readiness probe') }, schema: { response: { 200: Health, 503: Health } } },
    async (request, reply) => {
      try {
        await withTimeout(options.database.ping(), READY_TIMEOUT_MS);
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        return reply.code(503).send({ status: 'unavailable', database: 'down' });
      }
      const smsProblem = await options.smsProblem?.();
      if (smsProblem !== undefined) {
        request.log.warn({ reason: smsProblem }, 'not ready: no usable SMS provider');
        return reply.code(503).send({ status: 'unavailable', database: 'up', sms: smsProblem });
      }
      return { status: 'ready', database: 'up' };
    },
  );
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
