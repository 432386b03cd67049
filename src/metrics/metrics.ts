import { sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEventType } from '../audit/audit-log.js';
import type { DatabaseHandle } from '../db/create-db.js';
import type { Clock } from '../shared/clock.js';

export type SmsOutcome = 'sent' | 'retried' | 'failed' | 'expired';

/** The verification steps counted, from the audit events the verification service writes. */
const VERIFICATION_STEPS: Partial<Record<AuditEventType, string>> = {
  VERIFICATION_STARTED: 'started',
  CODE_RESENT: 'resent',
  VERIFIED: 'verified',
  WRONG_CODE: 'failed',
  CODE_EXPIRED: 'expired',
  CODE_LOCKED: 'locked',
};

export interface AppMetrics {
  registry: Registry;
  observeRequest(labels: { method: string; route: string; status: number }, seconds: number): void;
  smsQueued(): void;
  smsOutcome(provider: string, outcome: SmsOutcome): void;
  verificationEvent(type: AuditEventType): void;
}

/**
 * One registry per app (tests build many apps in one process). Counters are this instance's; the outbox
 * gauges are read from the database at scrape time, so they are the same on every instance.
 */
export function createMetrics(deps: { database: DatabaseHandle; clock: Clock }): AppMetrics {
  const { database, clock } = deps;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request duration by route (the matched pattern) and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'rate_limit_refusals_total',
    help: 'Requests refused with 429 by a rate limit or quota, by route',
    labelNames: ['route'],
    registers: [registry],
  });
  const queued = new Counter({
    name: 'sms_queued_total',
    help: 'SMS queued in the outbox (the provider is chosen when it is sent)',
    registers: [registry],
  });
  const outcomes = new Counter({
    name: 'sms_deliveries_total',
    help: 'SMS delivery attempts by provider and outcome (sent, retried, failed, expired)',
    labelNames: ['provider', 'outcome'],
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'verifications_total',
    help: 'Mobile verification steps: started, resent, verified, failed (wrong code), expired, locked',
    labelNames: ['step'],
    registers: [registry],
  });
  new Gauge({
    name: 'sms_outbox_depth',
    help: 'SMS waiting to be sent (queued, or being sent)',
    registers: [registry],
    async collect() {
      const row = await database.db
        .selectFrom('sms_outbox')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('state', 'in', ['queued', 'sending'])
        .executeTakeFirst();
      this.set(Number(row?.count ?? 0));
    },
  });
  new Gauge({
    name: 'sms_outbox_oldest_due_age_seconds',
    help: 'How long the oldest due SMS has been waiting for its send (0 when none is due)',
    registers: [registry],
    async collect() {
      const now = clock.now();
      const row = await database.db
        .selectFrom('sms_outbox')
        .select(sql<Date | null>`min(next_attempt_at)`.as('oldest'))
        .where('state', '=', 'queued')
        .where('next_attempt_at', '<=', now)
        .executeTakeFirst();
      const oldest = row?.oldest == null ? undefined : new Date(row.oldest);
      this.set(oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000));
    },
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections in use, idle, and callers waiting for one (PostgreSQL only)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = database.poolStats?.();
      if (stats === undefined) return;
      this.set({ state: 'in_use' }, stats.total - stats.idle);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  return {
    registry,
    observeRequest({ method, route, status }, seconds) {
      requestDuration.observe({ method, route, status_code: String(status) }, seconds);
      if (status === 429) rateLimited.inc({ route });
    },
    smsQueued: () => queued.inc(),
    smsOutcome: (provider, outcome) => outcomes.inc({ provider, outcome }),
    verificationEvent(type) {
      const step = VERIFICATION_STEPS[type];
      if (step !== undefined) verifications.inc({ step });
    },
  };
}
