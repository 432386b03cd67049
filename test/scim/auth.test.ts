import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuth,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

describe('Basic authentication', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const me = (auth: string | null) => scimRequest(t, { method: 'GET', url: '/scim2/Me', auth });

  function expectChallenge(response: Awaited<ReturnType<typeof me>>): void {
    expect(response.statusCode).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^(Basic|Bearer) realm="/);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '401' });
  }

  it('without credentials: 401 with a SCIM error body and WWW-Authenticate', async () => {
    for (const url of ['/scim2/Me', '/scim2/Users', '/scim2/Users/3f1e0c9a-9b7e-4c1e-8d2a-0a1b2c3d4e5f']) {
      expectChallenge(await scimRequest(t, { method: 'GET', url, auth: null }));
    }
    expectChallenge(await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: '' }));
  });

  it('checks credentials before reading the body', async () => {
    const response = await scimRequest(t, { method: 'POST', url: '/scim2/Users', auth: null, body: '{not json' });
    expectChallenge(response);
  });

  it('with a wrong password or an unknown user: 401', async () => {
    const userName = uniqueName('wrongpw');
    await createUser(t, userName);
    expectChallenge(await me(basicAuth(userName, 'not-the-password')));
    expectChallenge(await me(basicAuth(userName, '')));
    expectChallenge(await me(basicAuth('no-such-user', 'whatever')));
    expectChallenge(await me(basicAuth('admin', 'ADMIN.password')));
  });

  it.each([
    ['Bearer scheme', 'Bearer abc.def.ghi'],
    ['no credentials after Basic', 'Basic'],
    ['blank after Basic', 'Basic    '],
    ['not base64', 'Basic !!!***'],
    ['no colon', `Basic ${Buffer.from('adminonly').toString('base64')}`],
    ['empty user name', `Basic ${Buffer.from(':password').toString('base64')}`],
    ['two tokens', `Basic ${Buffer.from('a:b').toString('base64')} extra`],
    ['a very long header', `Basic ${'A'.repeat(20_000)}`],
    ['a NUL in the user name', `Basic ${Buffer.from('ad\u0000min:x').toString('base64')}`],
    ['invalid UTF-8 in the user name', `Basic ${Buffer.from([0x61, 0xff, 0x3a, 0x78]).toString('base64')}`],
  ])('with a malformed header (%s): 401', async (_label, header) => {
    expectChallenge(await me(header));
  });

  it('accepts the scheme name in any case and a password containing colons', async () => {
    const userName = uniqueName('colon');
    const { id } = await createUser(t, userName, { password: 'pa:ss:word' });
    const token = Buffer.from(`${userName}:pa:ss:word`).toString('base64');
    const response = await me(`basic ${token}`);
    expect(response.statusCode).toBe(200);
    expect(json(response).id).toBe(id);
  });

  it('accepts the user name in another case', async () => {
    const userName = uniqueName('MixedCase');
    const { id } = await createUser(t, userName);
    const response = await me(basicAuth(userName.toLowerCase(), `${userName}-password`));
    expect(response.statusCode).toBe(200);
    expect(json(response).id).toBe(id);
  });

  it('an inactive user: 401, also with a cached credential; active again: 200', async () => {
    const userName = uniqueName('inactive');
    const { id, auth } = await createUser(t, userName);
    expect((await me(auth)).statusCode).toBe(200);
    const deactivate = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expect(deactivate.statusCode).toBe(200);
    expectChallenge(await me(auth));
    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'active', value: true }),
    });
    expect((await me(auth)).statusCode).toBe(200);
  });

  it('a user created inactive cannot authenticate', async () => {
    const userName = uniqueName('bornInactive');
    const { auth } = await createUser(t, userName, { active: false });
    expectChallenge(await me(auth));
  });

  it('a user created without a password cannot authenticate', async () => {
    const userName = uniqueName('nopw');
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { schemas: [SCIM.core], userName },
    });
    expect(response.statusCode).toBe(201);
    expectChallenge(await me(basicAuth(userName, '')));
    expectChallenge(await me(basicAuth(userName, 'anything')));
  });

  it('after a password change by PATCH the old password stops working at once and the new one works', async () => {
    const userName = uniqueName('rotate');
    const { id, auth } = await createUser(t, userName);
    // Twice, so the credential is certainly in the cache.
    expect((await me(auth)).statusCode).toBe(200);
    expect((await me(auth)).statusCode).toBe(200);
    const change = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'password', value: 'rotated-password' }),
    });
    expect(change.statusCode).toBe(200);
    expectChallenge(await me(auth));
    const fresh = basicAuth(userName, 'rotated-password');
    expect((await me(fresh)).statusCode).toBe(200);
    expect((await me(fresh)).statusCode).toBe(200);

    // And back: the first password works again only once it is the current one.
    const back = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', value: { password: `${userName}-password` } }),
    });
    expect(back.statusCode).toBe(200);
    expectChallenge(await me(fresh));
    expect((await me(auth)).statusCode).toBe(200);
  });

  it('a renamed user authenticates with the new name only', async () => {
    const userName = uniqueName('renameauth');
    const { id, auth } = await createUser(t, userName);
    expect((await me(auth)).statusCode).toBe(200);
    const newName = uniqueName('renamed');
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'userName', value: newName }),
    });
    expect(response.statusCode).toBe(200);
    expectChallenge(await me(auth));
    expect((await me(basicAuth(newName, `${userName}-password`))).statusCode).toBe(200);
  });

  it('a deleted user cannot authenticate, even with a cached credential', async () => {
    const userName = uniqueName('gone');
    const { id, auth } = await createUser(t, userName);
    expect((await me(auth)).statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${id}` })).statusCode).toBe(204);
    expectChallenge(await me(auth));
    // Someone else takes the name: the old password must not open the new account.
    await createUser(t, userName, { password: 'a-different-password' });
    expectChallenge(await me(auth));
  });

  it('a demoted administrator loses admin rights at once', async () => {
    const userName = uniqueName('exadmin');
    const { id, auth } = await createUser(t, userName, { roles: [{ value: 'admin' }] });
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth })).statusCode).toBe(200);
    const demote = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'remove', path: 'roles' }),
    });
    expect(demote.statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth })).statusCode).toBe(403);
  });

  it('takes as long to refuse an unknown user as a wrong password (no user-name probing by timing)', async () => {
    const userName = uniqueName('timing');
    await createUser(t, userName);
    const fastest = async (auth: string) => {
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const started = process.hrtime.bigint();
        expect((await me(auth)).statusCode).toBe(401);
        best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
      }
      return best;
    };
    const wrongPassword = await fastest(basicAuth(userName, 'wrong-password'));
    const unknownUser = await fastest(basicAuth(uniqueName('ghost'), 'wrong-password'));
    // Without a decoy hash the unknown user is refused ~20 times faster (no scrypt at all).
    expect(unknownUser).toBeGreaterThan(wrongPassword * 0.3);
  });

  it('discovery and health answer without credentials', async () => {
    for (const url of ['/scim2/ServiceProviderConfig', '/scim2/Schemas', '/scim2/ResourceTypes', '/health']) {
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });
});
