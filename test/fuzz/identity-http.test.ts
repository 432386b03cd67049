import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { basicAuth, createUser, startTestApp, type TestApp } from '../support/test-app.js';
import { withHostileLeaf } from './arbitraries.js';
import {
  type ErrorFamily,
  expectFamilyError,
  expectIdentityError,
  expectNoServerError,
  expectUnchanged,
  hostileJson,
  hostileString,
  PATCH_OP,
  parseBody,
  percentEncode,
  runs,
  type Snapshot,
  snapshot,
} from './fuzz-support.js';

const CODES = '/api/identity/user/v1.0';
const SENDERS = '/api/server/v1/notification-senders/sms';
const SCENARIOS = ['MOBILE_VERIFICATION_ON_UPDATE', 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE'];

const text = fc.oneof({ arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), weight: 2 }, hostileString);

const properties = fc.oneof(
  {
    arbitrary: fc.array(
      fc.record({
        key: fc.oneof({ arbitrary: fc.constant('RecoveryScenario'), weight: 3 }, text),
        value: fc.oneof({ arbitrary: fc.constantFrom(...SCENARIOS), weight: 3 }, text),
      }),
      { maxLength: 3 },
    ),
    weight: 4,
  },
  hostileJson,
);

const code = fc.oneof(fc.stringMatching(/^[0-9]{6}$/), text, hostileJson);

const validateBody = fc.oneof(
  { arbitrary: fc.record({ code, properties }, { requiredKeys: [] }), weight: 4 },
  withHostileLeaf(fc.record({ code: fc.stringMatching(/^[0-9]{6}$/), properties })),
  hostileJson,
);

const resendOwnBody = fc.oneof({ arbitrary: fc.record({ properties }), weight: 4 }, hostileJson);

const resendBody = fc.oneof(
  {
    arbitrary: fc.record(
      {
        user: fc.record(
          {
            username: fc.oneof(fc.constantFrom('id-self', 'ID-SELF', 'id-other', 'id-ѕelf', 'admin'), text),
            realm: fc.oneof(fc.constantFrom('PRIMARY', 'primary', 'SECONDARY'), text),
          },
          { requiredKeys: ['username'] },
        ),
        properties,
      },
      { requiredKeys: [] },
    ),
    weight: 4,
  },
  withHostileLeaf(fc.record({ user: fc.record({ username: fc.constant('id-self') }), properties: fc.constant([]) })),
  hostileJson,
);

const template = fc.oneof(
  fc.constantFrom('{"to": {{mobile}}, "text": {{body}}}', 'to={{mobile}}&text={{body}}', '{"a": "\\u00e{{body}}9"}'),
  text,
);

const senderProperty = fc.oneof(
  fc.record({ key: fc.constant('body'), value: template }),
  fc.record({
    key: fc.constant('http.headers'),
    value: fc.oneof(fc.constantFrom('x-api-key: k1', 'authorization: Bearer t, x-a: b', ''), hostileString),
  }),
  fc.record({ key: fc.constant('http.method'), value: fc.oneof(fc.constantFrom('POST', 'put', 'GET'), text) }),
  fc.record({ key: text, value: text }),
);

const optionalText = fc.oneof(text, fc.constant(null));
const providerUrl = fc.oneof(
  { arbitrary: fc.constantFrom('http://127.0.0.1:9/sms', 'https://api.example.com/2010-04-01/Accounts/x'), weight: 4 },
  optionalText,
);

/** Senders each provider would accept, with hostile text in the free fields; PUT bodies mostly omit the name. */
const senderBody = fc.oneof(
  fc.record(
    {
      name: fc.stringMatching(/^fz-[a-z0-9]{1,8}$/),
      provider: fc.constantFrom('Custom', 'custom'),
      providerURL: providerUrl,
      contentType: fc.constant('JSON'),
      properties: fc
        .tuple(fc.constant({ key: 'body', value: '{"to": {{mobile}}, "text": {{body}}}' }), senderProperty)
        .map((items) => [...items]),
    },
    { requiredKeys: ['provider', 'providerURL', 'contentType', 'properties'] },
  ),
  fc.record(
    {
      name: fc.stringMatching(/^fz-[a-z0-9]{1,8}$/),
      provider: fc.constantFrom('Twilio', 'Vonage'),
      providerURL: providerUrl,
      key: text,
      secret: text,
      sender: text,
      contentType: fc.constantFrom('FORM', 'JSON'),
      properties: fc.array(senderProperty, { maxLength: 2 }),
    },
    { requiredKeys: ['provider', 'key', 'secret', 'sender', 'contentType'] },
  ),
  fc.record(
    {
      name: fc.oneof(fc.stringMatching(/^fz-[a-z0-9]{1,8}$/), text),
      provider: fc.oneof(fc.constantFrom('Custom', 'Twilio', 'Vonage'), text),
      providerURL: providerUrl,
      key: optionalText,
      secret: optionalText,
      sender: optionalText,
      contentType: fc.oneof(fc.constantFrom('JSON', 'FORM', 'json'), text),
      properties: fc.array(senderProperty, { maxLength: 4 }),
    },
    { requiredKeys: ['provider', 'contentType'] },
  ),
);

const authorization = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 15 },
  fc.constantFrom('Bearer abc', 'Bearer ', 'Basic', 'Basic !!!', 'Negotiate x', 'basic Og=='),
  hostileString.map((value) => `Bearer ${value}`),
);

/** Leaves out startIndex values past 2^53: they reach SQL OFFSET unchecked (see the todo below). */
function withinBigint([key, value]: [string, string]): boolean {
  return key !== 'startIndex' || !(Number(decodeURIComponent(value)) > Number.MAX_SAFE_INTEGER);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutName(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'name'));
}

type State = Snapshot & { senders: string; grants: number };

describe('identity, sender and OAuth endpoints under fuzzing', () => {
  let t: TestApp;
  let self: { id: string; auth: string };
  let other: { id: string; auth: string };
  let ids: string[];

  beforeAll(async () => {
    // With a default region the policy sends to the E.164 form: the one normalisation it allows.
    t = await startTestApp({ env: { PHONE_DEFAULT_REGION: 'LK', OTP_MAX_ATTEMPTS: '100' } });
    self = await createUser(t, 'id-self', { phoneNumbers: [{ type: 'mobile', value: '0771234567' }] });
    other = await createUser(t, 'id-other');
    ids = [self.id, other.id];
    // A pending change, so validate and resend have a code to work on.
    const pending = await t.app.inject({
      method: 'PATCH',
      url: '/scim2/Me',
      headers: { authorization: self.auth, 'content-type': 'application/scim+json' },
      payload: JSON.stringify({
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: '0777654321' }] } }],
      }),
    });
    expect(pending.statusCode).toBe(200);
    const outbox = await t.db.selectFrom('sms_outbox').select('to_number').execute();
    expect(outbox.map((row) => row.to_number)).toEqual(['+94777654321']);
    await t.app.inject({
      method: 'POST',
      url: SENDERS,
      headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'fz-existing',
        provider: 'Custom',
        providerURL: 'http://127.0.0.1:9/sms',
        contentType: 'JSON',
        properties: [{ key: 'body', value: '{"to": {{mobile}}, "text": {{body}}}' }],
      }),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  function post(url: string, body: unknown, auth: string | undefined, method: 'POST' | 'PUT' = 'POST') {
    return t.app.inject({
      method,
      url,
      headers: { ...(auth === undefined ? {} : { authorization: auth }), 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  }

  /** Users, codes, outbox, senders and OAuth grants: a rejected request leaves all of them as they were. */
  async function state(): Promise<State> {
    const senders = await t.app.inject({ method: 'GET', url: SENDERS, headers: { authorization: t.adminAuth } });
    const grants = await t.db
      .selectFrom('oauth_grants')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return { ...(await snapshot(t, ids)), senders: senders.body, grants: Number(grants.count) };
  }

  /** The state after the last rejected request, which nothing has changed since; undefined after anything else. */
  let known: State | undefined;
  beforeEach(() => {
    known = undefined;
  });

  async function expectSafe(family: ErrorFamily, request: () => Promise<LightMyRequestResponse>) {
    const before = known ?? (await state());
    known = undefined;
    const response = await request();
    expectNoServerError(response);
    if (response.statusCode >= 400) {
      expectFamilyError(response, family);
      const after = await state();
      expectUnchanged(before, after, response);
      expect(after.senders).toBe(before.senders);
      expect(after.grants).toBe(before.grants);
      known = after;
    }
    return response;
  }

  it('the four verification code endpoints', async () => {
    const call = fc.oneof(
      validateBody.map((body) => ({ url: `${CODES}/me/validate-code`, body, admin: false })),
      validateBody.map((body) => ({ url: `${CODES}/validate-code`, body, admin: true })),
      resendOwnBody.map((body) => ({ url: `${CODES}/me/resend-code`, body, admin: false })),
      resendBody.map((body) => ({ url: `${CODES}/resend-code`, body, admin: true })),
    );
    await fc.assert(
      fc.asyncProperty(call, authorization, async ({ url, body, admin }, auth) => {
        const response = await expectSafe('identity', () => post(url, body, auth ?? (admin ? t.adminAuth : self.auth)));
        // No code can be guessed here and every resend falls within the cooldown.
        expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
      }),
      {
        numRuns: runs(90),
        // Found by this property: a NUL in the user name reached PostgreSQL (SQLSTATE 22021), answered 500.
        examples: [
          [
            { url: `${CODES}/resend-code`, body: { user: { username: 'id\u0000' }, properties: [] }, admin: true },
            undefined,
          ],
        ],
      },
    );
  });

  it('POST and PUT of SMS senders', async () => {
    const body = fc.oneof(
      { arbitrary: senderBody, weight: 4 },
      { arbitrary: withHostileLeaf(senderBody), weight: 3 },
      hostileJson,
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (payload, create) => {
        const url = create ? SENDERS : `${SENDERS}/fz-existing`;
        // PUT cannot rename; a name in its body is mostly left out, as clients do.
        const body = !create && isRecord(payload) && typeof payload.name === 'string' ? withoutName(payload) : payload;
        const response = await expectSafe('identity', () => post(url, body, t.adminAuth, create ? 'POST' : 'PUT'));
        if (response.statusCode < 400) expect(response.statusCode).toBe(create ? 201 : 200);
      }),
      { numRuns: runs(90) },
    );
  });

  it('a CR, LF or NUL inside a static header value is a 400 (header injection)', async () => {
    const injection = fc.constantFrom('\r\n', '\n', '\r', '\u0000', '\r\nX-Injected: 1', '\r\n\r\nGET / HTTP/1.1');
    const token = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
    await fc.assert(
      fc.asyncProperty(token, token, injection, fc.boolean(), async (before, after, inject, create) => {
        const payload = {
          ...(create ? { name: `fz-h${before.toLowerCase()}` } : {}),
          provider: 'Custom',
          providerURL: 'http://127.0.0.1:9/sms',
          contentType: 'JSON',
          properties: [
            { key: 'body', value: '{"text": {{body}}}' },
            { key: 'http.headers', value: `x-ok: 1, x-api-key: ${before}${inject}${after}` },
          ],
        };
        const url = create ? SENDERS : `${SENDERS}/fz-existing`;
        const response = await expectSafe('identity', () => post(url, payload, t.adminAuth, create ? 'POST' : 'PUT'));
        expect(response.statusCode).toBe(400);
        expect(expectIdentityError(response).code).toBe('NSM-60003');
      }),
      { numRuns: runs(40) },
    );
  });

  it('POST /oauth2/token with arbitrary form fields', async () => {
    const FIELDS = ['grant_type', 'username', 'password', 'scope', 'refresh_token', 'client_id', 'client_secret'];
    const value = fc.oneof(
      fc.constantFrom('password', 'client_credentials', 'refresh_token', 'authorization_code', 'id-self', 'openid'),
      text,
    );
    // Every password or client secret costs one scrypt on the server; few of them keep the run short.
    const field = fc.oneof(
      { arbitrary: fc.tuple(fc.constantFrom('scope', 'refresh_token', 'username'), value), weight: 8 },
      fc.tuple(fc.constantFrom(...FIELDS), value),
      fc.tuple(text, value),
    );
    const grantType = fc.oneof(
      { arbitrary: fc.constantFrom('password', 'client_credentials', 'refresh_token'), weight: 4 },
      value,
    );
    const form = fc.oneof(
      {
        arbitrary: fc
          .tuple(grantType, fc.array(field, { maxLength: 4 }))
          .map(([grant, entries]) => new URLSearchParams([['grant_type', grant], ...entries]).toString()),
        weight: 5,
      },
      fc.array(field, { maxLength: 5 }).map((entries) => new URLSearchParams(entries).toString()),
      fc.string({ unit: fc.constantFrom('%', '&', '=', '+', 'a', '0', 'f', 'grant_type', '%00', '%ff', '%ED%A0%80') }),
      hostileString,
    );
    const contentType = fc.oneof(
      { arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 6 },
      fc.constantFrom(
        'application/x-www-form-urlencoded; charset=utf-8',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
      ),
    );
    const clientAuth = fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 8 },
      fc.tuple(text, text).map(([id, secret]) => basicAuth(id, secret)),
      fc.constantFrom('Basic', 'Basic %%%', 'Bearer x'),
    );
    await fc.assert(
      fc.asyncProperty(form, contentType, clientAuth, async (payload, type, auth) => {
        const response = await expectSafe('oauth', () =>
          t.app.inject({
            method: 'POST',
            url: '/oauth2/token',
            headers: { 'content-type': type, ...(auth === undefined ? {} : { authorization: auth }) },
            payload,
          }),
        );
        expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
      }),
      {
        numRuns: runs(80),
        // Found by this property: a NUL in username or client_id reached PostgreSQL (SQLSTATE 22021), answered 500.
        examples: [
          ['grant_type=password&username=a%00&password=x', 'application/x-www-form-urlencoded', undefined],
          [
            'grant_type=client_credentials&client_id=c%00&client_secret=s',
            'application/x-www-form-urlencoded',
            undefined,
          ],
        ],
      },
    );
  });

  it('POST /api/server/v1/oauth-clients', async () => {
    const scope = fc.oneof(fc.stringMatching(/^[a-z:/._-]{1,12}$/), text);
    // A created client costs one scrypt (its secret hash): valid bodies are the minority here.
    const body = fc.oneof(
      {
        arbitrary: fc.record(
          {
            name: text,
            grantTypes: fc.oneof(
              fc.subarray(['password', 'client_credentials', 'refresh_token'], { minLength: 1 }),
              fc.array(text, { maxLength: 3 }),
            ),
            scopes: fc.array(scope, { maxLength: 4 }),
          },
          { requiredKeys: [] },
        ),
        weight: 3,
      },
      withHostileLeaf(
        fc.record({ name: text, grantTypes: fc.constant(['client_credentials']), scopes: fc.constant([]) }),
      ),
      hostileJson,
    );
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const response = await expectSafe('identity', () => post('/api/server/v1/oauth-clients', payload, t.adminAuth));
        if (response.statusCode < 400) expect(response.statusCode).toBe(201);
      }),
      { numRuns: runs(40) },
    );
  });

  it('hostile query strings on the administration lists', async () => {
    const path = fc.constantFrom(
      '/api/server/v1/audit-events',
      '/api/server/v1/sms-deliveries',
      '/api/server/v1/oauth-clients',
      SENDERS,
    );
    const name = fc.constantFrom('userId', 'type', 'from', 'to', 'startIndex', 'count', 'state', 'filter');
    const value = fc.oneof(
      fc.constantFrom('１', '١٢', '1e3', '-1', '9'.repeat(30), '2026-02-30T00:00:00Z', 'VERIFIED', 'sent'),
      hostileString.map(percentEncode),
    );
    await fc.assert(
      fc.asyncProperty(
        path,
        fc.array(fc.tuple(name, value).filter(withinBigint), { maxLength: 4 }),
        async (base, pairs) => {
          const query = pairs.map(([key, item]) => `${key}=${item}`).join('&');
          const response = await expectSafe('identity', () =>
            t.app.inject({ method: 'GET', url: `${base}?${query}`, headers: { authorization: t.adminAuth } }),
          );
          if (response.statusCode < 400) expect(response.statusCode).toBe(200);
        },
      ),
      { numRuns: runs(60) },
    );
  });

  // Found by the property above: a startIndex past bigint reached SQL OFFSET and gave a 500.
  it('GET /api/server/v1/audit-events?startIndex=9223372036854775808 (and /sms-deliveries) answers 400, not 500', async () => {
    for (const base of ['/api/server/v1/audit-events', '/api/server/v1/sms-deliveries']) {
      for (const startIndex of ['9223372036854775808', '1e30']) {
        const response = await t.app.inject({
          method: 'GET',
          url: `${base}?startIndex=${startIndex}`,
          headers: { authorization: t.adminAuth },
        });
        expect(response.statusCode, `${base} ${startIndex}`).toBe(400);
        expectIdentityError(response);
      }
    }
  });

  it('the pending verification survived the fuzzing: the code still sent to the E.164 number only', async () => {
    const outbox = await t.db.selectFrom('sms_outbox').select('to_number').execute();
    expect(outbox.map((row) => row.to_number)).toEqual(['+94777654321']);
    const me = parseBody(
      await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: self.auth } }),
    );
    expect(me['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toMatchObject({
      pendingMobileNumber: '0777654321',
    });
    expect(other.id).not.toBe(self.id);
  });
});
