import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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

const WSO2 = 'http://wso2.org/claims';

describe('/Me and the limits of a normal user', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  /** Two normal users: the caller and someone else whose data must stay untouched. */
  async function pair() {
    const userName = uniqueName('me');
    const me = await createUser(t, userName, { name: { givenName: 'Mia', familyName: 'Me' }, displayName: 'Mia' });
    // Never signs in, so no password to hash.
    const other = await createUser(t, uniqueName('other'), {
      password: undefined,
      name: { givenName: 'Otto' },
      displayName: 'Otto',
    });
    return { me, other, userName };
  }

  it('GET /Me returns the caller', async () => {
    const { me } = await pair();
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: me.auth });
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).toBe('W/"1"');
    expect(json(response)).toEqual(me.body);
  });

  it('GET /Me honours attributes', async () => {
    const { me } = await pair();
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me?attributes=displayName', auth: me.auth });
    expect(Object.keys(json(response)).sort()).toEqual(['displayName', 'id', 'schemas', 'userName']);
  });

  it('PUT /Me replaces the caller only', async () => {
    const { me, other, userName } = await pair();
    const otherBefore = await storedUser(t, other.id);
    const response = await scimRequest(t, {
      method: 'PUT',
      url: '/scim2/Me',
      auth: me.auth,
      body: { schemas: [SCIM.core], id: other.id, userName, displayName: 'Mia Updated' },
    });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.id).toBe(me.id);
    expect(body.displayName).toBe('Mia Updated');
    expect(body).not.toHaveProperty('name');
    expect(Object.fromEntries((await storedUser(t, me.id)).claims)).toEqual({ [`${WSO2}/displayName`]: 'Mia Updated' });
    expect(await storedUser(t, other.id)).toEqual(otherBefore);
  });

  it('PATCH /Me changes the caller only', async () => {
    const { me, other } = await pair();
    const otherBefore = await storedUser(t, other.id);
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: me.auth,
      body: patchBody({ op: 'replace', path: 'name.givenName', value: 'Maria' }),
    });
    expect(response.statusCode).toBe(200);
    expect(json(response).name).toEqual({ givenName: 'Maria', familyName: 'Me' });
    expect(response.headers.etag).toBe('W/"2"');
    expect((await storedUser(t, me.id)).claims.get(`${WSO2}/givenname`)).toBe('Maria');
    expect(await storedUser(t, other.id)).toEqual(otherBefore);
  });

  it('PATCH /Me honours If-Match', async () => {
    const { me } = await pair();
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: me.auth,
      headers: { 'if-match': 'W/"7"' },
      body: patchBody({ op: 'replace', path: 'displayName', value: 'x' }),
    });
    expect(response.statusCode).toBe(412);
    expect((await storedUser(t, me.id)).row?.version).toBe(1);
  });

  it('the admin acts on themselves through /Me too', async () => {
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me' });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toMatchObject({
      userName: 'admin',
      roles: expect.arrayContaining([{ value: 'admin', display: 'admin' }]),
    });
  });

  it('a normal user cannot reach another user, nor themselves, through /Users: 403, nothing changed', async () => {
    const { me, other } = await pair();
    const otherBefore = await storedUser(t, other.id);
    const meBefore = await storedUser(t, me.id);
    const attempts = [
      { method: 'GET' as const, url: `/scim2/Users/${other.id}` },
      { method: 'GET' as const, url: `/scim2/Users/${me.id}` },
      { method: 'PUT' as const, url: `/scim2/Users/${other.id}`, body: { schemas: [SCIM.core], userName: 'hijack' } },
      {
        method: 'PATCH' as const,
        url: `/scim2/Users/${other.id}`,
        body: patchBody({ op: 'replace', path: 'displayName', value: 'pwned' }),
      },
      {
        method: 'PATCH' as const,
        url: `/scim2/Users/${me.id}`,
        body: patchBody({ op: 'add', path: 'roles', value: [{ value: 'admin' }] }),
      },
      { method: 'DELETE' as const, url: `/scim2/Users/${other.id}` },
      { method: 'GET' as const, url: '/scim2/Users' },
      { method: 'GET' as const, url: '/scim2/Users?filter=userName%20pr' },
      { method: 'POST' as const, url: '/scim2/Users/.search', body: { schemas: [SCIM.searchRequest] } },
      { method: 'POST' as const, url: '/scim2/Users', body: { schemas: [SCIM.core], userName: uniqueName('sneaky') } },
    ];
    for (const attempt of attempts) {
      const response = await scimRequest(t, { ...attempt, auth: me.auth });
      expect(response.statusCode, `${attempt.method} ${attempt.url}`).toBe(403);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '403' });
    }
    expect(await storedUser(t, other.id)).toEqual(otherBefore);
    expect(await storedUser(t, me.id)).toEqual(meBefore);
  });

  it('a 403 on an unknown id does not reveal whether the user exists', async () => {
    const { me } = await pair();
    const response = await scimRequest(t, {
      method: 'GET',
      url: '/scim2/Users/3f1e0c9a-9b7e-4c1e-8d2a-0a1b2c3d4e5f',
      auth: me.auth,
    });
    expect(response.statusCode).toBe(403);
  });

  it.each([
    ['PATCH add roles', 'PATCH', patchBody({ op: 'add', path: 'roles', value: [{ value: 'admin' }] })],
    ['PATCH pathless roles', 'PATCH', patchBody({ op: 'replace', value: { roles: [{ value: 'Admin' }] } })],
    ['PATCH add roles as a string', 'PATCH', patchBody({ op: 'add', path: 'roles', value: 'admin' })],
  ] as const)(
    'a normal user cannot make themselves admin through /Me (%s): 400 mutability',
    async (_label, method, body) => {
      const { me } = await pair();
      const before = await storedUser(t, me.id);
      const response = await scimRequest(t, { method, url: '/scim2/Me', auth: me.auth, body });
      expect(response.statusCode).toBe(400);
      expect(json(response).scimType).toBe('mutability');
      expect(await storedUser(t, me.id)).toEqual(before);
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: me.auth })).statusCode).toBe(403);
    },
  );

  it('a normal user cannot make themselves admin with PUT /Me: 400 mutability', async () => {
    const { me, userName } = await pair();
    const before = await storedUser(t, me.id);
    const response = await scimRequest(t, {
      method: 'PUT',
      url: '/scim2/Me',
      auth: me.auth,
      body: {
        schemas: [SCIM.core],
        userName,
        roles: [{ type: 'default', value: 'Internal/everyone' }, { value: 'admin' }],
      },
    });
    expect(response.statusCode).toBe(400);
    expect(json(response).scimType).toBe('mutability');
    expect(await storedUser(t, me.id)).toEqual(before);
  });

  it('a normal user may echo their own roles back in PUT /Me', async () => {
    const { me } = await pair();
    const current = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: me.auth }));
    const response = await scimRequest(t, { method: 'PUT', url: '/scim2/Me', auth: me.auth, body: current });
    expect(response.statusCode).toBe(200);
    expect((await storedUser(t, me.id)).row?.is_admin).toBe(false);
  });

  it('a user changes their own password through PATCH /Me', async () => {
    const { me, userName } = await pair();
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: me.auth,
      body: patchBody({ op: 'replace', value: { password: 'my-new-password' } }),
    });
    expect(response.statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: me.auth })).statusCode).toBe(401);
    const fresh = `Basic ${Buffer.from(`${userName}:my-new-password`).toString('base64')}`;
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: fresh })).statusCode).toBe(200);
  });

  it.each(['POST', 'DELETE'] as const)('%s /Me answers 405 and changes nothing', async (method) => {
    const { me } = await pair();
    const response = await scimRequest(t, {
      method,
      url: '/scim2/Me',
      auth: me.auth,
      ...(method === 'POST' ? { body: { schemas: [SCIM.core], userName: uniqueName('viaMe') } } : {}),
    });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, PUT, PATCH');
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '405' });
    expect((await storedUser(t, me.id)).row).toBeDefined();
  });

  it('/Me without credentials answers 401', async () => {
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: null });
    expect(response.statusCode).toBe(401);
  });
});
