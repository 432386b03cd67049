import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import {
  type FakeServer,
  type FakeTwilio,
  type FakeVonage,
  startFakeSmsGateway,
  startFakeTwilio,
  startFakeVonage,
  vonageFields,
} from '../support/fake-providers.js';
import { createUser, startTestApp, TEST_KEYS, type TestApp } from '../support/test-app.js';

const BASE = '/api/server/v1/notification-senders/sms';
const TO = '+94771234567';
const HEADER_SECRET = 'hdr-secret-9d2f7a61c3';
const TEMPLATE = '{"to":{{mobile}},"text":{{body}}}';

let envGateway: FakeServer;
let apiGateway: FakeServer;
let twilio: FakeTwilio;
let vonage: FakeVonage;
let t: TestApp;
/** Every response body, checked at the end for leaked secrets. */
const bodies: string[] = [];

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, auth?: string | null) {
  const headers: Record<string, string> = {};
  const authorization = auth === undefined ? t.adminAuth : auth;
  if (authorization !== null) headers.authorization = authorization;
  const response = await t.app.inject({
    method,
    url,
    headers,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  bodies.push(response.body);
  return response;
}

function twilioSender(overrides: Record<string, unknown> = {}) {
  return {
    provider: 'twilio',
    providerURL: twilio.url,
    key: twilio.accountSid,
    secret: twilio.authToken,
    sender: '+15005550006',
    contentType: 'FORM',
    properties: [],
    ...overrides,
  };
}

function customSender(overrides: Record<string, unknown> = {}) {
  return {
    provider: 'Custom',
    providerURL: `${apiGateway.url}/messages`,
    contentType: 'JSON',
    properties: [
      { key: 'body', value: TEMPLATE },
      { key: 'http.method', value: 'put' },
      { key: 'http.headers', value: `x-api-key: ${HEADER_SECRET}, x-tenant: acme` },
    ],
    ...overrides,
  };
}

/** Queues one message and runs a dispatch pass, as the dispatcher would after the commit. */
async function sendOne(body: string): Promise<void> {
  await enqueueSms(t.db, TEST_KEYS.smsBodyEncryption, {
    userId: null,
    purpose: 'test',
    to: TO,
    body,
    now: t.clock.now(),
  });
  expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);
}

function expectError(response: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  const body = response.json<Record<string, unknown>>();
  expect(body).toEqual({
    code,
    message: expect.any(String),
    description: expect.any(String),
    traceId: expect.any(String),
  });
  return body;
}

beforeAll(async () => {
  [envGateway, apiGateway, twilio, vonage] = await Promise.all([
    startFakeSmsGateway(),
    startFakeSmsGateway(),
    startFakeTwilio(),
    startFakeVonage(),
  ]);
  t = await startTestApp({
    env: { SMS_PROVIDER: 'custom', SMS_CUSTOM_URL: envGateway.url, SMS_CUSTOM_PAYLOAD_TEMPLATE: TEMPLATE },
  });
});

afterAll(async () => {
  const everything = [...bodies, ...t.logs].join('\n');
  for (const secret of [twilio.authToken, vonage.apiSecret, HEADER_SECRET]) {
    expect(everything).not.toContain(secret);
  }
  for (const text of ['after the API sender', 'via vonage', 'custom text', 'kept headers']) {
    expect(t.logs.join('')).not.toContain(text);
  }
  await t.close();
  await Promise.all([envGateway.close(), apiGateway.close(), twilio.close(), vonage.close()]);
});

afterEach(async () => {
  await t.db.deleteFrom('sms_senders').execute();
  for (const server of [envGateway, apiGateway, twilio, vonage]) server.requests.length = 0;
});

describe('notification-senders API: Twilio', () => {
  it('creates a sender that takes over from the environment without a restart, and never returns the secret', async () => {
    await sendOne('before the API sender');
    expect(envGateway.requests).toHaveLength(1);

    const created = await call('POST', BASE, twilioSender());

    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe(`${BASE}/SMSPublisher`);
    expect(created.json()).toEqual({
      name: 'SMSPublisher',
      provider: 'Twilio',
      providerURL: twilio.url,
      key: twilio.accountSid,
      sender: '+15005550006',
      contentType: 'FORM',
      properties: [],
    });
    await sendOne('after the API sender');
    expect(envGateway.requests).toHaveLength(1);
    expect(twilio.requests[0]?.form).toMatchObject({ To: TO, From: '+15005550006', Body: 'after the API sender' });
  });

  it('stores the secret encrypted', async () => {
    await call('POST', BASE, twilioSender());

    const stored = await t.db.selectFrom('sms_senders').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(twilio.authToken);
    expect(stored.provider).toBe('Twilio');
    expect(stored.secrets_encrypted.split('.')).toHaveLength(3);
  });

  it('lists, reads, updates (keeping the secret when it is left out) and deletes', async () => {
    await call('POST', BASE, twilioSender());

    const list = await call('GET', BASE);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([expect.objectContaining({ name: 'SMSPublisher', provider: 'Twilio' })]);
    const read = await call('GET', `${BASE}/SMSPublisher`);
    expect(read.json()).toEqual(list.json<unknown[]>()[0]);

    const updated = await call(
      'PUT',
      `${BASE}/SMSPublisher`,
      twilioSender({ secret: undefined, sender: '+15005550099' }),
    );
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ name: 'SMSPublisher', sender: '+15005550099' });
    expect(updated.json()).not.toHaveProperty('secret');
    await sendOne('with the new sender number');
    expect(twilio.requests[0]?.form).toMatchObject({ From: '+15005550099' });

    const deleted = await call('DELETE', `${BASE}/SMSPublisher`);
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expectError(await call('GET', `${BASE}/SMSPublisher`), 404, 'NSM-60006');
    await sendOne('back to the environment');
    expect(envGateway.requests).toHaveLength(1);
  });

  it('accepts the full message URL the WSO2 Console uses as providerURL', async () => {
    const providerURL = `${twilio.url}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`;
    await call('POST', BASE, twilioSender({ providerURL }));

    await sendOne('through the full URL');

    expect(twilio.requests).toHaveLength(1);
    expect(twilio.requests[0]?.url).toBe(`/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`);
  });

  it('requires key, secret and sender', async () => {
    for (const missing of ['key', 'secret', 'sender']) {
      const response = await call('POST', BASE, twilioSender({ [missing]: null }));
      const body = expectError(response, 400, 'NSM-60003');
      expect(body.description).toContain(missing);
    }
  });

  it('applies the SDK checks at configure time', async () => {
    const body = expectError(await call('POST', BASE, twilioSender({ key: 'not-an-account-sid' })), 400, 'NSM-60003');
    expect(body.description).toMatch(/accountSid must start with AC/);
  });
});

describe('notification-senders API: Vonage', () => {
  it('creates, sends, and prefers SMSPublisher over an older sender', async () => {
    const backup = await call('POST', BASE, {
      name: 'Backup',
      provider: 'VONAGE',
      providerURL: vonage.url,
      key: vonage.apiKey,
      secret: vonage.apiSecret,
      sender: 'ACME',
      contentType: 'JSON',
    });
    expect(backup.statusCode).toBe(201);
    expect(backup.json()).toEqual({
      name: 'Backup',
      provider: 'Vonage',
      providerURL: vonage.url,
      key: vonage.apiKey,
      sender: 'ACME',
      contentType: 'JSON',
      properties: [],
    });
    await sendOne('via vonage');
    expect(vonageFields(vonage.requests[0] ?? noRequest())).toMatchObject({
      to: '94771234567',
      from: 'ACME',
      text: 'via vonage',
    });

    t.clock.advance(1000);
    expect((await call('POST', BASE, customSender())).statusCode).toBe(201);
    await sendOne('via the newer SMSPublisher');
    expect(apiGateway.requests).toHaveLength(1);
    expect(vonage.requests).toHaveLength(1);

    await call('DELETE', `${BASE}/SMSPublisher`);
    await sendOne('via vonage again');
    expect(vonage.requests).toHaveLength(2);
  });
});

describe('notification-senders API: Custom', () => {
  it('publishes the template with the configured method and headers, which are never returned', async () => {
    const created = await call('POST', BASE, customSender());

    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      name: 'SMSPublisher',
      provider: 'Custom',
      providerURL: `${apiGateway.url}/messages`,
      contentType: 'JSON',
      properties: [
        { key: 'body', value: TEMPLATE },
        { key: 'http.method', value: 'PUT' },
      ],
    });
    const stored = await t.db.selectFrom('sms_senders').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(HEADER_SECRET);

    await sendOne('custom text');
    const request = apiGateway.requests[0];
    expect(request?.method).toBe('PUT');
    expect(request?.url).toBe('/messages');
    expect(request?.headers['x-api-key']).toBe(HEADER_SECRET);
    expect(request?.json).toEqual({ to: TO, text: 'custom text' });
  });

  it('keeps the headers on an update that leaves them out, and clears them with an empty value', async () => {
    await call('POST', BASE, customSender());
    const withoutHeaders = customSender({
      properties: [{ key: 'body', value: '{"message":"{{body}}","to":{{mobile}}}' }],
    });

    expect((await call('PUT', `${BASE}/SMSPublisher`, withoutHeaders)).statusCode).toBe(200);
    await sendOne('kept headers');
    expect(apiGateway.requests[0]?.headers['x-api-key']).toBe(HEADER_SECRET);
    expect(apiGateway.requests[0]?.method).toBe('POST');
    expect(apiGateway.requests[0]?.json).toEqual({ message: 'kept headers', to: TO });

    const cleared = customSender({
      properties: [
        { key: 'body', value: TEMPLATE },
        { key: 'http.headers', value: '' },
      ],
    });
    expect((await call('PUT', `${BASE}/SMSPublisher`, cleared)).statusCode).toBe(200);
    await sendOne('no headers');
    expect(apiGateway.requests[1]?.headers['x-api-key']).toBeUndefined();
  });

  it('requires a payload template (NSM-60004) and a URL', async () => {
    expectError(await call('POST', BASE, customSender({ properties: [] })), 400, 'NSM-60004');
    const noUrl = expectError(await call('POST', BASE, customSender({ providerURL: null })), 400, 'NSM-60003');
    expect(noUrl.description).toContain('providerURL');
  });

  it('rejects a template that cannot produce JSON, at configure time', async () => {
    const broken = customSender({ properties: [{ key: 'body', value: '{"to":{{mobile}},"text":{{body}}' }] });
    const body = expectError(await call('POST', BASE, broken), 400, 'NSM-60003');
    expect(body.description).toMatch(/payload template.*valid JSON/);

    const unknownPlaceholder = customSender({ properties: [{ key: 'body', value: '{"text":{{otp}}}' }] });
    const second = expectError(await call('POST', BASE, unknownPlaceholder), 400, 'NSM-60003');
    expect(second.description).toContain('{{otp}}');
    expect(await t.db.selectFrom('sms_senders').selectAll().execute()).toEqual([]);
  });

  it('rejects malformed headers without echoing their values', async () => {
    const headers = `x-api-key ${HEADER_SECRET}`;
    const invalid = customSender({
      properties: [
        { key: 'body', value: TEMPLATE },
        { key: 'http.headers', value: headers },
      ],
    });
    const body = expectError(await call('POST', BASE, invalid), 400, 'NSM-60003');
    expect(body.description).toContain('http.headers');
  });
});

describe('notification-senders API: errors and access', () => {
  it('answers 409 NSM-60002 for a name that exists', async () => {
    expect((await call('POST', BASE, twilioSender())).statusCode).toBe(201);
    expectError(await call('POST', BASE, twilioSender({ name: 'SMSPublisher' })), 409, 'NSM-60002');
  });

  it('answers 400 NSM-60003 for an unknown provider, content type, method or field', async () => {
    expectError(await call('POST', BASE, twilioSender({ provider: 'Clickatell' })), 400, 'NSM-60003');
    expectError(await call('POST', BASE, twilioSender({ contentType: 'XML' })), 400, 'NSM-60003');
    expectError(await call('POST', BASE, { ...twilioSender(), contentType: undefined }), 400, 'NSM-60003');
    const method = customSender({
      properties: [
        { key: 'body', value: TEMPLATE },
        { key: 'http.method', value: 'GET' },
      ],
    });
    expectError(await call('POST', BASE, method), 400, 'NSM-60003');
    expectError(await call('POST', BASE, twilioSender({ authentication: { type: 'BASIC' } })), 400, 'NSM-60003');
    expectError(await call('POST', BASE, twilioSender({ providerURL: 'ftp://example.com' })), 400, 'NSM-60003');
  });

  it('answers 404 NSM-60006 for a sender that does not exist', async () => {
    expectError(await call('GET', `${BASE}/Nope`), 404, 'NSM-60006');
    expectError(await call('PUT', `${BASE}/Nope`, twilioSender()), 404, 'NSM-60006');
    expectError(await call('DELETE', `${BASE}/Nope`), 404, 'NSM-60006');
  });

  it('refuses to rename through PUT', async () => {
    await call('POST', BASE, twilioSender());
    expectError(await call('PUT', `${BASE}/SMSPublisher`, twilioSender({ name: 'Other' })), 400, 'NSM-60003');
  });

  it('answers 401 without credentials and 403 to a user who is not an administrator', async () => {
    const user = await createUser(t, `plain-${Date.now()}`);
    for (const [method, url] of [
      ['GET', BASE],
      ['POST', BASE],
      ['GET', `${BASE}/SMSPublisher`],
      ['PUT', `${BASE}/SMSPublisher`],
      ['DELETE', `${BASE}/SMSPublisher`],
    ] as const) {
      const payload = method === 'POST' || method === 'PUT' ? twilioSender() : undefined;
      expect((await call(method, url, payload, null)).statusCode).toBe(401);
      expectError(await call(method, url, payload, user.auth), 403, '403');
    }
    expect(await t.db.selectFrom('sms_senders').selectAll().execute()).toEqual([]);
  });

  it('answers 403, not 400, to a non-administrator sending an invalid body', async () => {
    const user = await createUser(t, `plain-invalid-${Date.now()}`);
    expectError(await call('POST', BASE, { provider: 42 }, user.auth), 403, '403');
  });
});

function noRequest(): never {
  throw new Error('expected a recorded request');
}
