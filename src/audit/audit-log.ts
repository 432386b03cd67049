import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { countRows } from '../db/count-rows.js';
import type { AuditEventRow } from '../db/database.js';
import { deleteBatch } from '../db/delete-in-batches.js';
import type { Executor } from '../db/executor.js';
import { maskPhoneNumber } from '../shared/mask.js';
import type { AUDIT_EVENT_TYPES } from './audit-event-types.js';

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export type Persona = 'self' | 'admin' | 'client' | 'system';

/** Who asked, from where: carried from the route into the services for the audit trail. */
export interface RequestContext {
  actorId: string | null;
  persona: Persona;
  clientIp: string | null;
  requestId: string | null;
}

export const SYSTEM_CONTEXT: RequestContext = { actorId: null, persona: 'system', clientIp: null, requestId: null };

export interface AuditEvent {
  type: AuditEventType;
  userId: string | null;
  number?: string | undefined;
  details?: Record<string, string | number | boolean> | undefined;
}

/** Written in the caller's transaction, so the event commits or rolls back with the change it records. */
export async function recordAuditEvent(
  db: Executor,
  event: AuditEvent,
  context: RequestContext,
  now: Date,
): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      id: randomUUID(),
      occurred_at: now,
      type: event.type,
      user_id: event.userId,
      actor_id: context.actorId,
      persona: context.persona,
      masked_number: event.number === undefined ? null : maskPhoneNumber(event.number),
      client_ip: context.clientIp,
      request_id: context.requestId,
      details: event.details === undefined ? null : JSON.stringify(event.details),
    })
    .execute();
}

export interface AuditQuery {
  userId?: string | undefined;
  type?: AuditEventType | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  startIndex: number;
  count: number;
}

export async function queryAuditEvents(
  db: Executor,
  query: AuditQuery,
): Promise<{ totalResults: number; events: AuditEventRow[] }> {
  let base = db.selectFrom('audit_events');
  if (query.userId !== undefined) base = base.where('user_id', '=', query.userId);
  if (query.type !== undefined) base = base.where('type', '=', query.type);
  if (query.from !== undefined) base = base.where('occurred_at', '>=', query.from);
  if (query.to !== undefined) base = base.where('occurred_at', '<', query.to);
  const totalResults = await countRows(base);
  const events = await base
    .selectAll()
    .orderBy('occurred_at', 'desc')
    .orderBy('id')
    .offset(query.startIndex - 1)
    .limit(query.count)
    .execute();
  return { totalResults, events };
}

/** Events older than the retention period (AUDIT_RETENTION_DAYS); housekeeping, `limit` at a time. */
export async function deleteAuditEventsBefore(db: Executor, before: Date, limit: number): Promise<number> {
  return deleteBatch(db, 'audit_events', sql`occurred_at < ${before}`, limit);
}
