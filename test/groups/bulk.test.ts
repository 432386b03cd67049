import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, passwordToken } from '../oauth/oauth-helpers.js';
import { GROUP_SCHEMA, memberIds } from '../support/group-helpers.js';
import {
  createUser,
  json,
  SCIM,
  scimRequest,
  startTestApp,
  storedUser,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';
import {
  codeIn,
  enterpriseOf,
  mobileOf,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';

interface BulkResult {
  method: string;
  bulkId?: string;
  location?: string;
  version?: string;
  status: string;
  response?: Record<string, unknown>;
}

function bulkBody(operations: unknown[], failOnErrors?: number) {
  return { schemas: [BULK_REQUEST], ...(failOnErrors === undefined ? {} : { failOnErrors }), Operations: operations };
}

describe('POST /scim2/Bulk', () => {
  let t: VerificationTestApp;

  beforeAll(async () => {
    t = await startVerificationApp({ env: { BULK_MAX_OPERATIONS: '5', BULK_MAX_PAYLOAD_SIZE: '4096' } });
  });
  afterAll(async () => t.close());

  const bulk = (operations: unknown[], failOnErrors?: number, auth?: string) =>
    scimRequest(t, { method: 'POST', url: '/scim2/Bulk', body: bulkBody(operations, failOnErrors), auth });
  const results = (response: { body: string }) => JSON.parse(response.body).Operations as BulkResult[];

  it('creates users and a group whose members name them by bulkId, even before they are defined', async () => {
    const alice = uniqueName('alice');
    const bob = uniqueName('bob');
    const team = uniqueName('Team');
    const response = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'team',
        data: {
          schemas: [GROUP_SCHEMA],
          displayName: team,
          members: [{ value: 'bulkId:alice' }, { value: 'bulkId:bob', type: 'User' }],
        },
      },
      { method: 'POST', path: '/Users', bulkId: 'alice', data: { schemas: [SCIM.core], userName: alice } },
      { method: 'POST', path: '/Users', bulkId: 'bob', data: { schemas: [SCIM.core], userName: bob } },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(JSON.parse(response.body).schemas).toEqual([BULK_RESPONSE]);
    const [group, first, second] = results(response);
    expect(first).toMatchObject({ method: 'POST', bulkId: 'alice', status: '201', version: 'W/"1"' });
    expect(second).toMatchObject({ method: 'POST', bulkId: 'bob', status: '201' });
    expect(group).toMatchObject({ method: 'POST', bulkId: 'team', status: '201', version: 'W/"1"' });
    expect(first?.location).toMatch(/^http:\/\/localhost:80\/scim2\/Users\/[0-9a-f-]{36}$/);
    expect(group?.location).toMatch(/^http:\/\/localhost:80\/scim2\/Groups\/[0-9a-f-]{36}$/);
    expect(first).not.toHaveProperty('response');
    const idOf = (location: string | undefined) => String(location).split('/').pop() ?? '';
    expect(await memberIds(t, idOf(group?.location))).toEqual([idOf(first?.location), idOf(second?.location)].sort());
  });

  it('PUT, PATCH (with version as If-Match) and DELETE of existing resources; bulkId in a path', async () => {
    const user = await createUser(t, uniqueName('bulky'));
    const response = await bulk([
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: uniqueName('Paths') } },
      {
        method: 'PATCH',
        path: '/Groups/bulkId:g',
        data: { schemas: [SCIM.patchOp], Operations: [{ op: 'add', path: 'members', value: [{ value: user.id }] }] },
      },
      {
        method: 'PATCH',
        path: `/Users/${user.id}`,
        version: 'W/"1"',
        data: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'displayName', value: 'Bulky' }] },
      },
      { method: 'PUT', path: `/Users/${user.id}`, version: 'W/"1"', data: { schemas: [SCIM.core], userName: 'stale' } },
      { method: 'DELETE', path: `/Users/${user.id}` },
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const [, patchGroup, patchUser, stalePut, remove] = results(response);
    expect(patchGroup).toMatchObject({ method: 'PATCH', status: '204', version: 'W/"2"' });
    expect(patchGroup?.location).toMatch(/\/scim2\/Groups\/[0-9a-f-]{36}$/);
    expect(patchUser).toMatchObject({
      method: 'PATCH',
      status: '200',
      version: 'W/"2"',
      location: `http://localhost:80/scim2/Users/${user.id}`,
    });
    expect(stalePut).toMatchObject({
      method: 'PUT',
      status: '412',
      response: { schemas: [SCIM.error], status: '412' },
    });
    expect(remove).toMatchObject({
      method: 'DELETE',
      status: '204',
      location: `http://localhost:80/scim2/Users/${user.id}`,
    });
    expect((await storedUser(t, user.id)).row).toBeUndefined();
  });

  it('each operation is atomic and reports its own SCIM error; the rest still runs', async () => {
    const taken = uniqueName('Taken');
    const response = await bulk([
      { method: 'POST', path: '/Groups', bulkId: 'one', data: { displayName: taken } },
      { method: 'POST', path: '/Groups', bulkId: 'two', data: { displayName: taken.toUpperCase() } },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'three',
        data: { displayName: uniqueName('Ghost'), members: [{ value: randomUUID() }] },
      },
      { method: 'POST', path: '/Users', bulkId: 'four', data: { schemas: [SCIM.core], userName: uniqueName('fine') } },
    ]);
    const [one, two, three, four] = results(response);
    expect(one?.status).toBe('201');
    expect(two).toMatchObject({
      status: '409',
      response: { schemas: [SCIM.error], status: '409', scimType: 'uniqueness' },
    });
    expect(two).not.toHaveProperty('location');
    expect(three).toMatchObject({ status: '400', response: { scimType: 'invalidValue' } });
    expect(four?.status).toBe('201');
  });

  it('a bulkId that is unknown, failed or circular answers 409 invalidValue for the operations naming it', async () => {
    const taken = uniqueName('Dup');
    const response = await bulk([
      { method: 'POST', path: '/Groups', bulkId: 'ok', data: { displayName: taken } },
      { method: 'POST', path: '/Groups', bulkId: 'failed', data: { displayName: taken } },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'a',
        data: { displayName: uniqueName('A'), members: [{ value: 'bulkId:b' }] },
      },
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'b',
        data: { displayName: uniqueName('B'), members: [{ value: 'bulkId:a' }] },
      },
      {
        method: 'PATCH',
        path: '/Groups/bulkId:failed',
        data: { schemas: [SCIM.patchOp], Operations: [{ op: 'remove', path: 'members' }] },
      },
    ]);
    const byId = new Map(results(response).map((result, index) => [result.bulkId ?? String(index), result]));
    expect(byId.get('ok')?.status).toBe('201');
    expect(byId.get('failed')?.status).toBe('409');
    for (const key of ['a', 'b']) {
      expect(byId.get(key), key).toMatchObject({ status: '409', response: { scimType: 'invalidValue' } });
    }
    const patch = results(response).find((result) => result.method === 'PATCH');
    expect(patch).toMatchObject({ status: '409', response: { scimType: 'invalidValue' } });
    expect(String(patch?.response?.detail)).toContain("bulkId 'failed'");

    const unknown = await bulk([
      {
        method: 'POST',
        path: '/Groups',
        bulkId: 'g',
        data: { displayName: uniqueName('U'), members: [{ value: 'bulkId:nobody' }] },
      },
    ]);
    expect(results(unknown)[0]).toMatchObject({ status: '409', response: { scimType: 'invalidValue' } });
    expect(String(results(unknown)[0]?.response?.detail)).toContain("bulkId 'nobody'");
  });

  it('failOnErrors stops after that many errors and reports only what ran', async () => {
    const name = uniqueName('Stop');
    const response = await bulk(
      [
        { method: 'POST', path: '/Groups', bulkId: '1', data: { displayName: name } },
        { method: 'POST', path: '/Groups', bulkId: '2', data: { displayName: name } },
        { method: 'POST', path: '/Groups', bulkId: '3', data: { displayName: uniqueName('Never') } },
      ],
      1,
    );
    expect(results(response).map((result) => result.status)).toEqual(['201', '409']);
    const list = json(
      await scimRequest(t, {
        method: 'GET',
        url: `/scim2/Groups?filter=${encodeURIComponent('displayName sw "Never"')}`,
      }),
    );
    expect(list.totalResults).toBe(0);
  });

  it('a mobile change inside Bulk starts verification exactly as a PATCH does', async () => {
    const user = await createUser(t, uniqueName('mobile'), {
      phoneNumbers: [{ type: 'mobile', value: '+94771111111' }],
    });
    const response = await bulk([
      {
        method: 'PATCH',
        path: `/Users/${user.id}`,
        data: { schemas: [SCIM.patchOp], Operations: [replaceMobile('+94772222222')] },
      },
    ]);
    expect(results(response)[0]?.status).toBe('200');
    const current = json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` }));
    expect(mobileOf(current)).toBe('+94771111111');
    expect(enterpriseOf(current).pendingMobileNumber).toBe('+94772222222');
    const [sms] = await t.deliver();
    expect(sms?.to).toBe('+94772222222');
    const validated = await t.post(user.auth, '/api/identity/user/v1.0/me/validate-code', {
      code: codeIn(sms?.content ?? ''),
      properties: [],
    });
    expect(validated.statusCode).toBe(202);
    expect(mobileOf(json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` })))).toBe(
      '+94772222222',
    );
  });

  it('more operations than maxOperations, or a body over maxPayloadSize, is 413 with a SCIM error', async () => {
    const six = Array.from({ length: 6 }, (_, index) => ({
      method: 'DELETE',
      path: `/Users/${randomUUID()}`,
      bulkId: String(index),
    }));
    const tooMany = await bulk(six);
    expect(tooMany.statusCode).toBe(413);
    expect(json(tooMany)).toMatchObject({ schemas: [SCIM.error], status: '413' });
    expect(String(json(tooMany).detail)).toContain('maxOperations (5)');

    const big = await bulk([
      { method: 'POST', path: '/Groups', bulkId: 'big', data: { displayName: 'x'.repeat(5000) } },
    ]);
    expect(big.statusCode).toBe(413);
    expect(json(big)).toMatchObject({ schemas: [SCIM.error], status: '413' });
    expect(String(json(big).detail)).toContain('maxPayloadSize (4096 bytes)');
  });

  it('ServiceProviderConfig advertises the limits in force', async () => {
    const config = json(await scimRequest(t, { method: 'GET', url: '/scim2/ServiceProviderConfig' }));
    expect(config.bulk).toEqual({ supported: true, maxOperations: 5, maxPayloadSize: 4096 });
  });

  it.each([
    [{ schemas: ['urn:example'], Operations: [{ method: 'DELETE', path: '/Users/x' }] }, 'invalidSyntax'],
    [bulkBody([{ method: 'GET', path: '/Users' }]), 'invalidSyntax'],
    [bulkBody([{ method: 'POST', path: '/Me', bulkId: 'x', data: {} }]), 'invalidPath'],
    [bulkBody([{ method: 'POST', path: '/Users/abc', bulkId: 'x', data: {} }]), 'invalidPath'],
    [bulkBody([{ method: 'DELETE', path: '/Groups' }]), 'invalidPath'],
    [bulkBody([{ method: 'POST', path: '/Users', data: { userName: 'x' } }]), 'invalidValue'],
    [bulkBody([{ method: 'PATCH', path: '/Users/abc' }]), 'invalidSyntax'],
    [
      bulkBody([
        { method: 'POST', path: '/Groups', bulkId: 'same', data: { displayName: 'a' } },
        { method: 'POST', path: '/Groups', bulkId: 'same', data: { displayName: 'b' } },
      ]),
      'invalidValue',
    ],
    [{ schemas: [BULK_REQUEST] }, 'invalidSyntax'],
    ['{"schemas": [', 'invalidSyntax'],
  ])('a malformed request is 400 %#, and nothing runs', async (body, scimType) => {
    const response = await scimRequest(t, { method: 'POST', url: '/scim2/Bulk', body });
    expect(response.statusCode, response.body).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType });
  });
});

describe('Bulk permissions', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const operation = () => ({ method: 'POST', path: '/Groups', bulkId: 'g', data: { displayName: uniqueName('Perm') } });

  it('other methods on /Bulk answer 405 with Allow: POST', async () => {
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Bulk' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '405' });
  });

  it('a plain user gets 403 for the request; no credentials 401', async () => {
    const plain = await createUser(t, uniqueName('plain'));
    const forbidden = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Bulk',
      body: bulkBody([operation()]),
      auth: plain.auth,
    });
    expect(forbidden.statusCode).toBe(403);
    const anonymous = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Bulk',
      body: bulkBody([operation()]),
      auth: null,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('a bearer token needs internal_bulk_resource_create, and each operation its own scope', async () => {
    const password = 'admin-password-for-tests';
    const noBulk = await passwordToken(t, 'admin', password, 'internal_group_mgt_create');
    const refused = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Bulk',
      body: bulkBody([operation()]),
      auth: bearer(noBulk.access_token),
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['www-authenticate']).toMatch(/scope="internal_bulk_resource_create"/);

    const bulkOnly = await passwordToken(
      t,
      'admin',
      password,
      'internal_bulk_resource_create internal_group_mgt_create',
    );
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Bulk',
      body: bulkBody([
        operation(),
        { method: 'POST', path: '/Users', bulkId: 'u', data: { schemas: [SCIM.core], userName: uniqueName('nope') } },
      ]),
      auth: bearer(bulkOnly.access_token),
    });
    expect(response.statusCode).toBe(200);
    const [group, user] = JSON.parse(response.body).Operations as BulkResult[];
    expect(group?.status).toBe('201');
    expect(user).toMatchObject({ status: '403', response: { schemas: [SCIM.error], status: '403' } });
  });
});
