import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import { bearer, clientBasic, oauthPost, registerClient } from '../oauth/oauth-helpers.js';
import { type FakeServer, type FakeTwilio, startFakeSmsGateway, startFakeTwilio } from '../support/fake-providers.js';
import { json, startTestApp, TEST_KEYS, type TestApp, uniqueName } from '../support/test-app.js';

const BASE = '/api/server/v1/notification-senders/sms';
const HEADER_SECRET = 'hdr-secret-bound-4f1e';
const TEMPLATE = '{"to":{{mobile}},"text":{{body}}}';

/** Issue #11 point 3: stored secrets go only where they were entered for. */
describe('sender secrets are bound to their destination', () => {
  let t: TestApp;
  let gateway: FakeServer;
  let attacker: FakeServer;
  let twilio: FakeTwilio;
  let updateOnly: string;

  beforeAll(async () => {
    [gateway, attacker, twilio] = await Promise.all([startFakeSmsGateway(), startFakeSmsGateway(), startFakeTwilio()]);
    t = await startTestApp();
    const client = await registerClient(t, {
      name: uniqueName('config-updater'),
      grantTypes: ['client_credentials'],
      scopes: ['internal_config_mgt_update'],
    });
    const issued = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    updateOnly = bearer(String(json(issued).access_token));
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([gateway.close(), attacker.close(), twilio.close()]);
  });

  const call = (method: 'POST' | 'PUT', url: string, payload: unknown, authorization = t.adminAuth) =>
    t.app.inject({ method, url, headers: { authorization }, payload: payload as object });

  async function sendOne(body: string): Promise<void> {
    await enqueueSms(t.db, TEST_KEYS.smsBodyEncryption, {
      userId: null,
      purpose: 'test',
      to: '+94771234567',
      body,
      now: t.clock.now(),
    });
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
  }

  const custom = (url: string, properties: { key: string; value: string }[]) => ({
    name: 'SMSPublisher',
    provider: 'Custom',
    providerURL: url,
    contentType: 'JSON',
    properties: [{ key: 'body', value: TEMPLATE }, ...properties],
  });

  it('moving a custom sender to another URL drops its secret headers unless they are given again', async () => {
    const headers = { key: 'http.headers', value: `x-api-key: ${HEADER_SECRET}` };
    expect((await call('POST', BASE, custom(`${gateway.url}/sms`, [headers]))).statusCode).toBe(201);
    const moved = await call('PUT', `${BASE}/SMSPublisher`, custom(`${attacker.url}/steal`, []), updateOnly);
    expect(moved.statusCode, moved.body).toBe(200);
    await sendOne('first after the move');
    expect(attacker.requests).toHaveLength(1);
    expect(attacker.requests[0]?.headers['x-api-key']).toBeUndefined();

    // Same URL, headers left out: they stay (the documented update behaviour).
    const again = await call('PUT', `${BASE}/SMSPublisher`, custom(`${gateway.url}/sms`, [headers]));
    expect(again.statusCode).toBe(200);
    expect((await call('PUT', `${BASE}/SMSPublisher`, custom(`${gateway.url}/sms`, []))).statusCode).toBe(200);
    await sendOne('same destination');
    expect(gateway.requests.at(-1)?.headers['x-api-key']).toBe(HEADER_SECRET);
    await t.db.deleteFrom('sms_senders').execute();
  });

  it('moving a Twilio sender to another URL needs its auth token again', async () => {
    const sender = {
      name: 'SMSPublisher',
      provider: 'Twilio',
      providerURL: twilio.url,
      key: twilio.accountSid,
      secret: twilio.authToken,
      sender: '+15005550006',
      contentType: 'FORM',
      properties: [],
    };
    expect((await call('POST', BASE, sender)).statusCode).toBe(201);
    const moved = await call(
      'PUT',
      `${BASE}/SMSPublisher`,
      { ...sender, secret: undefined, providerURL: attacker.url },
      updateOnly,
    );
    expect(moved.statusCode, moved.body).toBe(400);
    expect(json(moved).description).toMatch(/secret/);
    const sameUrl = await call(
      'PUT',
      `${BASE}/SMSPublisher`,
      { ...sender, secret: undefined, sender: '+15005550099' },
      updateOnly,
    );
    expect(sameUrl.statusCode, sameUrl.body).toBe(200);
    await t.db.deleteFrom('sms_senders').execute();
  });

  it('refuses header values HTTP cannot carry with 400, without echoing them', async () => {
    const response = await call(
      'POST',
      BASE,
      custom(`${gateway.url}/sms`, [{ key: 'http.headers', value: 'x-api-key: price-10€-secret' }]),
    );
    expect(response.statusCode, response.body).toBe(400);
    expect(response.body).not.toContain('price-10');
    const latin1 = await call(
      'POST',
      BASE,
      custom(`${gateway.url}/sms`, [{ key: 'http.headers', value: 'x-name: café' }]),
    );
    expect(latin1.statusCode, latin1.body).toBe(201);
    await t.db.deleteFrom('sms_senders').execute();
  });
});
