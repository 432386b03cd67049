import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listedRoutes } from '../../src/auth/permissions.js';
import {
  ADMIN,
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
import {
  bearer,
  clientBasic,
  decodeJwtParts,
  oauthPost,
  passwordToken,
  registerClient,
  type TokenBody,
} from './oauth-helpers.js';

describe('bearer tokens on the API', () => {
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    adminToken = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
  });
  afterAll(async () => t.close());

  const get = (url: string, auth: string | null) => scimRequest(t, { method: 'GET', url, auth });

  function expectInvalidToken(response: Awaited<ReturnType<typeof get>>, description?: RegExp): void {
    expect(response.statusCode).toBe(401);
    const challenge = String(response.headers['www-authenticate']);
    expect(challenge).toMatch(/^Bearer realm="scim", error="invalid_token"/);
    if (description !== undefined) expect(challenge).toMatch(description);
  }

  it('a 401 without credentials offers both schemes', async () => {
    for (const url of ['/scim2/Me', '/api/identity/user/v1.0/me/resend-code', '/api/server/v1/oauth-clients']) {
      const response = await t.app.inject({ method: url.includes('resend') ? 'POST' : 'GET', url });
      expect(response.statusCode).toBe(401);
      const challenge = String(response.headers['www-authenticate']);
      expect(challenge).toMatch(/Basic realm="scim"/);
      expect(challenge).toMatch(/Bearer realm="scim"/);
      expect(challenge).not.toMatch(/error=/);
    }
  });

  it('the administrator token reaches the administration routes; Basic keeps working', async () => {
    expect((await get('/scim2/Users', bearer(adminToken))).statusCode).toBe(200);
    expect((await get('/scim2/Users', t.adminAuth)).statusCode).toBe(200);
    const user = await createUser(t, uniqueName('basic'));
    expect((await get('/scim2/Users', user.auth)).statusCode).toBe(403);
    expect((await get('/scim2/Me', user.auth)).statusCode).toBe(200);
  });

  it("a user's token works on /scim2/Me and the /me code routes, and gets 403 insufficient_scope elsewhere", async () => {
    const userName = uniqueName('self');
    const user = await createUser(t, userName);
    const token = (await passwordToken(t, userName, `${userName}-password`)).access_token;
    const me = await get('/scim2/Me', bearer(token));
    expect(me.statusCode).toBe(200);
    expect(json(me).id).toBe(user.id);
    const patched = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: bearer(token),
      body: patchBody({ op: 'replace', path: 'name.givenName', value: 'Selfie' }),
    });
    expect(patched.statusCode).toBe(200);

    const list = await get('/scim2/Users', bearer(token));
    expect(list.statusCode).toBe(403);
    expect(list.headers['www-authenticate']).toBe(
      'Bearer realm="scim", error="insufficient_scope", error_description="The access token lacks a required scope", scope="internal_user_mgt_list"',
    );
    expect(json(list)).toMatchObject({ schemas: [SCIM.error], status: '403' });
    const own = await get(`/scim2/Users/${user.id}`, bearer(token));
    expect(own.statusCode).toBe(403);
    expect(own.headers['www-authenticate']).toMatch(/scope="internal_user_mgt_view"/);

    const privileged = await t.app.inject({
      method: 'POST',
      url: '/api/identity/user/v1.0/validate-code',
      headers: { authorization: bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ code: '123456', properties: [] }),
    });
    expect(privileged.statusCode).toBe(403);
    expect(privileged.headers['www-authenticate']).toMatch(/scope="internal_user_mgt_update"/);
    expect(json(privileged)).toMatchObject({ code: '403' });
  });

  it('each user operation needs its own scope', async () => {
    const target = await createUser(t, uniqueName('scoped'));
    const viewOnly = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_user_mgt_view')).access_token;
    expect((await get(`/scim2/Users/${target.id}`, bearer(viewOnly))).statusCode).toBe(200);
    expect((await get('/scim2/Users', bearer(viewOnly))).statusCode).toBe(403);
    const patch = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${target.id}`,
      auth: bearer(viewOnly),
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.headers['www-authenticate']).toMatch(/scope="internal_user_mgt_update"/);
    const del = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${target.id}`, auth: bearer(viewOnly) });
    expect(del.headers['www-authenticate']).toMatch(/scope="internal_user_mgt_delete"/);
    const create = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      auth: bearer(viewOnly),
      body: { schemas: [SCIM.core], userName: uniqueName('nope') },
    });
    expect(create.headers['www-authenticate']).toMatch(/scope="internal_user_mgt_create"/);
    // Without internal_login, an administrator's token does not reach /Me either.
    expect((await get('/scim2/Me', bearer(viewOnly))).statusCode).toBe(403);

    const deleter = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_user_mgt_delete')).access_token;
    const deleted = await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${target.id}`, auth: bearer(deleter) });
    expect(deleted.statusCode).toBe(204);
  });

  it('a client token has scopes but no user: /Me is 403, administration works by scope', async () => {
    const client = await registerClient(t, {
      name: 'Entra provisioning',
      grantTypes: ['client_credentials'],
      scopes: ['internal_login', 'internal_user_mgt_list', 'internal_user_mgt_create'],
    });
    const issued = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    const token = issued.json<TokenBody>().access_token;
    expect((await get('/scim2/Users', bearer(token))).statusCode).toBe(200);
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      auth: bearer(token),
      body: { schemas: [SCIM.core], userName: uniqueName('provisioned') },
    });
    expect(created.statusCode).toBe(201);
    const me = await get('/scim2/Me', bearer(token));
    expect(me.statusCode).toBe(403);
    const resend = await t.app.inject({
      method: 'POST',
      url: '/api/identity/user/v1.0/me/resend-code',
      headers: { authorization: bearer(token), 'content-type': 'application/json' },
      payload: JSON.stringify({ properties: [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }] }),
    });
    expect(resend.statusCode).toBe(403);

    // Deleting the client ends its tokens.
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/server/v1/oauth-clients/${client.clientId}`,
      headers: { authorization: t.adminAuth },
    });
    expect(removed.statusCode).toBe(204);
    expectInvalidToken(await get('/scim2/Users', bearer(token)));
  });

  it('401 for a forged token: another key, an unknown kid, alg none, HS256, a tampered payload, garbage', async () => {
    const genuine = decodeJwtParts(adminToken);
    const { privateKey } = await generateKeyPair('ES256');
    const now = Math.floor(t.clock.now().getTime() / 1000);
    const forge = (kid: unknown) =>
      new SignJWT({ ...genuine.payload, jti: randomUUID() })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: String(kid) })
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
    expectInvalidToken(await get('/scim2/Users', bearer(await forge(genuine.header.kid))), /signature/);
    expectInvalidToken(await get('/scim2/Users', bearer(await forge('unknown-kid'))), /signature/);

    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const none = `${encode({ alg: 'none', typ: 'at+jwt' })}.${encode(genuine.payload)}.`;
    expectInvalidToken(await get('/scim2/Users', bearer(none)));
    const hs256 = await new SignJWT(genuine.payload)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: String(genuine.header.kid) })
      .sign(new TextEncoder().encode('a-guessed-shared-secret-of-32-bytes!'));
    expectInvalidToken(await get('/scim2/Users', bearer(hs256)));

    const [header, , signature] = adminToken.split('.');
    const tampered = `${header}.${encode({ ...genuine.payload, scope: 'internal_login internal_user_mgt_delete' })}.${signature}`;
    expectInvalidToken(await get('/scim2/Users', bearer(tampered)), /signature/);
    expectInvalidToken(await get('/scim2/Users', bearer('not-a-jwt')), /malformed/);
    expectInvalidToken(await get('/scim2/Users', 'Bearer'));
  });

  it('401 for a token of another issuer or audience', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ scope: 'internal_login' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer('https://elsewhere.example')
      .setSubject(randomUUID())
      .setExpirationTime('10m')
      .sign(privateKey);
    expectInvalidToken(await get('/scim2/Me', bearer(token)), /trusted issuer/);
  });

  it('401 once the token has expired', async () => {
    const token = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
    expect((await get('/scim2/Users', bearer(token))).statusCode).toBe(200);
    t.clock.advance(3600 * 1000 + 10_000);
    expectInvalidToken(await get('/scim2/Users', bearer(token)), /expired/);
    adminToken = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
  });

  it('401 for a revoked token (RFC 7009), and 200 to revoking an unknown token', async () => {
    const issued = await passwordToken(t, ADMIN.userName, ADMIN.password);
    const revoke = await oauthPost(t, 'revoke', { token: issued.access_token, token_type_hint: 'access_token' });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.body).toBe('');
    expectInvalidToken(await get('/scim2/Users', bearer(issued.access_token)), /revoked/);
    // The refresh token of the same login still works: revoking an access token leaves the grant alone.
    const refreshed = await oauthPost(t, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(issued.refresh_token),
    });
    expect(refreshed.statusCode).toBe(200);
    const fresh = refreshed.json<TokenBody>();

    // Revoking the refresh token ends the grant, and every access token it produced.
    expect((await oauthPost(t, 'revoke', { token: String(fresh.refresh_token) })).statusCode).toBe(200);
    expectInvalidToken(await get('/scim2/Users', bearer(fresh.access_token)), /revoked/);
    const refreshAgain = await oauthPost(t, 'token', {
      grant_type: 'refresh_token',
      refresh_token: String(fresh.refresh_token),
    });
    expect(json(refreshAgain)).toMatchObject({ error: 'invalid_grant' });

    expect((await oauthPost(t, 'revoke', { token: 'unknown-token' })).statusCode).toBe(200);
    expect(json(await oauthPost(t, 'revoke', {}))).toMatchObject({ error: 'invalid_request' });
  });

  it("a client's token can only be revoked by that client", async () => {
    const client = await registerClient(t, {
      name: 'Rev',
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_list'],
    });
    const other = await registerClient(t, { name: 'Rev2', grantTypes: ['client_credentials'], scopes: [] });
    const token = (
      await oauthPost(
        t,
        'token',
        { grant_type: 'client_credentials' },
        clientBasic(client.clientId, client.clientSecret),
      )
    ).json<TokenBody>().access_token;
    const anonymous = await oauthPost(t, 'revoke', { token });
    expect(anonymous.statusCode).toBe(401);
    expect(json(anonymous)).toMatchObject({ error: 'invalid_client' });
    expect((await oauthPost(t, 'revoke', { token }, clientBasic(other.clientId, other.clientSecret))).statusCode).toBe(
      200,
    );
    expect((await get('/scim2/Users', bearer(token))).statusCode).toBe(200);
    expect(
      (await oauthPost(t, 'revoke', { token }, clientBasic(client.clientId, client.clientSecret))).statusCode,
    ).toBe(200);
    expectInvalidToken(await get('/scim2/Users', bearer(token)), /revoked/);
  });

  it('401 when the user is disabled, deleted or demoted (issue #11: demotion ends the login)', async () => {
    const userName = uniqueName('gone');
    const user = await createUser(t, userName, { roles: [{ value: 'admin' }] });
    const token = (await passwordToken(t, userName, `${userName}-password`)).access_token;
    expect((await get('/scim2/Users', bearer(token))).statusCode).toBe(200);

    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'roles', value: [] }),
    });
    expectInvalidToken(await get('/scim2/Users', bearer(token)), /revoked/);
    const ownToken = (await passwordToken(t, userName, `${userName}-password`)).access_token;
    expect((await get('/scim2/Me', bearer(ownToken))).statusCode).toBe(200);
    expect((await get('/scim2/Users', bearer(ownToken))).statusCode).toBe(403);

    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expectInvalidToken(await get('/scim2/Me', bearer(ownToken)));

    const other = uniqueName('deleted');
    const deleted = await createUser(t, other);
    const otherToken = (await passwordToken(t, other, `${other}-password`)).access_token;
    await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${deleted.id}` });
    expectInvalidToken(await get('/scim2/Me', bearer(otherToken)));
  });

  it('the SMS sender and delivery routes take the configuration scopes', async () => {
    const full = bearer(adminToken);
    const senders = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/notification-senders/sms',
      headers: { authorization: full },
    });
    expect(senders.statusCode).toBe(200);
    const deliveries = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/sms-deliveries',
      headers: { authorization: full },
    });
    expect(deliveries.statusCode).toBe(200);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/audit-events',
      headers: { authorization: full },
    });
    expect(audit.statusCode).toBe(200);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/notification-senders/sms/nothing-here',
      headers: { authorization: full },
    });
    expect(missing.statusCode).toBe(404);

    const viewOnly = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_config_mgt_view')).access_token;
    const remove = await t.app.inject({
      method: 'DELETE',
      url: '/api/server/v1/notification-senders/sms/nothing-here',
      headers: { authorization: bearer(viewOnly) },
    });
    expect(remove.statusCode).toBe(403);
    expect(remove.headers['www-authenticate']).toMatch(/scope="internal_config_mgt_delete"/);
    const user = uniqueName('cfg');
    await createUser(t, user);
    const userToken = (await passwordToken(t, user, `${user}-password`)).access_token;
    const denied = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/sms-deliveries',
      headers: { authorization: bearer(userToken) },
    });
    expect(denied.statusCode).toBe(403);
  });

  it('every route in the permissions table exists', () => {
    for (const { method, url } of listedRoutes()) {
      expect(t.app.hasRoute({ method: method as 'GET', url }), `${method} ${url}`).toBe(true);
    }
  });

  it('ServiceProviderConfig lists oauthbearertoken beside httpbasic', async () => {
    const response = await get('/scim2/ServiceProviderConfig', null);
    const schemes = json(response).authenticationSchemes as { type: string }[];
    expect(schemes.map((scheme) => scheme.type)).toEqual(['httpbasic', 'oauthbearertoken']);
  });

  it('never logs a token or a secret', async () => {
    const issued = await passwordToken(t, ADMIN.userName, ADMIN.password);
    await get('/scim2/Users', bearer(issued.access_token));
    await oauthPost(t, 'revoke', { token: String(issued.refresh_token) });
    const logs = t.logs.join('\n');
    expect(logs).not.toContain(issued.access_token);
    expect(logs).not.toContain(issued.access_token.split('.')[2]);
    expect(logs).not.toContain(String(issued.refresh_token));
    expect(logs).not.toContain(ADMIN.password);
    expect(logs).not.toContain(basicAuth(ADMIN.userName, ADMIN.password).slice(6));
  });
});
