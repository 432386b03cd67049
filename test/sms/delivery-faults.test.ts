import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SmsOutboxRow } from '../../src/db/database.js';
import { MAX_RETRY_DELAY_MS } from '../../src/sms/dispatcher.js';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import { type FakeServer, startFakeSmsGateway } from '../support/fake-providers.js';
import { createUser, json, startTestApp, TEST_KEYS, type TestApp } from '../support/test-app.js';

const TO = '+94771234567';
const OUTAGE = { status: 503, body: 'gateway down' };

/** A gateway that fails for minutes, on an injected clock: the test moves time instead of waiting. */
describe('SMS delivery through a long gateway outage', () => {
  let gateway: FakeServer;
  let t: TestApp;
  let userId: string;

  beforeAll(async () => {
    gateway = await startFakeSmsGateway();
    t = await startTestApp({
      env: {
        SMS_PROVIDER: 'custom',
        SMS_CUSTOM_URL: `${gateway.url}/send`,
        SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to":{{mobile}},"text":{{body}},"ref":{{messageId}}}',
        // Far fewer than an outage of minutes needs: a code's message is retried while the code lives.
        SMS_MAX_ATTEMPTS: '3',
        SMS_RETRY_BASE_MS: '2000',
      },
    });
    userId = (await createUser(t, 'outage-user')).id;
  });
  afterAll(async () => {
    await t.close();
    await gateway.close();
  });
  afterEach(async () => {
    gateway.clearResponses();
    await t.db.deleteFrom('sms_outbox').execute();
    gateway.requests.length = 0;
  });

  async function queueCode(ttlSeconds: number): Promise<string> {
    const now = t.clock.now();
    return t.db.transaction().execute((trx) =>
      enqueueSms(trx, TEST_KEYS.smsBodyEncryption, {
        userId,
        purpose: 'MOBILE_VERIFICATION_ON_UPDATE',
        to: TO,
        body: 'Your code is 424242',
        now,
        expiresAt: new Date(now.getTime() + ttlSeconds * 1000),
      }),
    );
  }

  async function row(id: string): Promise<SmsOutboxRow> {
    return t.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  /** Runs passes, moving the clock to each retry, until the message leaves 'queued' or `untilMs` has passed. */
  async function driveUntil(id: string, untilMs: number): Promise<number[]> {
    const started = t.clock.now().getTime();
    const gaps: number[] = [];
    let last: number | undefined;
    for (;;) {
      const attemptsBefore = gateway.requests.length;
      await t.app.smsDispatcher.dispatchDueMessages();
      if (gateway.requests.length > attemptsBefore) {
        const at = t.clock.now().getTime();
        if (last !== undefined) gaps.push(at - last);
        last = at;
      }
      const current = await row(id);
      if (current.state !== 'queued') return gaps;
      const next = Math.max(current.next_attempt_at.getTime(), t.clock.now().getTime() + 1);
      if (next - started > untilMs) {
        t.clock.advance(untilMs - (t.clock.now().getTime() - started));
        return gaps;
      }
      t.clock.advance(next - t.clock.now().getTime());
    }
  }

  it('keeps retrying for minutes while the code is valid, at most a minute apart, and then delivers', async () => {
    const id = await queueCode(300);
    // Over three minutes of 503s, with a Retry-After far beyond the code's life: it is capped, not obeyed.
    for (let i = 0; i < 200; i++) gateway.enqueueResponse({ ...OUTAGE, headers: { 'retry-after': '3600' } });
    const gapsDuringOutage = await driveUntil(id, 200_000);
    expect(gateway.requests.length).toBeGreaterThan(3);
    expect(Math.max(...gapsDuringOutage)).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
    const waiting = await row(id);
    expect(waiting).toMatchObject({ state: 'queued', last_error: 'custom gateway: HTTP 503' });

    // The gateway comes back: the next retry, at most a minute later, delivers.
    gateway.clearResponses();
    gateway.requests.length = 0;
    await driveUntil(id, MAX_RETRY_DELAY_MS + 1000);
    const sent = await row(id);
    expect(sent.state).toBe('sent');
    expect(sent.attempts).toBeGreaterThan(3);
    // Every attempt carried the same reference of the message.
    const refs = new Set(gateway.requests.map((request) => (request.json as { ref?: string }).ref));
    expect([...refs]).toEqual([id]);
    expect(new Set(gateway.requests.map((request) => request.headers['idempotency-key']))).toEqual(new Set([id]));

    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/server/v1/audit-events?userId=${userId}&type=CODE_SENT`,
      headers: { authorization: t.adminAuth },
    });
    expect(json(audit).totalResults).toBe(1);
  });

  it('marks a message whose code expired during the outage expired, and never sends it late', async () => {
    const id = await queueCode(120);
    for (let i = 0; i < 200; i++) gateway.enqueueResponse(OUTAGE);
    await driveUntil(id, 119_000);
    const attemptsWhileValid = gateway.requests.length;
    expect(attemptsWhileValid).toBeGreaterThan(3);
    expect((await row(id)).state).toBe('queued');

    // The gateway is back, but the code is gone: the message is not sent.
    gateway.clearResponses();
    gateway.requests.length = 0;
    t.clock.advance(61_000);
    await t.app.smsDispatcher.dispatchDueMessages();
    expect(gateway.requests).toHaveLength(0);
    const expired = await row(id);
    expect(expired).toMatchObject({ state: 'expired', body: null, last_error: 'custom gateway: HTTP 503' });

    const deliveries = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/sms-deliveries?state=expired',
      headers: { authorization: t.adminAuth },
    });
    expect(deliveries.statusCode).toBe(200);
    const [delivery] = json(deliveries).deliveries as Record<string, unknown>[];
    expect(delivery).toMatchObject({ id, state: 'expired', lastError: 'custom gateway: HTTP 503' });
    expect(delivery?.expiresAt).toBe(expired.expires_at?.toISOString());

    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/server/v1/audit-events?userId=${userId}&type=DELIVERY_EXPIRED`,
      headers: { authorization: t.adminAuth },
    });
    const [event] = json(audit).events as Record<string, unknown>[];
    expect(event).toMatchObject({ type: 'DELIVERY_EXPIRED', userId });
    expect(JSON.stringify(event)).not.toContain('424242');
  });
});
