import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, clientBasic, oauthPost, passwordToken, registerClient } from '../oauth/oauth-helpers.js';
import { expectRefusedWithin } from '../support/revocation-bound.js';
import {
  basicAuth,
  createUser,
  json,
  patchBody,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

/**
 * Issue #11 point 2: a password change, disabling, deleting or demoting ends every token, on every instance:
 * at once on the instance that made the change, within the documented bound on the others (their caches).
 */
describe('credentials die when they should', () => {
  let t: TestApp;
  let other: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    // A second instance on the same database: revocation must hold there too.
    other = await startTestApp({ database: t.database });
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  async function login(userName: string, password = `${userName}-password`) {
    const tokens = await passwordToken(t, userName, password);
    return { access: tokens.access_token, refresh: String(tokens.refresh_token) };
  }

  async function expectDead(tokens: { access: string; refresh: string }, url = '/scim2/Me'): Promise<void> {
    const changedAt = performance.now();
    const get = (instance: TestApp) => scimRequest(instance, { method: 'GET', url, auth: bearer(tokens.access) });
    const here = await get(t);
    expect(here.statusCode, here.body).toBe(401);
    await expectRefusedWithin(() => get(other), changedAt);
    const refreshed = await oauthPost(other, 'token', { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(refreshed.statusCode, refreshed.body).toBe(400);
    expect(json(refreshed).error).toBe('invalid_grant');
  }

  it('an administrator resetting the password ends the old login; the new password works', async () => {
    const userName = uniqueName('reset');
    const user = await createUser(t, userName);
    const tokens = await login(userName);
    expect(
      (await scimRequest(other, { method: 'GET', url: '/scim2/Me', auth: bearer(tokens.access) })).statusCode,
    ).toBe(200);
    const reset = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'password', value: 'brand-new-password' }),
    });
    expect(reset.statusCode, reset.body).toBe(200);
    await expectDead(tokens);
    const fresh = await login(userName, 'brand-new-password');
    expect((await scimRequest(other, { method: 'GET', url: '/scim2/Me', auth: bearer(fresh.access) })).statusCode).toBe(
      200,
    );
  });

  it("a user's own password change through /Me ends the user's other logins", async () => {
    const userName = uniqueName('self');
    await createUser(t, userName);
    const tokens = await login(userName);
    const change = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: basicAuth(userName, `${userName}-password`),
      body: patchBody({ op: 'replace', path: 'password', value: 'my-new-password' }),
    });
    expect(change.statusCode, change.body).toBe(200);
    await expectDead(tokens);
  });

  it('disabling ends the login for good: enabling again does not revive old tokens', async () => {
    const userName = uniqueName('disabled');
    const user = await createUser(t, userName);
    const tokens = await login(userName);
    const setActive = (active: boolean) =>
      scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${user.id}`,
        body: patchBody({ op: 'replace', path: 'active', value: active }),
      });
    expect((await setActive(false)).statusCode).toBe(200);
    expect((await setActive(true)).statusCode).toBe(200);
    await expectDead(tokens);
  });

  it('demoting an administrator ends the old login (not only its admin scopes)', async () => {
    const userName = uniqueName('demoted');
    const user = await createUser(t, userName, { roles: [{ value: 'admin' }] });
    const tokens = await login(userName);
    expect(
      (await scimRequest(other, { method: 'GET', url: '/scim2/Users', auth: bearer(tokens.access) })).statusCode,
    ).toBe(200);
    const demote = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'remove', path: 'roles' }),
    });
    expect(demote.statusCode, demote.body).toBe(200);
    await expectDead(tokens);
  });

  it('deleting a user ends the login', async () => {
    const userName = uniqueName('deleted');
    const user = await createUser(t, userName);
    const tokens = await login(userName);
    expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${user.id}` })).statusCode).toBe(204);
    await expectDead(tokens);
  });

  it('a profile edit does not end the login', async () => {
    const userName = uniqueName('kept');
    const user = await createUser(t, userName);
    const tokens = await login(userName);
    const edit = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'displayName', value: 'Kept' }),
    });
    expect(edit.statusCode).toBe(200);
    expect(
      (await scimRequest(other, { method: 'GET', url: '/scim2/Me', auth: bearer(tokens.access) })).statusCode,
    ).toBe(200);
  });

  it("rotating a client's secret ends its tokens and the logins made through it; deleting it too", async () => {
    const client = await registerClient(t, {
      name: uniqueName('rotated'),
      grantTypes: ['client_credentials', 'password', 'refresh_token'],
      scopes: ['internal_user_mgt_list', 'internal_login'],
    });
    const auth = clientBasic(client.clientId, client.clientSecret);
    const machine = json(await oauthPost(t, 'token', { grant_type: 'client_credentials' }, auth));
    const userName = uniqueName('via-client');
    await createUser(t, userName);
    const viaClient = json(
      await oauthPost(
        t,
        'token',
        { grant_type: 'password', username: userName, password: `${userName}-password` },
        auth,
      ),
    );
    const list = (instance: TestApp, token: unknown) =>
      scimRequest(instance, { method: 'GET', url: '/scim2/Users?count=1', auth: bearer(String(token)) });
    expect((await list(other, machine.access_token)).statusCode).toBe(200);

    const rotate = await t.app.inject({
      method: 'POST',
      url: `/api/server/v1/oauth-clients/${client.clientId}/secret`,
      headers: { authorization: t.adminAuth },
    });
    expect(rotate.statusCode, rotate.body).toBe(200);
    const rotatedAt = performance.now();
    const newSecret = String(json(rotate).clientSecret);
    expect((await list(t, machine.access_token)).statusCode).toBe(401);
    await expectRefusedWithin(() => list(other, machine.access_token), rotatedAt);
    await expectRefusedWithin(
      () => scimRequest(other, { method: 'GET', url: '/scim2/Me', auth: bearer(String(viaClient.access_token)) }),
      rotatedAt,
    );
    const newAuth = clientBasic(client.clientId, newSecret);
    const refreshed = await oauthPost(
      t,
      'token',
      { grant_type: 'refresh_token', refresh_token: String(viaClient.refresh_token) },
      newAuth,
    );
    expect(refreshed.statusCode, refreshed.body).toBe(400);

    const renewed = json(await oauthPost(t, 'token', { grant_type: 'client_credentials' }, newAuth));
    expect((await list(other, renewed.access_token)).statusCode).toBe(200);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/server/v1/oauth-clients/${client.clientId}`,
      headers: { authorization: t.adminAuth },
    });
    expect(removed.statusCode).toBe(204);
    const removedAt = performance.now();
    expect((await list(t, renewed.access_token)).statusCode).toBe(401);
    await expectRefusedWithin(() => list(other, renewed.access_token), removedAt);
  });
});
