import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, clientBasic, oauthPost, passwordToken, registerClient } from '../oauth/oauth-helpers.js';
import {
  ADMIN,
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

/** Issue #11 point 1: user-management scopes never reach administration. */
describe('no escalation through SCIM roles, active or passwords', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  async function clientToken(scopes: string[]): Promise<string> {
    const client = await registerClient(t, { name: uniqueName('c'), grantTypes: ['client_credentials'], scopes });
    const response = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    expect(response.statusCode, response.body).toBe(200);
    return json(response).access_token as string;
  }

  const asAdminRole = { roles: [{ value: 'admin' }] };

  it('a token with only internal_user_mgt_create cannot create an administrator', async () => {
    const token = await clientToken(['internal_user_mgt_create']);
    const userName = uniqueName('wannabe');
    const refused = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      auth: bearer(token),
      body: { schemas: [SCIM.core], userName, password: 'pw-123456', ...asAdminRole },
    });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(json(refused).detail).toMatch(/internal_role_mgt_update/);
    const plain = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      auth: bearer(token),
      body: { schemas: [SCIM.core], userName, password: 'pw-123456' },
    });
    expect(plain.statusCode, plain.body).toBe(201);
    expect((await storedUser(t, String(json(plain).id))).row?.is_admin).toBe(false);
  });

  it('a token with only internal_user_mgt_update cannot promote (PATCH or PUT) and the user gets no admin scopes', async () => {
    const token = await clientToken(['internal_user_mgt_update']);
    const userName = uniqueName('plain');
    const user = await createUser(t, userName);
    const patch = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      auth: bearer(token),
      body: patchBody({ op: 'add', path: 'roles', value: [{ value: 'admin' }] }),
    });
    expect(patch.statusCode, patch.body).toBe(403);
    const put = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Users/${user.id}`,
      auth: bearer(token),
      body: { schemas: [SCIM.core], userName, ...asAdminRole },
    });
    expect(put.statusCode, put.body).toBe(403);
    expect((await storedUser(t, user.id)).row?.is_admin).toBe(false);
    const own = await passwordToken(t, userName, `${userName}-password`);
    expect(own.scope).toBe('internal_login');
  });

  it("a token without the role scope cannot reset an administrator's password, disable or delete one", async () => {
    const token = await clientToken(['internal_user_mgt_update', 'internal_user_mgt_delete']);
    const other = await createUser(t, uniqueName('second-admin'), asAdminRole);
    const userName = String(other.body.userName);
    const reset = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${other.id}`,
      auth: bearer(token),
      body: patchBody({ op: 'replace', path: 'password', value: 'attacker-knows-this' }),
    });
    expect(reset.statusCode, reset.body).toBe(403);
    const disable = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${other.id}`,
      auth: bearer(token),
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expect(disable.statusCode, disable.body).toBe(403);
    const removed = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${other.id}`, auth: bearer(token) });
    expect(removed.statusCode, removed.body).toBe(403);
    const { row } = await storedUser(t, other.id);
    expect(row?.active).toBe(true);
    // The administrator's own password still works (it was not replaced).
    await passwordToken(t, userName, `${userName}-password`);
    // Ordinary profile edits of an administrator stay possible with user management alone.
    const edit = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${other.id}`,
      auth: bearer(token),
      body: patchBody({ op: 'replace', path: 'displayName', value: 'Second Admin' }),
    });
    expect(edit.statusCode, edit.body).toBe(200);
  });

  it('internal_role_mgt_update, or a Basic administrator, may grant and revoke administration', async () => {
    const token = await clientToken(['internal_user_mgt_update', 'internal_role_mgt_update']);
    const user = await createUser(t, uniqueName('promoted'));
    const promote = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      auth: bearer(token),
      body: patchBody({ op: 'add', path: 'roles', value: [{ value: 'admin' }] }),
    });
    expect(promote.statusCode, promote.body).toBe(200);
    expect((await storedUser(t, user.id)).row?.is_admin).toBe(true);
    const demote = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'remove', path: 'roles' }),
    });
    expect(demote.statusCode, demote.body).toBe(200);
    expect((await storedUser(t, user.id)).row?.is_admin).toBe(false);
  });

  it('a token may register OAuth clients only with scopes it holds itself', async () => {
    const token = await clientToken(['internal_application_mgt_create', 'internal_user_mgt_view']);
    const register = (scopes: string[]) =>
      t.app.inject({
        method: 'POST',
        url: '/api/server/v1/oauth-clients',
        headers: { authorization: bearer(token), 'content-type': 'application/json' },
        payload: { name: uniqueName('spawn'), grantTypes: ['client_credentials'], scopes },
      });
    const beyond = await register(['internal_user_mgt_view', 'internal_role_mgt_update']);
    expect(beyond.statusCode, beyond.body).toBe(403);
    expect((await register(['internal_user_mgt_view'])).statusCode).toBe(201);
  });

  it('the first administrator keeps every scope, the role scope included', async () => {
    const token = await passwordToken(t, ADMIN.userName, ADMIN.password);
    expect(token.scope.split(' ')).toContain('internal_role_mgt_update');
  });
});
