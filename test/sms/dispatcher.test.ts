import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import type { SmsOutboxRow } from '../../src/db/database.js';
import type { Db } from '../../src/db/executor.js';
import { backoffMs, createSmsDispatcher } from '../../src/sms/dispatcher.js';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import { createSmsProvider } from '../../src/sms/providers/create-sms-provider.js';
import { openSmsBody } from '../../src/sms/sms-body.js';
import {
  type FakeServer,
  type FakeTwilio,
  startFakeSmsGateway,
  startFakeTwilio,
  twilioError,
} from '../support/fake-providers.js';
import { ManualClock, startTestApp, TEST_KEYS, type TestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

const TO = '+94771234567';
const GATEWAY_TOKEN = 'gw-token-4f9a1c7e2b';
const TEMPLATE = '{"to":{{mobile}},"text":{{body}}}';

function customEnv(gateway: FakeServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SMS_PROVIDER: 'custom',
    SMS_CUSTOM_URL: `${gateway.url}/send`,
    SMS_CUSTOM_PAYLOAD_TEMPLATE: TEMPLATE,
    SMS_CUSTOM_HEADERS: `authorization: Bearer ${GATEWAY_TOKEN}`,
    ...extra,
  };
}

async function queue(db: Db, clock: ManualClock, body: string, to = TO): Promise<string> {
  return db
    .transaction()
    .execute((trx) =>
      enqueueSms(trx, TEST_KEYS.smsBodyEncryption, { userId: null, purpose: 'test', to, body, now: clock.now() }),
    );
}

/** The queued text, opened as the dispatcher opens it. */
function textOf(outbox: SmsOutboxRow): string | null {
  return openSmsBody(TEST_KEYS.smsBodyEncryption, outbox);
}

async function row(db: Db, id: string): Promise<SmsOutboxRow> {
  return db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

function textsSent(gateway: FakeServer): unknown[] {
  return gateway.requests.map((request) => (request.json as { text?: unknown } | undefined)?.text);
}

describe('SMS dispatcher with the custom gateway', () => {
  let gateway: FakeServer;
  let t: TestApp;

  beforeAll(async () => {
    gateway = await startFakeSmsGateway();
    t = await startTestApp({ env: customEnv(gateway, { SMS_MAX_ATTEMPTS: '4' }) });
  });
  afterAll(async () => {
    await t.close();
    await gateway.close();
  });
  afterEach(async () => {
    // Every scenario ends with nothing secret in the logs: not the texts, not the gateway credential.
    const logs = t.logs.join('');
    expect(logs).not.toContain(GATEWAY_TOKEN);
    expect(logs).not.toMatch(/Your code is \d+/);
    expect(logs).not.toContain(TO);
    await t.db.deleteFrom('sms_outbox').execute();
    gateway.requests.length = 0;
  });

  it('sends a queued message once, then erases its text', async () => {
    const id = await queue(t.db, t.clock, 'Your code is 111111');

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

    expect(gateway.requests).toHaveLength(1);
    expect(gateway.requests[0]?.json).toEqual({ to: TO, text: 'Your code is 111111' });
    expect(gateway.requests[0]?.headers.authorization).toBe(`Bearer ${GATEWAY_TOKEN}`);
    const sent = await row(t.db, id);
    expect(sent).toMatchObject({ state: 'sent', body: null, attempts: 1, provider: 'custom', last_error: null });
    expect(sent.provider_message_id).toMatch(/^gw-/);
    expect(sent.sent_at?.getTime()).toBe(t.clock.now().getTime());
    expect(sent.locked_until).toBeNull();
  });

  it('retries a gateway that answers 503 twice, and delivers exactly once on the third attempt', async () => {
    gateway.enqueueResponse({ status: 503 }, { status: 503 });
    const id = await queue(t.db, t.clock, 'Your code is 222222');

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    const afterFirst = await row(t.db, id);
    expect(afterFirst).toMatchObject({ state: 'queued', attempts: 1, last_error: 'custom gateway: HTTP 503' });
    expect(textOf(afterFirst)).toBe('Your code is 222222');
    expect(afterFirst.next_attempt_at.getTime()).toBeGreaterThan(t.clock.now().getTime());
    // Not due yet: the clock has not moved.
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

    t.clock.advance(60_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    expect(await row(t.db, id)).toMatchObject({ state: 'queued', attempts: 2 });

    t.clock.advance(60_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    expect(await row(t.db, id)).toMatchObject({ state: 'sent', attempts: 3, body: null, last_error: null });

    t.clock.advance(3_600_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);
    expect(gateway.requests.map((request) => request.rawBody)).toHaveLength(3);
  });

  it('fails a permanent error (400) at once, without retrying, and erases the text', async () => {
    gateway.enqueueResponse({ status: 400, body: { error: 'invalid number' } });
    const id = await queue(t.db, t.clock, 'Your code is 333333');

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    t.clock.advance(3_600_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

    expect(gateway.requests).toHaveLength(1);
    expect(await row(t.db, id)).toMatchObject({
      state: 'failed',
      body: null,
      attempts: 1,
      last_error: 'custom gateway: HTTP 400',
    });
  });

  // Up to the one-minute cap between attempts (a longer Retry-After is capped: see delivery-faults.test.ts).
  it('honours Retry-After on 429', async () => {
    gateway.enqueueResponse({ status: 429, headers: { 'retry-after': '45' } });
    const id = await queue(t.db, t.clock, 'Your code is 444444');
    const before = t.clock.now().getTime();

    await t.app.smsDispatcher.dispatchDueMessages();
    const throttled = await row(t.db, id);
    expect(throttled.state).toBe('queued');
    expect(throttled.next_attempt_at.getTime()).toBeGreaterThanOrEqual(before + 45_000);

    t.clock.advance(44_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);
    t.clock.advance(1_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    expect(await row(t.db, id)).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('takes over a message left in "sending" once its lease has expired, and not before', async () => {
    const id = await queue(t.db, t.clock, 'Your code is 555555');
    const leaseUntil = new Date(t.clock.now().getTime() + 60_000);
    await t.db.updateTable('sms_outbox').set({ state: 'sending', attempts: 1, locked_until: leaseUntil }).execute();

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);
    t.clock.advance(60_001);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);

    expect(await row(t.db, id)).toMatchObject({ state: 'sent', attempts: 2, body: null });
    expect(textsSent(gateway)).toEqual(['Your code is 555555']);
  });

  it('gives up on a message abandoned in "sending" after its last allowed attempt', async () => {
    const id = await queue(t.db, t.clock, 'Your code is 565656');
    const expired = new Date(t.clock.now().getTime() - 1);
    await t.db.updateTable('sms_outbox').set({ state: 'sending', attempts: 4, locked_until: expired }).execute();

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

    expect(await row(t.db, id)).toMatchObject({ state: 'failed', attempts: 4, body: null });
    expect(gateway.requests).toHaveLength(0);
  });

  it('treats a stalled gateway as a retryable timeout', async () => {
    const stalled = await startTestApp({
      database: t.database,
      env: customEnv(gateway, { SMS_SEND_TIMEOUT_MS: '150' }),
    });
    try {
      gateway.enqueueResponse({ status: 200, body: { id: 'late' }, delayMs: 5_000 });
      const id = await queue(t.db, stalled.clock, 'Your code is 575757');

      expect(await stalled.app.smsDispatcher.dispatchDueMessages()).toBe(1);

      expect(await row(t.db, id)).toMatchObject({ state: 'queued', attempts: 1 });
      expect((await row(t.db, id)).last_error).toMatch(/timed out/);
    } finally {
      await stalled.close();
    }
  });

  it('dispatches a whole burst in one pass, more than one batch', async () => {
    const ids = await Promise.all(
      Array.from({ length: 25 }, (_, index) => queue(t.db, t.clock, `Your code is ${index}`)),
    );

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(25);

    const states = await t.db.selectFrom('sms_outbox').select('state').where('id', 'in', ids).execute();
    expect(states.every((item) => item.state === 'sent')).toBe(true);
    expect(new Set(textsSent(gateway)).size).toBe(25);
  });
});

describe('global SMS ceiling (circuit breaker)', () => {
  it('pauses sending at SMS_GLOBAL_PER_HOUR, keeps messages queued, alerts once, and resumes the next hour', async () => {
    const gateway = await startFakeSmsGateway();
    const t = await startTestApp({ env: customEnv(gateway, { SMS_GLOBAL_PER_HOUR: '3' }) });
    try {
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) ids.push(await queue(t.db, t.clock, `ceiling ${index}`));
      await t.app.smsDispatcher.dispatchDueMessages();
      await t.app.smsDispatcher.dispatchDueMessages();
      expect(gateway.requests).toHaveLength(3);
      const states = await Promise.all(ids.map(async (id) => (await row(t.db, id)).state));
      expect(states.filter((state) => state === 'queued')).toHaveLength(2);
      expect(t.logs.filter((line) => line.includes('sms_circuit_open'))).toHaveLength(1);
      t.clock.advance(60 * 60 * 1000 + 1);
      await t.app.smsDispatcher.dispatchDueMessages();
      expect(gateway.requests).toHaveLength(5);
      expect(t.logs.some((line) => line.includes('sms_circuit_closed'))).toBe(true);
    } finally {
      await t.close();
      await gateway.close();
    }
  });
});

describe('SMS dispatcher when the provider is unreachable', () => {
  let t: TestApp;

  beforeAll(async () => {
    // A port that was just listening and is now closed: connections are refused.
    const closed = await startFakeSmsGateway();
    await closed.close();
    t = await startTestApp({ env: customEnv(closed, { SMS_MAX_ATTEMPTS: '3' }) });
  });
  afterAll(async () => t.close());

  it('keeps the message queued with backoff, and fails it (text erased) once attempts run out', async () => {
    const id = await queue(t.db, t.clock, 'Your code is 666666');

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
    const first = await row(t.db, id);
    expect(first).toMatchObject({ state: 'queued', attempts: 1 });
    expect(textOf(first)).toBe('Your code is 666666');
    expect(first.last_error).toMatch(/^custom gateway: network error/);
    expect(first.next_attempt_at.getTime()).toBeGreaterThan(t.clock.now().getTime());

    t.clock.advance(3_600_000);
    await t.app.smsDispatcher.dispatchDueMessages();
    expect(await row(t.db, id)).toMatchObject({ state: 'queued', attempts: 2 });

    t.clock.advance(3_600_000);
    await t.app.smsDispatcher.dispatchDueMessages();
    expect(await row(t.db, id)).toMatchObject({ state: 'failed', attempts: 3, body: null });
    expect(t.logs.join('')).not.toContain('666666');
  });
});

describe('SMS dispatcher with Twilio', () => {
  let twilio: FakeTwilio;
  let t: TestApp;

  beforeAll(async () => {
    twilio = await startFakeTwilio();
    t = await startTestApp({
      env: {
        SMS_PROVIDER: 'twilio',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_SENDER: '+15005550006',
        TWILIO_BASE_URL: twilio.url,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await twilio.close();
  });

  it('sends through the Twilio SDK and records the message SID', async () => {
    const id = await queue(t.db, t.clock, 'Your code is 777777');

    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);

    expect(twilio.requests[0]?.form).toMatchObject({ To: TO, From: '+15005550006', Body: 'Your code is 777777' });
    const sent = await row(t.db, id);
    expect(sent).toMatchObject({ state: 'sent', body: null, provider: 'twilio' });
    expect(sent.provider_message_id).toMatch(/^SM/);
    expect(t.logs.join('')).not.toContain(twilio.authToken);
  });

  it('fails error 21211 (invalid "To") without retrying', async () => {
    twilio.enqueueResponse(twilioError(400, 21211, "The 'To' number is not a valid phone number."));
    const id = await queue(t.db, t.clock, 'Your code is 888888');

    await t.app.smsDispatcher.dispatchDueMessages();
    t.clock.advance(3_600_000);
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

    const failed = await row(t.db, id);
    expect(failed).toMatchObject({ state: 'failed', body: null, attempts: 1 });
    expect(failed.last_error).toContain('21211');
    const logs = t.logs.join('');
    expect(logs).not.toContain('888888');
    expect(logs).not.toContain(twilio.authToken);
  });
});

describe('SMS dispatcher lifecycle', () => {
  it('sends what a process committed but never sent, from a second process on the same database', async () => {
    const gateway = await startFakeSmsGateway();
    const database = await createTestDatabase();
    try {
      const first = await startTestApp({ database, env: customEnv(gateway) });
      const id = await queue(first.db, first.clock, 'Your code is 999999');
      await first.close();
      expect(gateway.requests).toHaveLength(0);

      // The second process starts its dispatcher as the server does; starting runs a pass at once.
      const second = await startTestApp({ database, env: customEnv(gateway), startDispatcher: true });
      try {
        await vi.waitFor(async () => expect((await row(second.db, id)).state).toBe('sent'), { timeout: 10_000 });
        expect(textsSent(gateway)).toEqual(['Your code is 999999']);
      } finally {
        await second.close();
      }
    } finally {
      await database.close();
      await gateway.close();
    }
  });

  it('notify() sends right away once started, and does nothing when not started or after stop()', async () => {
    const gateway = await startFakeSmsGateway();
    const t = await startTestApp({ env: customEnv(gateway) });
    const dispatcher = createSmsDispatcher({
      db: t.db,
      clock: t.clock,
      logger: pino({ level: 'silent' }),
      bodyKey: TEST_KEYS.smsBodyEncryption,
      resolveProvider: async () =>
        createSmsProvider(
          {
            provider: 'custom',
            url: gateway.url,
            contentType: 'JSON',
            method: 'POST',
            payloadTemplate: TEMPLATE,
            headers: {},
          },
          { logger: pino({ level: 'silent' }), production: false },
        ),
      settings: { maxAttempts: 3, retryBaseMs: 10, pollIntervalMs: 600_000, sendTimeoutMs: 1_000, globalPerHour: 1000 },
    });
    try {
      await queue(t.db, t.clock, 'Your code is 121212');
      dispatcher.notify();
      await new Promise((resolve) => setImmediate(resolve));
      expect(gateway.requests).toHaveLength(0);

      dispatcher.start();
      await vi.waitFor(() => expect(gateway.requests).toHaveLength(1));
      const id = await queue(t.db, t.clock, 'Your code is 131313');
      dispatcher.notify();
      dispatcher.notify();
      await vi.waitFor(async () => expect((await row(t.db, id)).state).toBe('sent'));
      expect(gateway.requests).toHaveLength(2);

      await dispatcher.stop();
      await queue(t.db, t.clock, 'Your code is 141414');
      dispatcher.notify();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gateway.requests).toHaveLength(2);
    } finally {
      await dispatcher.stop();
      await t.close();
      await gateway.close();
    }
  });

  it('leaves messages queued and logs one error when production has no provider', async () => {
    const t = await startTestApp({ env: { NODE_ENV: 'production', SMS_PROVIDER: '' } });
    try {
      const id = await queue(t.db, t.clock, 'Your code is 151515');

      expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(0);

      const kept = await row(t.db, id);
      expect(kept).toMatchObject({ state: 'queued', attempts: 0 });
      expect(textOf(kept)).toBe('Your code is 151515');
      const errors = t.logs.map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string });
      expect(errors).toContainEqual(
        expect.objectContaining({ level: 50, msg: 'no usable SMS provider; due messages stay queued' }),
      );
      expect(errors.find((line) => line.reason !== undefined)?.reason).toMatch(/No SMS provider is configured/);

      // Every poll finds the same reason: it is an error once, not once per poll.
      await t.app.smsDispatcher.dispatchDueMessages();
      await t.app.smsDispatcher.dispatchDueMessages();
      const logged = t.logs.filter((line) => line.includes('no usable SMS provider; due messages stay queued'));
      expect(logged).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('two dispatchers on one PostgreSQL database', () => {
  it('send every message exactly once', async () => {
    const database = await createTestDatabase();
    const gateway = await startFakeSmsGateway();
    const handles: DatabaseHandle[] = [];
    try {
      const url = database.url ?? '';
      handles.push(await createDatabase({ kind: 'postgres', url }), await createDatabase({ kind: 'postgres', url }));
      const clock = new ManualClock();
      const logger = pino({ level: 'silent' });
      const dispatchers = handles.map((handle) =>
        createSmsDispatcher({
          db: handle.db,
          clock,
          logger,
          bodyKey: TEST_KEYS.smsBodyEncryption,
          resolveProvider: async () =>
            createSmsProvider(
              {
                provider: 'custom',
                url: gateway.url,
                contentType: 'JSON',
                method: 'POST',
                payloadTemplate: TEMPLATE,
                headers: {},
              },
              { logger, production: false },
            ),
          settings: {
            maxAttempts: 3,
            retryBaseMs: 10,
            pollIntervalMs: 600_000,
            sendTimeoutMs: 5_000,
            globalPerHour: 1000,
          },
          batchSize: 4,
        }),
      );
      const texts = Array.from({ length: 40 }, (_, index) => `message ${index}`);
      for (const text of texts) await queue(database.handle.db, clock, text);

      const drain = async (dispatcher: (typeof dispatchers)[number]) => {
        let total = 0;
        for (;;) {
          const attempted = await dispatcher.dispatchDueMessages();
          if (attempted === 0) return total;
          total += attempted;
        }
      };
      const totals = await Promise.all(dispatchers.map(drain));

      expect(totals.reduce((sum, total) => sum + total, 0)).toBe(40);
      expect([...textsSent(gateway)].sort()).toEqual([...texts].sort());
      const states = await database.handle.db.selectFrom('sms_outbox').select(['state', 'attempts']).execute();
      expect(states.every((item) => item.state === 'sent' && item.attempts === 1)).toBe(true);
    } finally {
      for (const handle of handles) await handle.db.destroy();
      await database.close();
      await gateway.close();
    }
  });
});

describe('backoffMs', () => {
  it('grows exponentially with full jitter, never below the base delay and never above one hour', () => {
    expect(backoffMs(1, 2000, () => 0)).toBe(2000);
    expect(backoffMs(1, 2000, () => 0.999)).toBe(2000);
    expect(backoffMs(3, 2000, () => 0.75)).toBe(6000);
    expect(backoffMs(4, 2000, () => 0.5)).toBe(8000);
    expect(backoffMs(4, 2000, () => 0)).toBe(2000);
    expect(backoffMs(30, 2000, () => 0.999_999)).toBeLessThanOrEqual(60_000);
  });
});
