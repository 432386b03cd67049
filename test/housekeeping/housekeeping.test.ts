import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-db.js';
import type { Db } from '../../src/db/executor.js';
import { createHousekeeping, DELIVERY_RETENTION_DAYS } from '../../src/housekeeping/housekeeping.js';
import { createUser, ManualClock, startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;

/** Rows on both sides of every cut-off; `old` rows must go, `live` rows must stay. */
async function seed(db: Db, userId: string, now: Date, old: number): Promise<void> {
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);
  for (let i = 0; i < old; i++) {
    await db
      .insertInto('rate_limit_counters')
      .values({ bucket: `old:${i}`, window_start: at(-2 * DAY), count: 1, expires_at: at(-DAY) })
      .execute();
    await db
      .insertInto('audit_events')
      .values({ id: randomUUID(), occurred_at: at(-(RETENTION_DAYS + 1) * DAY), type: 'CODE_SENT', user_id: userId })
      .execute();
    await db
      .insertInto('sms_outbox')
      .values({
        id: randomUUID(),
        user_id: userId,
        purpose: 'test',
        to_number: '+94771234567',
        body: null,
        state: i % 2 === 0 ? 'sent' : 'expired',
        next_attempt_at: at(-(DELIVERY_RETENTION_DAYS + 1) * DAY),
        created_at: at(-(DELIVERY_RETENTION_DAYS + 1) * DAY),
        updated_at: at(-(DELIVERY_RETENTION_DAYS + 1) * DAY),
      })
      .execute();
  }
  await db
    .insertInto('rate_limit_counters')
    .values({ bucket: 'live', window_start: now, count: 1, expires_at: at(3600_000) })
    .execute();
  await db
    .insertInto('audit_events')
    .values({ id: randomUUID(), occurred_at: at(-(RETENTION_DAYS - 1) * DAY), type: 'CODE_SENT', user_id: userId })
    .execute();
  // Old but still waiting to be sent: never deleted.
  await db
    .insertInto('sms_outbox')
    .values({
      id: randomUUID(),
      user_id: userId,
      purpose: 'test',
      to_number: '+94771234567',
      body: 'Your code is 1',
      state: 'queued',
      next_attempt_at: at(-30 * DAY),
      created_at: at(-30 * DAY),
      updated_at: at(-30 * DAY),
    })
    .execute();
  for (const [name, expiresAt] of [
    ['old', at(-2 * DAY)],
    ['live', at(60_000)],
  ] as const) {
    await db
      .insertInto('verification_codes')
      .values({
        id: randomUUID(),
        user_id: userId,
        scenario: `S_${name}`,
        number: '+94771234567',
        code_hmac: `c-${name}`,
        lookup_hmac: `l-${name}`,
        created_at: at(-3 * DAY),
        expires_at: expiresAt,
      })
      .execute();
    const grantId = randomUUID();
    await db
      .insertInto('oauth_grants')
      .values({ id: grantId, user_id: userId, scope: 'openid', created_at: at(-3 * DAY), expires_at: at(DAY) })
      .execute();
    await db
      .insertInto('oauth_refresh_tokens')
      .values({ token_hash: `t-${name}`, grant_id: grantId, created_at: at(-3 * DAY), expires_at: expiresAt })
      .execute();
  }
}

async function clear(db: Db): Promise<void> {
  for (const table of [
    'rate_limit_counters',
    'audit_events',
    'sms_outbox',
    'verification_codes',
    'oauth_grants',
  ] as const) {
    await db.deleteFrom(table).execute();
  }
}

async function counts(db: Db): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of [
    'rate_limit_counters',
    'audit_events',
    'sms_outbox',
    'verification_codes',
    'oauth_refresh_tokens',
  ] as const) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    result[table] = Number(row.n);
  }
  return result;
}

describe('housekeeping', () => {
  let t: TestApp;
  let userId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_RETENTION_DAYS: String(RETENTION_DAYS) } });
    userId = (await createUser(t, 'kept-user')).id;
  });
  afterAll(async () => t.close());

  it('deletes credential revocation events once no instance can still need them (10 minutes, database clock)', async () => {
    await sql`insert into credential_events (epoch, targets, created_at) values
      (1000000000001, 'user:old', now() - interval '11 minutes'), (1000000000002, 'user:recent', now())`.execute(t.db);
    const housekeeping = createHousekeeping({
      db: t.db,
      clock: t.clock,
      logger: pino({ level: 'silent' }),
      settings: { auditRetentionDays: RETENTION_DAYS },
    });
    const report = await housekeeping.runOnce();
    expect(report.deleted.credentialEvents).toBe(1);
    const left = await t.db
      .selectFrom('credential_events')
      .select('targets')
      .where('epoch', '>', '1000000000000')
      .execute();
    expect(left).toEqual([{ targets: 'user:recent' }]);
    await t.db.deleteFrom('credential_events').where('epoch', '>', '1000000000000').execute();
  });

  it('deletes what expired, in bounded batches, and keeps everything still needed', async () => {
    await clear(t.db);
    await seed(t.db, userId, t.clock.now(), 7);
    const housekeeping = createHousekeeping({
      db: t.db,
      clock: t.clock,
      logger: pino({ level: 'silent' }),
      settings: { auditRetentionDays: RETENTION_DAYS, batchSize: 3, maxBatchesPerTask: 2 },
    });

    // At most 2 batches of 3 per kind of row and run: 6 of the 7 old rows go now, the last one next run.
    const first = await housekeeping.runOnce();
    expect(first).toEqual({
      ran: true,
      deleted: {
        rateLimitCounters: 6,
        verificationCodes: 1,
        smsDeliveries: 6,
        refreshTokens: 1,
        auditEvents: 6,
        credentialEvents: 0,
      },
    });
    const second = await housekeeping.runOnce();
    expect(second.deleted).toEqual({
      rateLimitCounters: 1,
      verificationCodes: 0,
      smsDeliveries: 1,
      refreshTokens: 0,
      auditEvents: 1,
      credentialEvents: 0,
    });
    expect(await counts(t.db)).toEqual({
      rate_limit_counters: 1,
      audit_events: 1,
      sms_outbox: 1,
      verification_codes: 1,
      oauth_refresh_tokens: 1,
    });
    const queued = await t.db.selectFrom('sms_outbox').select('state').executeTakeFirstOrThrow();
    expect(queued.state).toBe('queued');
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'runs on one instance at a time: while another holds the lock, a run deletes nothing',
    async () => {
      const url = t.database.url ?? '';
      const other = await createDatabase({ kind: 'postgres', url });
      try {
        await clear(t.db);
        await seed(t.db, userId, t.clock.now(), 2);
        const housekeeping = createHousekeeping({
          db: t.db,
          clock: new ManualClock(t.clock.now()),
          logger: pino({ level: 'silent' }),
          settings: { auditRetentionDays: RETENTION_DAYS },
        });
        let release: () => void = () => undefined;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        let locked: () => void = () => undefined;
        const isLocked = new Promise<void>((resolve) => {
          locked = resolve;
        });
        const holder = other.db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(hashtext('scim-mobile-verify:housekeeping'))`.execute(trx);
          locked();
          await released;
        });
        await isLocked;
        const skipped = await housekeeping.runOnce();
        expect(skipped.ran).toBe(false);
        expect(Object.values(skipped.deleted).every((count) => count === 0)).toBe(true);
        release();
        await holder;
        const ran = await housekeeping.runOnce();
        expect(ran.ran).toBe(true);
        expect(ran.deleted.rateLimitCounters).toBe(2);
      } finally {
        await other.db.destroy();
      }
    },
  );
});
