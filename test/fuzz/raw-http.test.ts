import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createUser, startTestApp, type TestApp } from '../support/test-app.js';
import {
  CORE,
  type ErrorFamily,
  expectFamilyError,
  expectNoServerError,
  expectScimError,
  expectUnchanged,
  familyOf,
  hasNonAsciiDigit,
  hostileJson,
  hostileString,
  isWellFormed,
  lookalikePhone,
  NASTY_STRINGS,
  nestedArrays,
  nestedObjects,
  nestedValue,
  PATCH_OP,
  parseBody,
  replaceLeaf,
  runs,
  SEARCH_REQUEST,
  type Snapshot,
  snapshot,
} from './fuzz-support.js';

const BODY_LIMIT = 65_536;
const OAUTH_FORM_LIMIT = 16_384;
const RECOVERY = [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }];

type Method = 'POST' | 'PUT' | 'PATCH';

interface Route {
  method: Method;
  url: string;
  /** Who calls it; undefined: the administrator. */
  asSelf?: boolean;
  /** A body the route accepts (or rejects only for business reasons). */
  valid: Record<string, unknown>;
}

/** The user one Cyrillic letter away from `name`, when it has a letter with a lookalike. */
const CYRILLIC: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у' };

function cyrillicTwin(name: string): string | undefined {
  const index = [...name].findIndex((character) => CYRILLIC[character] !== undefined);
  if (index < 0) return undefined;
  const characters = [...name];
  characters[index] = CYRILLIC[characters[index] ?? ''] ?? '';
  return characters.join('');
}

describe('raw payloads and injection attempts', () => {
  let t: TestApp;
  let targetId: string;
  let self: { id: string; auth: string };
  let ids: string[];
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT: String(BODY_LIMIT) } });
    targetId = (await createUser(t, 'raw-target', { phoneNumbers: [{ type: 'mobile', value: '+94771234567' }] })).id;
    self = await createUser(t, 'raw-self', { phoneNumbers: [{ type: 'mobile', value: '0771234567' }] });
    ids = [targetId, self.id];
    const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'name.givenName', value: 'Given' }] };
    routes = [
      { method: 'POST', url: '/scim2/Users', valid: { schemas: [CORE], userName: 'raw-new', displayName: 'D' } },
      { method: 'PUT', url: `/scim2/Users/${targetId}`, valid: { userName: 'raw-target', title: 'T' } },
      { method: 'PATCH', url: `/scim2/Users/${targetId}`, valid: patch },
      { method: 'PATCH', url: '/scim2/Me', asSelf: true, valid: patch },
      { method: 'POST', url: '/scim2/Users/.search', valid: { schemas: [SEARCH_REQUEST], filter: 'userName eq "x"' } },
      { method: 'POST', url: '/api/identity/user/v1.0/me/validate-code', asSelf: true, valid: { code: '123456' } },
      { method: 'POST', url: '/api/identity/user/v1.0/validate-code', valid: { code: '123456', properties: [] } },
      { method: 'POST', url: '/api/identity/user/v1.0/me/resend-code', asSelf: true, valid: { properties: RECOVERY } },
      {
        method: 'POST',
        url: '/api/identity/user/v1.0/resend-code',
        valid: { user: { username: 'raw-self', realm: 'PRIMARY' }, properties: RECOVERY },
      },
      {
        method: 'POST',
        url: '/api/server/v1/notification-senders/sms',
        valid: {
          name: 'raw-sender',
          provider: 'Custom',
          providerURL: 'http://127.0.0.1:9/sms',
          contentType: 'JSON',
          properties: [
            { key: 'body', value: '{"to": {{mobile}}, "text": {{body}}}' },
            { key: 'http.headers', value: 'x-api-key: k1' },
          ],
        },
      },
    ];
  });
  afterAll(async () => {
    await t.close();
  });

  function raw(route: Route, payload: string | Buffer, contentType = 'application/json') {
    return t.app.inject({
      method: route.method,
      url: route.url,
      headers: { authorization: route.asSelf ? self.auth : t.adminAuth, 'content-type': contentType },
      payload,
    });
  }

  /** The state after the last rejected request, which nothing has changed since; undefined after anything else. */
  let known: Snapshot | undefined;
  beforeEach(() => {
    known = undefined;
  });

  /** Below 500; a rejection in the family's error format and without a trace in the database. */
  async function expectSafe(
    family: ErrorFamily,
    request: () => Promise<LightMyRequestResponse>,
  ): Promise<LightMyRequestResponse> {
    const before = known ?? (await snapshot(t, ids));
    known = undefined;
    const response = await request();
    expectNoServerError(response);
    if (response.statusCode >= 400) {
      expectFamilyError(response, family);
      const after = await snapshot(t, ids);
      expectUnchanged(before, after, response);
      known = after;
    }
    return response;
  }

  const route = () => fc.nat().map((index) => routes[index % routes.length] as Route);

  const invalidUtf8 = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    fc.constantFrom(
      [0xff],
      [0xfe, 0xff],
      [0xc3],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0x80],
    ),
  );

  it('invalid UTF-8 inside strings and as whole bodies', async () => {
    await fc.assert(
      fc.asyncProperty(route(), invalidUtf8, fc.nat(), fc.boolean(), async (target, bytes, leaf, whole) => {
        const marker = 'QQmarkerQQ';
        const text = JSON.stringify(replaceLeaf(target.valid, leaf, `a${marker}b`));
        const [before = '', after = ''] = text.split(marker);
        const payload = whole
          ? Buffer.from(bytes)
          : Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
        const response = await expectSafe(familyOf(target.url), () => raw(target, payload));
        if (response.statusCode < 300 && response.body !== '') {
          // Accepted bytes were decoded with U+FFFD replacements: whatever is echoed must be well-formed text.
          expect(isWellFormed(response.body)).toBe(true);
        }
      }),
      { numRuns: runs(60) },
    );
  });

  it('truncated JSON is a 400 in the family format, with nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(route(), fc.nat(), async (target, cut) => {
        const text = JSON.stringify(target.valid);
        const payload = text.slice(0, cut % text.length);
        const response = await expectSafe(familyOf(target.url), () => raw(target, payload));
        expect(response.statusCode).toBe(400);
      }),
      { numRuns: runs(40) },
    );
  });

  it('bodies over BODY_LIMIT answer 413 in the family format', async () => {
    for (const target of routes) {
      const padded = replaceLeaf(target.valid, 0, 'x'.repeat(BODY_LIMIT));
      const response = await expectSafe(familyOf(target.url), () => raw(target, JSON.stringify(padded)));
      expect(response.statusCode, target.url).toBe(413);
    }
    const form = `grant_type=password&username=${'x'.repeat(OAUTH_FORM_LIMIT)}&password=p`;
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    });
    expect(token.statusCode).toBe(413);
    expectFamilyError(token, 'oauth');
  });

  it('deeply nested arrays and objects, as bodies and as values', async () => {
    await fc.assert(
      fc.asyncProperty(
        route(),
        fc.integer({ min: 1, max: 400 }),
        fc.constantFrom('arrays', 'objects', 'mixed', 'inside'),
        fc.nat(),
        async (target, depth, shape, leaf) => {
          const payload =
            shape === 'arrays'
              ? nestedArrays(depth)
              : shape === 'objects'
                ? nestedObjects(depth, 'userName')
                : shape === 'mixed'
                  ? JSON.stringify(nestedValue(depth))
                  : JSON.stringify(replaceLeaf(target.valid, leaf, nestedValue(depth)));
          await expectSafe(familyOf(target.url), () => raw(target, payload));
        },
      ),
      { numRuns: runs(60), examples: [[routes[0] as Route, 200, 'arrays', 0]] },
    );
  });

  it('a hostile value (NUL, lone surrogates, injections, odd JSON) in any leaf of a valid body', async () => {
    const hostile = fc.oneof(hostileString, hostileJson, fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff'));
    await fc.assert(
      fc.asyncProperty(route(), fc.nat(), hostile, async (target, leaf, value) => {
        await expectSafe(familyOf(target.url), () =>
          raw(target, JSON.stringify(replaceLeaf(target.valid, leaf, value))),
        );
      }),
      {
        numRuns: runs(100),
        // Found by this property: NUL reached PostgreSQL (SQLSTATE 22021) from a SCIM attribute and from the
        // resend-code user name, and the client got a 500.
        examples: [
          [routes[0] as Route, 2, 'a\u0000b'],
          [routes[3] as Route, 3, '\u0000'],
          [routes[8] as Route, 0, 'id\u0000'],
        ],
      },
    );
  });

  it('a NUL or a lone surrogate in the Basic user name is a 4xx in the family format', async () => {
    for (const userName of ['a\u0000', '\ud800', '\u0000']) {
      const auth = `Basic ${Buffer.from(`${userName}:secret`).toString('base64')}`;
      for (const target of routes) {
        const response = await expectSafe(familyOf(target.url), () =>
          t.app.inject({
            method: target.method,
            url: target.url,
            headers: { authorization: auth, 'content-type': 'application/json' },
            payload: JSON.stringify(target.valid),
          }),
        );
        expect(response.statusCode, target.url).toBeGreaterThanOrEqual(400);
      }
    }
  });

  it('SQL injection strings are user names like any other, and filters find exactly them', async () => {
    const attempts = NASTY_STRINGS.filter((text) => text.trim() !== '' && !/\p{Cc}|\p{Cs}/u.test(text));
    for (const userName of attempts) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/scim2/Users',
        headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({ userName: `sqli ${userName}` }),
      });
      expectNoServerError(created);
      if (created.statusCode !== 201) {
        expectScimError(created);
        continue;
      }
      const filter = encodeURIComponent(`userName eq ${JSON.stringify(`sqli ${userName}`)}`);
      const found = await t.app.inject({
        method: 'GET',
        url: `/scim2/Users?filter=${filter}`,
        headers: { authorization: t.adminAuth },
      });
      expect(found.statusCode, userName).toBe(200);
      const resources = parseBody(found).Resources as { id: string; userName: string }[];
      expect(resources.map((user) => user.userName)).toEqual([`sqli ${userName}`]);
    }
    const list = await t.app.inject({
      method: 'GET',
      url: '/scim2/Users?count=0',
      headers: { authorization: t.adminAuth },
    });
    expect(parseBody(list).totalResults).toBeGreaterThan(attempts.length);
  });

  it('lookalike user names: Cyrillic twins are different users, ASCII case is not', async () => {
    const asciiName = fc
      .stringMatching(/^[a-z][a-z0-9]{3,10}$/)
      .filter((name) => cyrillicTwin(name) !== undefined)
      .map((name) => `lk-${name}`);
    const post = (userName: string) =>
      t.app.inject({
        method: 'POST',
        url: '/scim2/Users',
        headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({ userName }),
      });
    const byName = async (userName: string) => {
      const filter = encodeURIComponent(`userName eq ${JSON.stringify(userName)}`);
      const response = await t.app.inject({
        method: 'GET',
        url: `/scim2/Users?filter=${filter}`,
        headers: { authorization: t.adminAuth },
      });
      return (parseBody(response).Resources as { id: string; userName: string }[]).map((user) => user.userName);
    };
    await fc.assert(
      fc.asyncProperty(asciiName, async (name) => {
        const twin = cyrillicTwin(name) ?? '';
        const first = await post(name);
        if (first.statusCode === 409) return; // generated before
        expect(first.statusCode).toBe(201);
        expect((await post(twin)).statusCode).toBe(201);
        const before = await snapshot(t, ids);
        const upper = await post(name.toUpperCase());
        expect(upper.statusCode).toBe(409);
        expectScimError(upper);
        expectUnchanged(before, await snapshot(t, ids), upper);
        expect(await byName(name)).toEqual([name]);
        expect(await byName(twin)).toEqual([twin]);
      }),
      { numRuns: runs(25) },
    );
  });

  it('a lookalike user signs in as itself, not as the ASCII user', async () => {
    const latin = await createUser(t, 'paypal');
    const cyrillic = await createUser(t, 'рaypal');
    const me = async (auth: string) =>
      parseBody(await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: auth } })).id;
    expect(await me(latin.auth)).toBe(latin.id);
    expect(await me(cyrillic.auth)).toBe(cyrillic.id);
    expect(cyrillic.id).not.toBe(latin.id);
  });

  it('lookalike digits in phone numbers: stored verbatim or rejected, never sent to a normalised number', async () => {
    const outboxNumbers = async () =>
      (await t.db.selectFrom('sms_outbox').select('to_number').execute()).map((row) => row.to_number);
    await fc.assert(
      fc.asyncProperty(lookalikePhone, fc.constantFrom('create', 'self', 'admin'), async (number, how) => {
        expect(hasNonAsciiDigit(number)).toBe(true);
        const sentBefore = await outboxNumbers();
        const phoneNumbers = [{ type: 'mobile', value: number }];
        const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { phoneNumbers } }] };
        const response = await expectSafe('scim', () =>
          how === 'create'
            ? t.app.inject({
                method: 'POST',
                url: '/scim2/Users',
                headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
                payload: JSON.stringify({ userName: `digits-${Math.random().toString(36).slice(2)}`, phoneNumbers }),
              })
            : t.app.inject({
                method: 'PATCH',
                url: how === 'self' ? '/scim2/Me' : `/scim2/Users/${targetId}`,
                headers: {
                  authorization: how === 'self' ? self.auth : t.adminAuth,
                  'content-type': 'application/scim+json',
                },
                payload: JSON.stringify(patch),
              }),
        );
        // Creating never sends; a change of number would, and the destination policy refuses lookalike digits.
        expect(await outboxNumbers()).toEqual(sentBefore);
        if (response.statusCode < 400) {
          const user = parseBody(response);
          const phones = (user.phoneNumbers ?? []) as { value: string }[];
          expect(phones.map((phone) => phone.value)).toContain(number);
          expect(how).toBe('create');
        }
      }),
      { numRuns: runs(40) },
    );
  });
});
