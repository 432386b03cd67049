import type { FastifyRequest } from 'fastify';
import type { Persona, RequestContext } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';

/** Who is acting and from where, for the audit trail; `persona` is the route's (self or admin). */
export function requestContextOf(
  request: FastifyRequest,
  principal: Principal,
  persona: 'self' | 'admin',
): RequestContext {
  const actual: Persona = principal.subject === 'client' ? 'client' : persona;
  return { actorId: principal.userId, persona: actual, clientIp: request.ip, requestId: request.id };
}
