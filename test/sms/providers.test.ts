import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { maskPhoneNumber } from '../../src/shared/mask.js';
import { createSmsProvider } from '../../src/sms/providers/create-sms-provider.js';
import { createCustomHttpProvider } from '../../src/sms/providers/custom-http-provider.js';
import { createLogProvider } from '../../src/sms/providers/log-provider.js';
import {
  parseRetryAfterSeconds,
  SmsDeliveryError,
  type SmsMessage,
  type SmsProvider,
} from '../../src/sms/providers/sms-provider.js';
import { createTwilioProvider } from '../../src/sms/providers/twilio-provider.js';
import { createVonageProvider } from '../../src/sms/providers/vonage-provider.js';
import {
  type FakeServer,
  startFakeSmsGateway,
  startFakeTwilio,
  startFakeVonage,
  twilioError,
  vonageFields,
  vonageStatus,
} from '../support/fake-providers.js';

interface HttpCase {
  status: number;
  headers: Record<string, string>;
  retryable?: boolean;
  retryAfterSeconds: number | undefined;
}

const TRICKY_TEXT = 'Your code is "K7pQ2x"\nback\\slash & a=b é 中文 😀';
// Short enough for the hang cases to stay quick, long enough for a loaded CI machine to answer the others.
const FAST_TIMEOUT_MS = 1500;

const servers: FakeServer[] = [];
async function track<T extends FakeServer>(server: Promise<T>): Promise<T> {
  const started = await server;
  servers.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function sms(overrides: Partial<SmsMessage> = {}): SmsMessage {
  return { to: '+94771234567', body: TRICKY_TEXT, idempotencyKey: 'outbox-1', ...overrides };
}

/** Sends, expects a SmsDeliveryError, and checks that no secret (nor the message text) leaked into it. */
async function sendExpectingFailure(
  provider: SmsProvider,
  secrets: readonly string[],
  message: SmsMessage = sms(),
): Promise<SmsDeliveryError> {
  const error = await provider.send(message).then(
    () => expect.fail('expected the send to fail'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SmsDeliveryError);
  if (!(error instanceof SmsDeliveryError)) throw error;
  for (const secret of [...secrets, message.body]) {
    expect(error.message).not.toContain(secret);
    expect(error.stack ?? '').not.toContain(secret);
  }
  return error;
}

/** A loopback URL nothing listens on. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${address.port}`;
}

describe('Twilio provider (real SDK against a fake Twilio)', () => {
  async function setup(sender = '+15005550006') {
    const fake = await track(startFakeTwilio());
    const provider = createTwilioProvider(
      { provider: 'twilio', accountSid: fake.accountSid, authToken: fake.authToken, sender, baseUrl: fake.url },
      { timeoutMs: FAST_TIMEOUT_MS },
    );
    return { fake, provider, secrets: [fake.authToken] };
  }

  it('POSTs the Messages resource with Basic auth and To/From/Body form fields', async () => {
    const { fake, provider } = await setup();
    const result = await provider.send(sms());

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString('base64')}`,
    );
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.form).toEqual({ To: '+94771234567', From: '+15005550006', Body: TRICKY_TEXT });
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('sends a sender starting with MG as MessagingServiceSid instead of From', async () => {
    const { fake, provider } = await setup('MG0123456789abcdef0123456789abcdef');
    await provider.send(sms({ body: 'Code 123456' }));
    expect(fake.requests[0]?.form).toEqual({
      To: '+94771234567',
      MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      Body: 'Code 123456',
    });
  });

  it('accepts a base URL with a trailing slash', async () => {
    const fake = await track(startFakeTwilio());
    const provider = createTwilioProvider({
      provider: 'twilio',
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      sender: '+15005550006',
      baseUrl: `${fake.url}/`,
    });
    await expect(provider.send(sms())).resolves.toMatchObject({ providerMessageId: expect.stringMatching(/^SM/) });
    expect(fake.requests[0]?.url).toBe(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
  });

  it('treats bad credentials (401, Twilio error 20003) as permanent and never reveals the token', async () => {
    const fake = await track(startFakeTwilio());
    const wrongToken = 'wrong-token-0123456789abcdef';
    const provider = createTwilioProvider({
      provider: 'twilio',
      accountSid: fake.accountSid,
      authToken: wrongToken,
      sender: '+15005550006',
      baseUrl: fake.url,
    });
    const error = await sendExpectingFailure(provider, [wrongToken, fake.authToken]);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HTTP 401');
    expect(error.message).toContain('20003');
  });

  it('treats an invalid number (400, Twilio error 21211) as permanent', async () => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse(twilioError(400, 21211, "The 'To' number +94771234567 is not a valid phone number."));
    const error = await sendExpectingFailure(provider, secrets);
    expect(error).toMatchObject({ retryable: false, retryAfterSeconds: undefined });
    expect(error.message).toContain('21211');
  });

  it.each<HttpCase>([
    { status: 500, headers: {}, retryAfterSeconds: undefined },
    { status: 503, headers: { 'retry-after': '7' }, retryAfterSeconds: 7 },
    { status: 429, headers: { 'Retry-After': '3' }, retryAfterSeconds: 3 },
  ])(
    'treats HTTP $status as retryable (Retry-After: $retryAfterSeconds)',
    async ({ status, headers, retryAfterSeconds }) => {
      const { fake, provider, secrets } = await setup();
      fake.enqueueResponse({ ...twilioError(status, 20500, 'Internal Server Error'), headers });
      const error = await sendExpectingFailure(provider, secrets);
      expect(error).toMatchObject({ retryable: true, retryAfterSeconds });
      expect(fake.requests).toHaveLength(1);
    },
  );

  it('treats a refused connection as retryable', async () => {
    const provider = createTwilioProvider({
      provider: 'twilio',
      accountSid: `AC${'0'.repeat(32)}`,
      authToken: 'token-abcdef-123456',
      sender: '+15005550006',
      baseUrl: await refusedUrl(),
    });
    const error = await sendExpectingFailure(provider, ['token-abcdef-123456']);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('network error');
  });

  it('times out on a stalled server, as a retryable failure', async () => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse({ delayMs: 10_000 });
    const started = Date.now();
    const error = await sendExpectingFailure(provider, secrets);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('Vonage provider (real SDK against a fake Vonage)', () => {
  async function setup(sender = '+1234567890') {
    const fake = await track(startFakeVonage());
    const provider = createVonageProvider(
      { provider: 'vonage', apiKey: fake.apiKey, apiSecret: fake.apiSecret, sender, baseUrl: fake.url },
      { timeoutMs: FAST_TIMEOUT_MS },
    );
    const secrets = [fake.apiSecret, Buffer.from(`${fake.apiKey}:${fake.apiSecret}`).toString('base64')];
    return { fake, provider, secrets };
  }

  it('POSTs /sms/json with Basic auth and from/to/text, and returns the message-id', async () => {
    const { fake, provider } = await setup();
    const result = await provider.send(sms());

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/sms/json');
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${fake.apiKey}:${fake.apiSecret}`).toString('base64')}`,
    );
    expect(request?.headers['content-type']).toBe('application/json');
    // Vonage takes E.164 digits without '+'; non-GSM text needs type=unicode; client-ref is the outbox id.
    expect(request?.json).toEqual({
      from: '1234567890',
      to: '94771234567',
      text: TRICKY_TEXT,
      type: 'unicode',
      'client-ref': 'outbox-1',
    });
    expect(request && vonageFields(request)).not.toHaveProperty('api_secret');
    expect(result.providerMessageId).toMatch(/^[0-9a-f]{18}$/);
  });

  it('sends plain ASCII as text type and keeps an alphanumeric sender as is', async () => {
    const { fake, provider } = await setup('MyBrand');
    await provider.send(sms({ body: 'Your code: 123456' }));
    expect(fake.requests[0]?.json).toEqual({
      from: 'MyBrand',
      to: '94771234567',
      text: 'Your code: 123456',
      'client-ref': 'outbox-1',
    });
  });

  it('treats bad credentials (status 4) as permanent and never reveals the secret', async () => {
    const fake = await track(startFakeVonage());
    const wrongSecret = 'wrong-secret-987654';
    const provider = createVonageProvider({
      provider: 'vonage',
      apiKey: fake.apiKey,
      apiSecret: wrongSecret,
      sender: 'Brand',
      baseUrl: fake.url,
    });
    const error = await sendExpectingFailure(provider, [wrongSecret, fake.apiSecret]);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('vonage: status 4 (invalid credentials)');
  });

  it.each([
    { status: '1', text: 'Throttled', retryable: true },
    { status: '5', text: 'Internal Error', retryable: true },
    { status: '3', text: 'Invalid to param', retryable: false },
    { status: '29', text: 'Non White-listed Destination - rejected', retryable: false },
    { status: '99', text: 'Something new', retryable: false },
  ])('maps message status $status to retryable=$retryable', async ({ status, text, retryable }) => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse(vonageStatus(status, text));
    const error = await sendExpectingFailure(provider, secrets);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(`status ${status}`);
  });

  it.each<HttpCase>([
    { status: 500, headers: {}, retryable: true, retryAfterSeconds: undefined },
    { status: 503, headers: { 'retry-after': '11' }, retryable: true, retryAfterSeconds: 11 },
    { status: 429, headers: { 'retry-after': '2' }, retryable: true, retryAfterSeconds: 2 },
    { status: 401, headers: {}, retryable: false, retryAfterSeconds: undefined },
    { status: 400, headers: {}, retryable: false, retryAfterSeconds: undefined },
  ])('maps HTTP $status to retryable=$retryable', async ({ status, headers, retryable, retryAfterSeconds }) => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse({ status, headers, body: { title: 'error' } });
    const error = await sendExpectingFailure(provider, secrets);
    expect(error).toMatchObject({ retryable, retryAfterSeconds });
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('treats a 200 without message statuses as a retryable failure, not a success', async () => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse({ status: 200, body: { 'message-count': '0', messages: [] } });
    const error = await sendExpectingFailure(provider, secrets);
    expect(error.retryable).toBe(true);
  });

  it('treats a refused connection as retryable', async () => {
    const provider = createVonageProvider({
      provider: 'vonage',
      apiKey: 'key',
      apiSecret: 'secret-abcdef-123',
      sender: 'Brand',
      baseUrl: await refusedUrl(),
    });
    const error = await sendExpectingFailure(provider, ['secret-abcdef-123']);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('network error');
  });

  it('times out on a stalled server, as a retryable failure', async () => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse({ delayMs: 10_000 });
    const started = Date.now();
    const error = await sendExpectingFailure(provider, secrets);
    expect(error).toMatchObject({ retryable: true, message: 'vonage: request timed out' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('custom HTTP provider (undici against a fake gateway)', () => {
  const SECRET_HEADER = 'Bearer gw-secret-token-42';
  const SECRET_QUERY = 'qs-secret-77';

  async function setup(overrides: { contentType?: 'JSON' | 'FORM'; method?: 'POST' | 'PUT'; template?: string } = {}) {
    const fake = await track(startFakeSmsGateway());
    const provider = createCustomHttpProvider(
      {
        provider: 'custom',
        url: `${fake.url}/api/v1/sms?key=${SECRET_QUERY}`,
        contentType: overrides.contentType ?? 'JSON',
        method: overrides.method ?? 'POST',
        payloadTemplate: overrides.template ?? '{"content": {{body}},"to": {{mobile}}}',
        headers: { authorization: SECRET_HEADER, 'x-csrf': 'true' },
      },
      { timeoutMs: FAST_TIMEOUT_MS, maxResponseBytes: 1024 },
    );
    return { fake, provider, secrets: [SECRET_HEADER, SECRET_QUERY] };
  }

  it('POSTs the seed JSON template with the static headers and returns the gateway id', async () => {
    const { fake, provider } = await setup();
    const result = await provider.send(sms());

    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe(`/api/v1/sms?key=${SECRET_QUERY}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(SECRET_HEADER);
    expect(request?.headers['x-csrf']).toBe('true');
    expect(request?.json).toEqual({ content: TRICKY_TEXT, to: '+94771234567' });
    expect(result.providerMessageId).toBe('gw-1');
    // The outbox id, the same on every attempt of this message: the gateway can drop a duplicate.
    expect(request?.headers['idempotency-key']).toBe('outbox-1');
  });

  it('renders {{messageId}} as the stable reference of the message, on every attempt', async () => {
    const { fake, provider } = await setup({
      template: '{"ref": "sms-{{messageId}}", "text": {{body}}, "to": {{mobile}}}',
    });
    await provider.send(sms({ idempotencyKey: '5f0c2d1e-aaaa-4bbb-8ccc-123456789abc' }));
    await provider.send(sms({ idempotencyKey: '5f0c2d1e-aaaa-4bbb-8ccc-123456789abc' }));
    expect(fake.requests.map((request) => request.json)).toEqual([
      { ref: 'sms-5f0c2d1e-aaaa-4bbb-8ccc-123456789abc', text: TRICKY_TEXT, to: '+94771234567' },
      { ref: 'sms-5f0c2d1e-aaaa-4bbb-8ccc-123456789abc', text: TRICKY_TEXT, to: '+94771234567' },
    ]);
    expect(fake.requests.map((request) => request.headers['idempotency-key'])).toEqual([
      '5f0c2d1e-aaaa-4bbb-8ccc-123456789abc',
      '5f0c2d1e-aaaa-4bbb-8ccc-123456789abc',
    ]);
  });

  it('PUTs a FORM template, url-encoding the values', async () => {
    const { fake, provider } = await setup({
      contentType: 'FORM',
      method: 'PUT',
      template: 'Body={{body}}&To={{mobile}}&From=ABC',
    });
    await provider.send(sms());
    const [request] = fake.requests;
    expect(request?.method).toBe('PUT');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.form).toEqual({ Body: TRICKY_TEXT, To: '+94771234567', From: 'ABC' });
  });

  it.each([
    [{ messageId: 'm-1' }, 'm-1'],
    [{ message_id: 'm-2' }, 'm-2'],
    [{ id: 12345 }, '12345'],
    [{ status: 'queued' }, null],
    ['OK', null],
    ['', null],
  ])('reads the provider message id from %j', async (body, expected) => {
    const { fake, provider } = await setup();
    fake.enqueueResponse({ status: body === '' ? 204 : 202, body });
    await expect(provider.send(sms())).resolves.toEqual({ providerMessageId: expected });
  });

  it('reads at most the response cap and still succeeds on a huge 2xx body', async () => {
    const { fake, provider } = await setup();
    fake.enqueueResponse({ status: 200, body: { id: 'big', padding: 'x'.repeat(2 * 1024 * 1024) } });
    await expect(provider.send(sms())).resolves.toEqual({ providerMessageId: null });
  });

  it.each<HttpCase>([
    { status: 500, headers: {}, retryable: true, retryAfterSeconds: undefined },
    { status: 503, headers: { 'retry-after': '30' }, retryable: true, retryAfterSeconds: 30 },
    { status: 429, headers: { 'retry-after': '5' }, retryable: true, retryAfterSeconds: 5 },
    { status: 400, headers: {}, retryable: false, retryAfterSeconds: undefined },
    { status: 401, headers: {}, retryable: false, retryAfterSeconds: undefined },
    { status: 302, headers: { location: 'http://127.0.0.1:1/' }, retryable: false, retryAfterSeconds: undefined },
  ])('maps HTTP $status to retryable=$retryable', async ({ status, headers, retryable, retryAfterSeconds }) => {
    const { fake, provider, secrets } = await setup();
    // Gateways often echo the request; the echo (with the code and the header) must not reach the error.
    fake.enqueueResponse({ status, headers, body: `echo: ${TRICKY_TEXT} ${SECRET_HEADER}` });
    const error = await sendExpectingFailure(provider, secrets);
    expect(error).toMatchObject({ retryable, retryAfterSeconds, message: `custom gateway: HTTP ${status}` });
  });

  it('treats a refused connection as retryable', async () => {
    const provider = createCustomHttpProvider({
      provider: 'custom',
      url: `${await refusedUrl()}/sms?key=${SECRET_QUERY}`,
      contentType: 'JSON',
      method: 'POST',
      payloadTemplate: '{"text":{{body}}}',
      headers: { authorization: SECRET_HEADER },
    });
    const error = await sendExpectingFailure(provider, [SECRET_HEADER, SECRET_QUERY]);
    expect(error).toMatchObject({ retryable: true, message: 'custom gateway: network error (ECONNREFUSED)' });
  });

  it('times out on a stalled server, as a retryable failure', async () => {
    const { fake, provider, secrets } = await setup();
    fake.enqueueResponse({ delayMs: 10_000 });
    const started = Date.now();
    const error = await sendExpectingFailure(provider, secrets);
    expect(error).toMatchObject({ retryable: true, message: 'custom gateway: request timed out' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses a template that cannot produce valid JSON when the provider is created', () => {
    expect(() =>
      createCustomHttpProvider({
        provider: 'custom',
        url: 'https://gateway.example/sms',
        contentType: 'JSON',
        method: 'POST',
        payloadTemplate: '{"content": {{body}}',
        headers: {},
      }),
    ).toThrow('payload template does not produce valid JSON');
  });
});

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

describe('log provider', () => {
  it('is refused in production', () => {
    const { logger } = captureLogger();
    expect(() => createLogProvider(logger, { production: true })).toThrow(
      'the log SMS provider is for development only',
    );
    expect(() => createSmsProvider({ provider: 'log' }, { logger, production: true })).toThrow(/development only/);
  });

  it('logs the masked number and never the message text', async () => {
    const { logger, lines } = captureLogger();
    const provider = createLogProvider(logger, { production: false });
    const result = await provider.send(sms({ body: 'Your verification code: Xy7Kq9' }));

    expect(result.providerMessageId).toMatch(/^log-/);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toMatchObject({ level: 30, to: '+********4567', provider: 'log' });
    const output = lines.join('');
    expect(output).not.toContain('Xy7Kq9');
    expect(output).not.toContain('+94771234567');
  });
});

describe('maskPhoneNumber', () => {
  it.each([
    ['+94771234567', '+********4567'],
    ['0771234567', '********4567'],
    ['+94 77 123 4567', '+********4567'],
    ['1234567', '********567'],
    ['12345', '********5'],
    ['123', '********'],
    ['', '********'],
  ])('%s → %s', (input, expected) => {
    expect(maskPhoneNumber(input)).toBe(expected);
  });
});

describe('createSmsProvider', () => {
  it('dispatches on the provider name', () => {
    const { logger } = captureLogger();
    const deps = { logger, production: false, timeoutMs: 1000 };
    const sid = `AC${'1'.repeat(32)}`;
    expect(createSmsProvider({ provider: 'twilio', accountSid: sid, authToken: 't', sender: '+1' }, deps).name).toBe(
      'twilio',
    );
    expect(createSmsProvider({ provider: 'vonage', apiKey: 'k', apiSecret: 's', sender: 'B' }, deps).name).toBe(
      'vonage',
    );
    expect(
      createSmsProvider(
        {
          provider: 'custom',
          url: 'https://gateway.example/sms',
          contentType: 'FORM',
          method: 'POST',
          payloadTemplate: 'text={{body}}',
          headers: {},
        },
        deps,
      ).name,
    ).toBe('custom');
    expect(createSmsProvider({ provider: 'log' }, deps).name).toBe('log');
  });
});

describe('parseRetryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates, and ignores garbage', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfterSeconds('120', now)).toBe(120);
    expect(parseRetryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterSeconds('soon', now)).toBeUndefined();
    expect(parseRetryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
