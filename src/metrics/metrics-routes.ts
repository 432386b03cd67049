import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Authenticator } from '../auth/authenticate.js';
import { CONFIG_SCOPES, permit } from '../auth/permissions.js';
import { requireAdmin } from '../http/auth-hooks.js';
import type { AppMetrics } from './metrics.js';

export interface MetricsRouteOptions {
  metrics: AppMetrics;
  authenticator: Authenticator;
  /** METRICS_TOKEN: a Prometheus scraper's bearer token; administrators may always read. */
  metricsToken: string | undefined;
}

/** GET /metrics in the Prometheus text format, for administrators or the METRICS_TOKEN bearer. */
export const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRouteOptions> = async (app, options) => {
  const { metrics, authenticator, metricsToken } = options;
  const expected = metricsToken === undefined ? undefined : Buffer.from(`Bearer ${metricsToken}`);
  const isMetricsToken = (header: string | undefined): boolean => {
    if (expected === undefined || header === undefined) return false;
    const given = Buffer.from(header);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  app.get(
    '/metrics',
    {
      // The METRICS_TOKEN bearer or an administrator, checked below (like /oauth2/introspect).
      config: { permission: permit.clientOrAdmin(CONFIG_SCOPES.view) },
      schema: {
        summary: 'Prometheus metrics',
        description: 'Administrators (Basic or a token with internal_config_mgt_view), or the METRICS_TOKEN bearer.',
        tags: ['Operations'],
        response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
      },
    },
    async (request, reply) => {
      if (!isMetricsToken(request.headers.authorization)) {
        request.principal = await authenticator.authenticate(request.headers.authorization);
        requireAdmin(request);
      }
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};
