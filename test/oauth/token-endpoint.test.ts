import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../../src/auth/permissions.js';
import {
  ADMIN,
  createUser,
  json,
  patchBody,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';
import {
  bearer,
  clientBasic,
  decodeJwtParts,
  FORM,
  oauthPost,
  passwordToken,
  registerClient,
  type TokenBody,
} from './oauth-helpers.js';

describe('POST /oauth2/token', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  async function adminId(): Promise<string> {
    const row = await t.db
      .selectFrom('users')
      .select('id')
      .where('user_name', '=', ADMIN.userName)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  describe('password grant', () => {
    it("issues a signed JWT with the administrator's scopes and a refresh token", async () => {
      const response = await oauthPost(t, 'token', {
        grant_type: 'password',
        username: ADMIN.userName,
        password: ADMIN.password,
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers.pragma).toBe('no-cache');
      const body = response.json<TokenBody>();
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect(body.scope.split(' ').sort()).toEqual([...ALL_SCOPES].sort());
      expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{40,}$/);

      const { header, payload } = decodeJwtParts(body.access_token);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
      expect(header.kid).toEqual(expect.any(String));
      expect(payload).toMatchObject({
        sub: await adminId(),
        username: ADMIN.userName,
        scope: body.scope,
        iss: 'urn:scim-mobile-verify',
        aud: 'urn:scim-mobile-verify',
        aut: 'APPLICATION_USER',
      });
      expect(payload.jti).toEqual(expect.any(String));
      expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);
    });

    it('gives an ordinary user internal_login only, and refuses more with invalid_scope', async () => {
      const userName = uniqueName('pw');
      await createUser(t, userName);
      const token = await passwordToken(t, userName, `${userName}-password`);
      expect(token.scope).toBe('internal_login');

      const wider = await oauthPost(t, 'token', {
        grant_type: 'password',
        username: userName,
        password: `${userName}-password`,
        scope: 'internal_login internal_user_mgt_view',
      });
      expect(wider.statusCode).toBe(400);
      expect(json(wider)).toMatchObject({ error: 'invalid_scope' });
      expect(wider.headers['cache-control']).toBe('no-store');
    });

    it('grants exactly the scopes asked for, within what the user may have', async () => {
      const token = await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_user_mgt_view internal_login');
      expect(token.scope).toBe('internal_user_mgt_view internal_login');
      expect(decodeJwtParts(token.access_token).payload.scope).toBe('internal_user_mgt_view internal_login');
      const unknown = await oauthPost(t, 'token', {
        grant_type: 'password',
        username: ADMIN.userName,
        password: ADMIN.password,
        scope: 'openid',
      });
      expect(json(unknown)).toMatchObject({ error: 'invalid_scope' });
    });

    it('answers invalid_grant to a wrong password, an unknown user and a disabled user', async () => {
      const userName = uniqueName('pwbad');
      const user = await createUser(t, userName);
      const attempts = [
        { username: userName, password: 'wrong' },
        { username: 'no-such-user', password: 'whatever' },
      ];
      for (const attempt of attempts) {
        const response = await oauthPost(t, 'token', { grant_type: 'password', ...attempt });
        expect(response.statusCode).toBe(400);
        expect(json(response)).toEqual({ error: 'invalid_grant', error_description: 'Invalid username or password' });
      }
      await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${user.id}`,
        body: patchBody({ op: 'replace', path: 'active', value: false }),
      });
      const disabled = await oauthPost(t, 'token', {
        grant_type: 'password',
        username: userName,
        password: `${userName}-password`,
      });
      expect(json(disabled)).toMatchObject({ error: 'invalid_grant' });
    });

    it('needs username and password', async () => {
      const response = await oauthPost(t, 'token', { grant_type: 'password', username: ADMIN.userName });
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('request format', () => {
    it('answers unsupported_grant_type, and invalid_request without grant_type', async () => {
      const unsupported = await oauthPost(t, 'token', {
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        device_code: 'x',
      });
      expect(unsupported.statusCode).toBe(400);
      expect(json(unsupported)).toMatchObject({ error: 'unsupported_grant_type' });
      const missing = await oauthPost(t, 'token', { username: 'a', password: 'b' });
      expect(json(missing)).toMatchObject({ error: 'invalid_request' });
    });

    it('refuses a repeated parameter and a JSON body with invalid_request', async () => {
      const repeated = await t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': FORM },
        payload: 'grant_type=password&username=a&username=b&password=c',
      });
      expect(repeated.statusCode).toBe(400);
      expect(json(repeated)).toMatchObject({ error: 'invalid_request' });

      const asJson = await t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ grant_type: 'password', username: ADMIN.userName, password: ADMIN.password }),
      });
      expect(asJson.statusCode).toBe(400);
      expect(json(asJson)).toMatchObject({ error: 'invalid_request' });
    });

    it('accepts a charset parameter on the form content type, and answers 405 to GET', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': `${FORM}; charset=UTF-8` },
        payload: new URLSearchParams({
          grant_type: 'password',
          username: ADMIN.userName,
          password: ADMIN.password,
        }).toString(),
      });
      expect(response.statusCode).toBe(200);
      const get = await t.app.inject({ method: 'GET', url: '/oauth2/token' });
      expect(get.statusCode).toBe(405);
      expect(json(get)).toMatchObject({ error: 'invalid_request' });
    });
  });

  describe('client_credentials grant', () => {
    it('issues a client token (no user, no refresh token) with HTTP Basic or form credentials', async () => {
      const client = await registerClient(t, {
        name: 'Provisioning',
        grantTypes: ['client_credentials'],
        scopes: ['internal_user_mgt_list', 'internal_user_mgt_view'],
      });
      const viaBasic = await oauthPost(
        t,
        'token',
        { grant_type: 'client_credentials' },
        clientBasic(client.clientId, client.clientSecret),
      );
      expect(viaBasic.statusCode).toBe(200);
      const body = viaBasic.json<TokenBody>();
      expect(body.refresh_token).toBeUndefined();
      expect(body.scope).toBe('internal_user_mgt_list internal_user_mgt_view');
      expect(decodeJwtParts(body.access_token).payload).toMatchObject({
        sub: client.clientId,
        client_id: client.clientId,
        aut: 'APPLICATION',
      });
      expect(decodeJwtParts(body.access_token).payload.username).toBeUndefined();

      const viaForm = await oauthPost(t, 'token', {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: client.clientSecret,
        scope: 'internal_user_mgt_view',
      });
      expect(viaForm.statusCode).toBe(200);
      expect(viaForm.json<TokenBody>().scope).toBe('internal_user_mgt_view');

      const beyond = await oauthPost(
        t,
        'token',
        { grant_type: 'client_credentials', scope: 'internal_user_mgt_delete' },
        clientBasic(client.clientId, client.clientSecret),
      );
      expect(json(beyond)).toMatchObject({ error: 'invalid_scope' });
    });

    it('answers 401 invalid_client to a wrong secret, an unknown client and no client at all', async () => {
      const client = await registerClient(t, { name: 'C', grantTypes: ['client_credentials'], scopes: [] });
      const attempts = [
        clientBasic(client.clientId, 'not-the-secret'),
        clientBasic('no-such-client', client.clientSecret),
        undefined,
      ];
      for (const authorization of attempts) {
        const response = await oauthPost(t, 'token', { grant_type: 'client_credentials' }, authorization);
        expect(response.statusCode).toBe(401);
        expect(json(response)).toMatchObject({ error: 'invalid_client' });
        expect(response.headers['www-authenticate']).toMatch(/^Basic realm=/);
      }
      const formWrong = await oauthPost(t, 'token', {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        client_secret: 'wrong',
      });
      expect(formWrong.statusCode).toBe(401);
      const both = await oauthPost(
        t,
        'token',
        { grant_type: 'client_credentials', client_secret: client.clientSecret },
        clientBasic(client.clientId, client.clientSecret),
      );
      expect(json(both)).toMatchObject({ error: 'invalid_request' });
    });

    it('answers unauthorized_client to a grant the client does not list', async () => {
      const client = await registerClient(t, { name: 'CC only', grantTypes: ['client_credentials'], scopes: [] });
      const response = await oauthPost(
        t,
        'token',
        { grant_type: 'password', username: ADMIN.userName, password: ADMIN.password },
        clientBasic(client.clientId, client.clientSecret),
      );
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ error: 'unauthorized_client' });
    });
  });

  describe('password grant through a registered client', () => {
    it("caps the scopes by the client's, and gives a refresh token only when the client lists refresh_token", async () => {
      const withRefresh = await registerClient(t, {
        name: 'App',
        grantTypes: ['password', 'refresh_token'],
        scopes: ['internal_login', 'internal_user_mgt_view'],
      });
      const response = await oauthPost(
        t,
        'token',
        { grant_type: 'password', username: ADMIN.userName, password: ADMIN.password },
        clientBasic(withRefresh.clientId, withRefresh.clientSecret),
      );
      expect(response.statusCode).toBe(200);
      const body = response.json<TokenBody>();
      expect(body.scope).toBe('internal_login internal_user_mgt_view');
      expect(body.refresh_token).toEqual(expect.any(String));
      expect(decodeJwtParts(body.access_token).payload).toMatchObject({ client_id: withRefresh.clientId });

      const noRefresh = await registerClient(t, { name: 'App2', grantTypes: ['password'], scopes: ['internal_login'] });
      const second = await oauthPost(
        t,
        'token',
        { grant_type: 'password', username: ADMIN.userName, password: ADMIN.password },
        clientBasic(noRefresh.clientId, noRefresh.clientSecret),
      );
      expect(second.json<TokenBody>().refresh_token).toBeUndefined();
    });
  });

  describe('refresh_token grant', () => {
    it('rotates the refresh token on use; a rotated one used again kills the whole grant', async () => {
      const first = await passwordToken(t, ADMIN.userName, ADMIN.password);
      const refreshed = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(first.refresh_token),
      });
      expect(refreshed.statusCode).toBe(200);
      const second = refreshed.json<TokenBody>();
      expect(second.refresh_token).toEqual(expect.any(String));
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.access_token).not.toBe(first.access_token);
      expect(second.scope).toBe(first.scope);
      const users = await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(second.access_token) });
      expect(users.statusCode).toBe(200);

      const replay = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(first.refresh_token),
      });
      expect(replay.statusCode).toBe(400);
      expect(json(replay)).toMatchObject({ error: 'invalid_grant' });
      // The grant is revoked: the newer refresh token and the access tokens it produced die with it.
      const next = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(second.refresh_token),
      });
      expect(json(next)).toMatchObject({ error: 'invalid_grant' });
      const after = await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(second.access_token) });
      expect(after.statusCode).toBe(401);
    });

    it('may narrow the scope, never widen it', async () => {
      const first = await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_login internal_user_mgt_view');
      const narrower = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(first.refresh_token),
        scope: 'internal_login',
      });
      expect(narrower.json<TokenBody>().scope).toBe('internal_login');
      const wider = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(narrower.json<TokenBody>().refresh_token),
        scope: 'internal_login internal_user_mgt_delete',
      });
      expect(json(wider)).toMatchObject({ error: 'invalid_scope' });
    });

    it('refuses an unknown, an expired and a client-bound refresh token presented without the client', async () => {
      const unknown = await oauthPost(t, 'token', { grant_type: 'refresh_token', refresh_token: 'nope' });
      expect(json(unknown)).toMatchObject({ error: 'invalid_grant' });
      expect(json(await oauthPost(t, 'token', { grant_type: 'refresh_token' }))).toMatchObject({
        error: 'invalid_request',
      });

      const client = await registerClient(t, {
        name: 'Bound',
        grantTypes: ['password', 'refresh_token'],
        scopes: ['internal_login'],
      });
      const issued = await oauthPost(
        t,
        'token',
        { grant_type: 'password', username: ADMIN.userName, password: ADMIN.password },
        clientBasic(client.clientId, client.clientSecret),
      );
      const refreshToken = String(issued.json<TokenBody>().refresh_token);
      const withoutClient = await oauthPost(t, 'token', { grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(withoutClient.statusCode).toBe(401);
      expect(json(withoutClient)).toMatchObject({ error: 'invalid_client' });
      const other = await registerClient(t, { name: 'Other', grantTypes: ['password', 'refresh_token'], scopes: [] });
      const wrongClient = await oauthPost(
        t,
        'token',
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        clientBasic(other.clientId, other.clientSecret),
      );
      expect(json(wrongClient)).toMatchObject({ error: 'invalid_grant' });
      const rightClient = await oauthPost(
        t,
        'token',
        { grant_type: 'refresh_token', refresh_token: refreshToken },
        clientBasic(client.clientId, client.clientSecret),
      );
      expect(rightClient.statusCode).toBe(200);

      const expiring = await passwordToken(t, ADMIN.userName, ADMIN.password);
      t.clock.advance(86_400_000 + 1000);
      const expired = await oauthPost(t, 'token', {
        grant_type: 'refresh_token',
        refresh_token: String(expiring.refresh_token),
      });
      expect(json(expired)).toMatchObject({ error: 'invalid_grant' });
    });
  });
});
