import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import { type FakeServer, startFakeSmsGateway } from '../support/fake-providers.js';
import { createUser, startTestApp, TEST_KEYS, type TestApp } from '../support/test-app.js';

const URL = '/api/server/v1/sms-deliveries';

interface Delivery {
  id: string;
  userId: string | null;
  to: string;
  state: string;
  attempts: number;
  lastError: string | null;
  provider: string | null;
  providerMessageId: string | null;
  sentAt: string | null;
  nextAttemptAt: string | null;
}

interface Page {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  deliveries: Delivery[];
}

let gateway: FakeServer;
let t: TestApp;
let user: { id: string; auth: string };
const ids: string[] = [];

async function list(query = '', auth?: string) {
  return t.app.inject({ method: 'GET', url: `${URL}${query}`, headers: { authorization: auth ?? t.adminAuth } });
}

beforeAll(async () => {
  gateway = await startFakeSmsGateway();
  t = await startTestApp({
    env: {
      SMS_PROVIDER: 'custom',
      SMS_CUSTOM_URL: gateway.url,
      SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to":{{mobile}},"text":{{body}}}',
    },
  });
  user = await createUser(t, 'delivery-user');
  // Five messages, one second apart, each sent before the next: the first three for the user, the last rejected.
  for (let index = 0; index < 5; index++) {
    ids.push(
      await enqueueSms(t.db, TEST_KEYS.smsBodyEncryption, {
        userId: index < 3 ? user.id : null,
        purpose: 'MOBILE_VERIFICATION_ON_UPDATE',
        to: `+9477123456${index}`,
        body: `Your code is 90000${index}`,
        now: t.clock.now(),
      }),
    );
    gateway.enqueueResponse(index === 4 ? { status: 400 } : { status: 200, body: { id: `gw-${index}` } });
    await t.app.smsDispatcher.dispatchDueMessages();
    t.clock.advance(1000);
  }
});

afterAll(async () => {
  await t.close();
  await gateway.close();
});

describe('GET /api/server/v1/sms-deliveries', () => {
  it('lists deliveries newest first, with masked numbers and without the text', async () => {
    const response = await list();

    expect(response.statusCode).toBe(200);
    const page = response.json<Page>();
    expect(page).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 5 });
    expect(page.deliveries.map((delivery) => delivery.id)).toEqual([...ids].reverse());
    expect(page.deliveries.map((delivery) => delivery.to)).toEqual([
      '+********4564',
      '+********4563',
      '+********4562',
      '+********4561',
      '+********4560',
    ]);
    expect(response.body).not.toMatch(/9000\d/);
    expect(response.body).not.toMatch(/\+9477/);
    for (const delivery of page.deliveries) expect(Object.keys(delivery)).not.toContain('body');
  });

  it('reports the outcome of each delivery', async () => {
    const page = (await list()).json<Page>();
    const [newest, , , , oldest] = page.deliveries;

    expect(oldest).toMatchObject({
      state: 'sent',
      attempts: 1,
      provider: 'custom',
      providerMessageId: 'gw-0',
      lastError: null,
    });
    expect(oldest?.sentAt).toEqual(expect.any(String));
    expect(oldest?.nextAttemptAt).toBeNull();
    expect(newest).toMatchObject({ state: 'failed', attempts: 1, lastError: 'custom gateway: HTTP 400', sentAt: null });
    expect(newest?.userId).toBeNull();
  });

  it('pages with startIndex and count', async () => {
    const page = (await list('?startIndex=2&count=2')).json<Page>();

    expect(page).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(page.deliveries.map((delivery) => delivery.id)).toEqual([ids[3], ids[2]]);

    const empty = (await list('?count=0')).json<Page>();
    expect(empty).toEqual({ totalResults: 5, startIndex: 1, itemsPerPage: 0, deliveries: [] });
    const beyond = (await list('?startIndex=50')).json<Page>();
    expect(beyond).toMatchObject({ totalResults: 5, itemsPerPage: 0, deliveries: [] });
  });

  it('filters by state and by user', async () => {
    const failed = (await list('?state=failed')).json<Page>();
    expect(failed.totalResults).toBe(1);
    expect(failed.deliveries[0]?.id).toBe(ids[4]);

    const mine = (await list(`?userId=${user.id}`)).json<Page>();
    expect(mine.totalResults).toBe(3);
    expect(mine.deliveries.every((delivery) => delivery.userId === user.id)).toBe(true);

    const both = (await list(`?userId=${user.id}&state=failed`)).json<Page>();
    expect(both.totalResults).toBe(0);
  });

  it('rejects invalid query parameters', async () => {
    for (const query of ['?state=lost', '?count=1000', '?startIndex=0', '?userId=not-a-uuid']) {
      const response = await list(query);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: expect.any(String), traceId: expect.any(String) });
    }
  });

  it('is for administrators only', async () => {
    expect((await list('', user.auth)).statusCode).toBe(403);
    const anonymous = await t.app.inject({ method: 'GET', url: URL });
    expect(anonymous.statusCode).toBe(401);
  });
});
