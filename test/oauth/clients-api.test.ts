import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createUser, json, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';
import { bearer, clientBasic, oauthPost, passwordToken, registerClient } from './oauth-helpers.js';

const BASE = '/api/server/v1/oauth-clients';

describe('registered OAuth clients: /api/server/v1/oauth-clients', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, authorization: string, payload?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: { authorization, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });

  it('creates a client and shows its secret once; only a hash is stored', async () => {
    const response = await call('POST', BASE, t.adminAuth, {
      name: 'Okta provisioning',
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_list', 'internal_user_mgt_create'],
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = json(response);
    expect(body).toMatchObject({
      name: 'Okta provisioning',
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_list', 'internal_user_mgt_create'],
    });
    const clientId = String(body.clientId);
    const clientSecret = String(body.clientSecret);
    expect(clientSecret.length).toBeGreaterThanOrEqual(40);
    expect(response.headers.location).toBe(`${BASE}/${clientId}`);

    const row = await t.db
      .selectFrom('oauth_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toMatch(/^scrypt\$/);
    expect(row.secret_hash).not.toContain(clientSecret);

    const read = await call('GET', `${BASE}/${clientId}`, t.adminAuth);
    expect(read.statusCode).toBe(200);
    expect(json(read).clientSecret).toBeUndefined();
    expect(json(read)).toMatchObject({ clientId, name: 'Okta provisioning' });

    const list = await call('GET', BASE, t.adminAuth);
    expect(list.statusCode).toBe(200);
    const clients = json(list).clients as Record<string, unknown>[];
    expect(clients.map((client) => client.clientId)).toContain(clientId);
    expect(clients.every((client) => client.clientSecret === undefined)).toBe(true);
    expect(list.body).not.toContain(clientSecret);
  });

  it('rotating the secret makes the old one fail and the new one work', async () => {
    const client = await registerClient(t, { name: 'Rotate me', grantTypes: ['client_credentials'], scopes: [] });
    const rotated = await call('POST', `${BASE}/${client.clientId}/secret`, t.adminAuth);
    expect(rotated.statusCode).toBe(200);
    const newSecret = String(json(rotated).clientSecret);
    expect(newSecret).not.toBe(client.clientSecret);
    const old = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    expect(old.statusCode).toBe(401);
    const fresh = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, newSecret),
    );
    expect(fresh.statusCode).toBe(200);
  });

  it('deletes a client: 204, then 404, and it can no longer authenticate', async () => {
    const client = await registerClient(t, { name: 'Delete me', grantTypes: ['client_credentials'], scopes: [] });
    expect((await call('DELETE', `${BASE}/${client.clientId}`, t.adminAuth)).statusCode).toBe(204);
    const again = await call('DELETE', `${BASE}/${client.clientId}`, t.adminAuth);
    expect(again.statusCode).toBe(404);
    expect(json(again)).toMatchObject({ code: 'APP-60006' });
    expect((await call('GET', `${BASE}/${client.clientId}`, t.adminAuth)).statusCode).toBe(404);
    expect((await call('POST', `${BASE}/${client.clientId}/secret`, t.adminAuth)).statusCode).toBe(404);
    const token = await oauthPost(
      t,
      'token',
      { grant_type: 'client_credentials' },
      clientBasic(client.clientId, client.clientSecret),
    );
    expect(token.statusCode).toBe(401);
  });

  it('validates the body: grant types, scopes, name', async () => {
    const bad = [
      { name: 'x', grantTypes: ['implicit'], scopes: [] },
      { name: 'x', grantTypes: [], scopes: [] },
      { name: 'x', grantTypes: ['refresh_token'], scopes: [] },
      { name: 'x', grantTypes: ['client_credentials'], scopes: ['openid'] },
      { name: '', grantTypes: ['client_credentials'], scopes: [] },
      { name: 'x', grantTypes: ['client_credentials'] },
      { name: 'x', grantTypes: ['client_credentials'], scopes: [], clientSecret: 'mine' },
    ];
    for (const body of bad) {
      const response = await call('POST', BASE, t.adminAuth, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it('is for administrators: 401 anonymous, 403 for users; bearer callers need internal_application_mgt_*', async () => {
    expect((await t.app.inject({ method: 'GET', url: BASE })).statusCode).toBe(401);
    const userName = uniqueName('apps');
    const user = await createUser(t, userName);
    expect((await call('GET', BASE, user.auth)).statusCode).toBe(403);
    expect(
      (await call('POST', BASE, user.auth, { name: 'x', grantTypes: ['client_credentials'], scopes: [] })).statusCode,
    ).toBe(403);

    const viewer = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_application_mgt_view'))
      .access_token;
    expect((await call('GET', BASE, bearer(viewer))).statusCode).toBe(200);
    const create = await call('POST', BASE, bearer(viewer), {
      name: 'x',
      grantTypes: ['client_credentials'],
      scopes: [],
    });
    expect(create.statusCode).toBe(403);
    expect(create.headers['www-authenticate']).toMatch(/scope="internal_application_mgt_create"/);

    const creator = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_application_mgt_create'))
      .access_token;
    const created = await call('POST', BASE, bearer(creator), {
      name: 'y',
      grantTypes: ['client_credentials'],
      scopes: [],
    });
    expect(created.statusCode).toBe(201);
    const id = String(json(created).clientId);
    expect((await call('POST', `${BASE}/${id}/secret`, bearer(creator))).headers['www-authenticate']).toMatch(
      /scope="internal_application_mgt_update"/,
    );
    expect((await call('DELETE', `${BASE}/${id}`, bearer(creator))).headers['www-authenticate']).toMatch(
      /scope="internal_application_mgt_delete"/,
    );
    expect((await call('PUT', `${BASE}/${id}`, t.adminAuth, {})).statusCode).toBe(405);
  });
});
