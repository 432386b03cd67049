import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countUsers,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  storedUser,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

function expectScimError(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) {
  expect(response.statusCode).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/scim\+json/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body.schemas).toEqual([SCIM.error]);
  expect(body.status).toBe(String(status));
  expect(typeof body.detail).toBe('string');
  return body;
}

function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

describe('SCIM error handling and request parsing', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const raw = (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: string, contentType?: string) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: t.adminAuth, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      payload,
    });

  it.each(['{"userName":', '{userName: "x"}', "{'a':1}", '{"a":1}}', 'nope', '{"a":1,}'])(
    'malformed JSON %j: 400 invalidSyntax',
    async (payload) => {
      const before = await countUsers(t);
      const response = await raw('POST', '/scim2/Users', payload, 'application/scim+json');
      expect(expectScimError(response, 400).scimType).toBe('invalidSyntax');
      expect(await countUsers(t)).toBe(before);
    },
  );

  it('an empty body on POST: 400', async () => {
    const response = await raw('POST', '/scim2/Users', '', 'application/scim+json');
    expectScimError(response, 400);
  });

  it.each([
    ['application/scim+json', 'application/scim+json'],
    ['application/scim+json with charset', 'application/scim+json; charset=utf-8'],
    ['application/json', 'application/json'],
    ['application/json with charset', 'application/json;charset=UTF-8'],
    ['no content type', undefined],
  ])('accepts %s', async (_label, contentType) => {
    const userName = uniqueName('ctype');
    const response = await raw('POST', '/scim2/Users', JSON.stringify({ schemas: [SCIM.core], userName }), contentType);
    expect(response.statusCode).toBe(201);
    expect(json(response).userName).toBe(userName);
    const patch = await raw(
      'PATCH',
      `/scim2/Users/${String(json(response).id)}`,
      JSON.stringify(patchBody({ op: 'add', path: 'displayName', value: 'ok' })),
      contentType,
    );
    expect(patch.statusCode).toBe(200);
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses the content type %s: 415',
    async (contentType) => {
      const before = await countUsers(t);
      const response = await raw('POST', '/scim2/Users', JSON.stringify({ userName: uniqueName('x') }), contentType);
      expectScimError(response, 415);
      expect(await countUsers(t)).toBe(before);
    },
  );

  it('an unknown route under /scim2: 404 with a SCIM body', async () => {
    for (const url of ['/scim2/Roles', '/scim2/Nope/deeper', '/scim2/Users/a/b', '/scim2/Groups/a/b']) {
      expectScimError(await scimRequest(t, { method: 'GET', url }), 404);
    }
  });

  it('an unknown route under /api/identity: 404 with the WSO2 envelope', async () => {
    for (const url of ['/api/identity/user/v1.0/nope', '/api/identity/other', '/nowhere']) {
      const response = await t.app.inject({
        method: 'GET',
        url,
        headers: { authorization: t.adminAuth, 'x-request-id': 'trace-404' },
      });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(json(response)).toEqual({
        code: expect.any(String),
        message: 'Not Found',
        description: expect.any(String),
        traceId: 'trace-404',
      });
    }
  });

  describe('body limit', () => {
    let small: TestApp;

    beforeAll(async () => {
      small = await startTestApp({ env: { BODY_LIMIT: '1024' } });
    });
    afterAll(async () => small.close());

    it('refuses a body over BODY_LIMIT with 413 and creates nothing', async () => {
      const before = await countUsers(small);
      const response = await small.app.inject({
        method: 'POST',
        url: '/scim2/Users',
        headers: { authorization: small.adminAuth, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({ schemas: [SCIM.core], userName: 'big', displayName: 'x'.repeat(2000) }),
      });
      expectScimError(response, 413);
      expect(await countUsers(small)).toBe(before);
    });

    it('accepts a body under the limit', async () => {
      const response = await small.app.inject({
        method: 'POST',
        url: '/scim2/Users',
        headers: { authorization: small.adminAuth, 'content-type': 'application/scim+json' },
        payload: JSON.stringify({ schemas: [SCIM.core], userName: 'small', displayName: 'x'.repeat(200) }),
      });
      expect(response.statusCode).toBe(201);
    });
  });

  describe('garbage bodies never give a 500 and change nothing', () => {
    const garbage: [string, string | Buffer][] = [
      ['an array', '[]'],
      ['an array of objects', '[{"userName":"arr"}]'],
      ['a string', '"hello"'],
      ['null', 'null'],
      ['a number', '42'],
      ['true', 'true'],
      ['an empty object', '{}'],
      ['deep nesting', nested(5_000)],
      // In a defined sub-attribute: an unknown one (name.a) is ignored, whatever its value.
      ['deep nesting in an attribute', `{"userName":"deep","name":{"givenName":${nested(2_000)}}}`],
      ['deep arrays', `{"userName":"deep","emails":${'['.repeat(3_000)}${']'.repeat(3_000)}}`],
      ['a huge userName', JSON.stringify({ userName: 'u'.repeat(200_000) })],
      ['a huge op', JSON.stringify(patchBody({ op: 'o'.repeat(100_000), path: 'displayName', value: 'x' }))],
      ['a huge path', JSON.stringify(patchBody({ op: 'add', path: 'p'.repeat(100_000), value: 'x' }))],
      [
        'a huge filter',
        JSON.stringify({ schemas: [SCIM.searchRequest], filter: `userName eq "${'f'.repeat(100_000)}"` }),
      ],
      ['__proto__ at the top', '{"userName":"proto","__proto__":{"isAdmin":true}}'],
      ['__proto__ nested', '{"userName":"proto","name":{"__proto__":{"polluted":true}}}'],
      ['constructor.prototype', '{"userName":"proto","constructor":{"prototype":{"polluted":true}}}'],
      [
        '__proto__ in an operation value',
        '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":true}}}]}',
      ],
      ['a prototype path', JSON.stringify(patchBody({ op: 'add', path: 'constructor.prototype', value: 'x' }))],
      ['schemas not an array', '{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","userName":"x"}'],
      ['Operations of strings', '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":["add"]}'],
      ['an object for a string', '{"userName":{"value":"x"}}'],
      ['an array for an object', '{"userName":"shape","name":["a","b"]}'],
      [
        'a string for an extension',
        '{"userName":"shape","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}',
      ],
      ['nested arrays for items', '{"userName":"shape","phoneNumbers":[[["0111"]]]}'],
      ['numbers for items', '{"userName":"shape","emails":[1,2,3]}'],
      ['a boolean for a list', '{"userName":"shape","addresses":true}'],
      ['control characters', JSON.stringify({ userName: 'ctl\u0000\u001f', displayName: '\u0000' })],
      ['lone surrogates', '{"displayName":"\\ud800","nickName":"\\udfff"}'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
      ['invalid UTF-8 in a key', Buffer.concat([Buffer.from('{"'), Buffer.from([0xc3, 0x28]), Buffer.from('":1}')])],
      [
        'deep nesting in an operation value',
        JSON.stringify(patchBody({ op: 'add', path: 'displayName', value: 'DEEP' })).replace('"DEEP"', nested(50_000)),
      ],
      ['a startIndex string', JSON.stringify({ schemas: [SCIM.searchRequest], startIndex: 'abc' })],
    ];

    let victim: { id: string; auth: string };
    let victimBefore: Awaited<ReturnType<typeof storedUser>>;
    let adminBefore: Awaited<ReturnType<typeof storedUser>>;
    let adminId: string;

    beforeAll(async () => {
      victim = await createUser(t, uniqueName('victim'), { displayName: 'Victim', emails: ['v@example.com'] });
      victimBefore = await storedUser(t, victim.id);
      adminId = String(json(await scimRequest(t, { method: 'GET', url: '/scim2/Me' })).id);
      adminBefore = await storedUser(t, adminId);
    });

    it.each(garbage)('%s', async (_label, payload) => {
      const users = await countUsers(t);
      const targets = [
        { method: 'POST' as const, url: '/scim2/Users', auth: t.adminAuth },
        { method: 'POST' as const, url: '/scim2/Users/.search', auth: t.adminAuth },
        { method: 'PUT' as const, url: `/scim2/Users/${victim.id}`, auth: t.adminAuth },
        { method: 'PATCH' as const, url: `/scim2/Users/${victim.id}`, auth: t.adminAuth },
        { method: 'PUT' as const, url: '/scim2/Me', auth: victim.auth },
        { method: 'PATCH' as const, url: '/scim2/Me', auth: victim.auth },
      ];
      for (const target of targets) {
        for (const contentType of ['application/scim+json', 'application/json']) {
          const response = await t.app.inject({
            method: target.method,
            url: target.url,
            headers: { authorization: target.auth, 'content-type': contentType },
            payload,
          });
          const where = `${target.method} ${target.url} ${contentType}`;
          expect(response.statusCode, where).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, where).toBeLessThan(500);
          expect(String(response.headers['content-type']), where).toMatch(/^application\/scim\+json/);
          expect(JSON.parse(response.body), where).toMatchObject({ schemas: [SCIM.error] });
        }
      }
      expect(await countUsers(t)).toBe(users);
      expect(await storedUser(t, victim.id)).toEqual(victimBefore);
      expect(await storedUser(t, adminId)).toEqual(adminBefore);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      // The app still answers normally.
      expect((await scimRequest(t, { method: 'GET', url: `/scim2/Users/${victim.id}` })).statusCode).toBe(200);
    });

    it('garbage query strings never give a 500', async () => {
      const queries = [
        'filter=%ZZ',
        `filter=${encodeURIComponent('('.repeat(5_000))}`,
        `filter=${encodeURIComponent(`${'not ('.repeat(200)}userName pr${')'.repeat(200)}`)}`,
        `filter=${encodeURIComponent(Array.from({ length: 300 }, () => 'userName eq "a"').join(' or '))}`,
        'filter=userName%20eq%20%22%00%22',
        'attributes=%00',
        `attributes=${'a,'.repeat(1_000)}`,
        'excludedAttributes=__proto__',
        'attributes=constructor.prototype',
        'startIndex=99999999999999999999',
        'count=1e400',
        'filter=a&filter=b',
      ];
      for (const query of queries) {
        const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users?${query}` });
        expect(response.statusCode, query).toBeLessThan(500);
        const single = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${victim.id}?${query}` });
        expect(single.statusCode, query).toBeLessThan(500);
      }
      expect(await storedUser(t, victim.id)).toEqual(victimBefore);
    });
  });
});
