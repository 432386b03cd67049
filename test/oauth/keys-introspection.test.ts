import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKeyStore } from '../../src/oauth/signing-keys.js';
import { deriveSecretKeys } from '../../src/shared/secret-keys.js';
import { expectRefusedWithin } from '../support/revocation-bound.js';
import {
  ADMIN,
  createUser,
  json,
  scimRequest,
  startTestApp,
  TEST_SECRET,
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

interface Jwks {
  keys: { kid: string; kty: string; alg: string; use: string; d?: string }[];
}

describe('signing keys and /oauth2/jwks', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const jwks = async () => (await t.app.inject({ method: 'GET', url: '/oauth2/jwks' })).json<Jwks>();
  const rotate = () =>
    t.app.inject({
      method: 'POST',
      url: '/api/server/v1/oauth-signing-keys/rotate',
      headers: { authorization: t.adminAuth },
    });

  it('publishes the public key that signs the tokens, and stores the private key encrypted', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/oauth2/jwks' });
    expect(response.statusCode).toBe(200);
    const { keys } = response.json<Jwks>();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]?.d).toBeUndefined();
    const token = await passwordToken(t, ADMIN.userName, ADMIN.password);
    expect(decodeJwtParts(token.access_token).header.kid).toBe(keys[0]?.kid);

    const rows = await t.db.selectFrom('oauth_signing_keys').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.private_jwk_encrypted).not.toContain('"d"');
    expect(rows[0]?.public_jwk).not.toContain('"d"');
  });

  it('a restarted server (a new key store on the same database) keeps the same key', async () => {
    const before = await jwks();
    const store = createSigningKeyStore({
      db: t.db,
      clock: t.clock,
      logger: pino({ level: 'silent' }),
      encryptionKey: deriveSecretKeys(TEST_SECRET).signingKeyEncryption,
      accessTokenTtlSeconds: 3600,
    });
    await store.init();
    expect((await store.signer()).kid).toBe(before.keys[0]?.kid);
    expect(await store.jwks()).toEqual(before);
  });

  it('rotation: the new key signs, the old one stays published until its tokens have expired', async () => {
    const oldToken = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
    const oldKid = decodeJwtParts(oldToken).header.kid;

    const rotated = await rotate();
    expect(rotated.statusCode).toBe(201);
    const newKid = json(rotated).kid;
    expect(newKid).not.toBe(oldKid);
    expect(json(rotated)).toMatchObject({ status: 'active', alg: 'ES256', retired: null });

    const published = (await jwks()).keys.map((key) => key.kid);
    expect(published).toEqual([newKid, oldKid]);
    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/oauth-signing-keys',
      headers: { authorization: t.adminAuth },
    });
    expect(json(listed)).toBeDefined();
    expect(listed.json<{ kid: string; status: string }[]>().map((key) => [key.kid, key.status])).toEqual([
      [newKid, 'active'],
      [oldKid, 'retired'],
    ]);

    const newToken = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
    expect(decodeJwtParts(newToken).header.kid).toBe(newKid);
    for (const token of [oldToken, newToken]) {
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(token) })).statusCode).toBe(200);
    }

    // Past the old key's window (token lifetime + margin) it is no longer published.
    t.clock.advance((3600 + 5 * 60 + 1) * 1000);
    expect((await jwks()).keys.map((key) => key.kid)).toEqual([newKid]);
    const latest = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(latest) })).statusCode).toBe(200);
  });

  it('rotation is for administrators; a bearer token needs internal_keystore_update', async () => {
    const userName = uniqueName('keys');
    const user = await createUser(t, userName);
    const denied = await t.app.inject({
      method: 'POST',
      url: '/api/server/v1/oauth-signing-keys/rotate',
      headers: { authorization: user.auth },
    });
    expect(denied.statusCode).toBe(403);
    const viewer = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_keystore_view')).access_token;
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/oauth-signing-keys',
      headers: { authorization: bearer(viewer) },
    });
    expect(list.statusCode).toBe(200);
    const rotateWithView = await t.app.inject({
      method: 'POST',
      url: '/api/server/v1/oauth-signing-keys/rotate',
      headers: { authorization: bearer(viewer) },
    });
    expect(rotateWithView.statusCode).toBe(403);
    expect(rotateWithView.headers['www-authenticate']).toMatch(/scope="internal_keystore_update"/);
  });
});

describe('several instances on one database', () => {
  it('a rotation on one instance is picked up by another as soon as it meets the new key', async () => {
    const first = await startTestApp();
    const second = await startTestApp({ database: first.database });
    try {
      const before = (await passwordToken(first, ADMIN.userName, ADMIN.password)).access_token;
      const sameKey = (await passwordToken(second, ADMIN.userName, ADMIN.password)).access_token;
      expect(decodeJwtParts(sameKey).header.kid).toBe(decodeJwtParts(before).header.kid);

      const rotated = await first.app.inject({
        method: 'POST',
        url: '/api/server/v1/oauth-signing-keys/rotate',
        headers: { authorization: first.adminAuth },
      });
      expect(rotated.statusCode).toBe(201);
      const after = (await passwordToken(first, ADMIN.userName, ADMIN.password)).access_token;
      expect(decodeJwtParts(after).header.kid).toBe(json(rotated).kid);
      for (const token of [before, after]) {
        const response = await scimRequest(second, { method: 'GET', url: '/scim2/Users', auth: bearer(token) });
        expect(response.statusCode).toBe(200);
      }
      // Revocation is shared through the database too (the other instance's cache hears of it within the bound).
      await oauthPost(first, 'revoke', { token: after });
      await expectRefusedWithin(
        () => scimRequest(second, { method: 'GET', url: '/scim2/Users', auth: bearer(after) }),
        performance.now(),
      );
    } finally {
      await second.app.close();
      await first.close();
    }
  });
});

describe('POST /oauth2/introspect (RFC 7662)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('tells an administrator about an active access token, and active:false once revoked or unknown', async () => {
    const issued = await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_login internal_user_mgt_view');
    const response = await oauthPost(t, 'introspect', { token: issued.access_token }, t.adminAuth);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const claims = decodeJwtParts(issued.access_token).payload;
    expect(json(response)).toEqual({
      active: true,
      token_type: 'Bearer',
      scope: 'internal_login internal_user_mgt_view',
      username: ADMIN.userName,
      sub: claims.sub,
      iss: claims.iss,
      aud: claims.aud,
      exp: claims.exp,
      iat: claims.iat,
      nbf: claims.nbf,
      jti: claims.jti,
    });

    const refresh = await oauthPost(
      t,
      'introspect',
      { token: String(issued.refresh_token), token_type_hint: 'refresh_token' },
      t.adminAuth,
    );
    expect(json(refresh)).toMatchObject({ active: true, token_type: 'refresh_token', username: ADMIN.userName });

    await oauthPost(t, 'revoke', { token: issued.access_token });
    expect(json(await oauthPost(t, 'introspect', { token: issued.access_token }, t.adminAuth))).toEqual({
      active: false,
    });
    expect(json(await oauthPost(t, 'introspect', { token: 'garbage' }, t.adminAuth))).toEqual({ active: false });
  });

  it('registered clients may introspect, with Basic or form credentials', async () => {
    const client = await registerClient(t, {
      name: 'RS',
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_list'],
    });
    const own = (
      await oauthPost(
        t,
        'token',
        { grant_type: 'client_credentials' },
        clientBasic(client.clientId, client.clientSecret),
      )
    ).json<TokenBody>();
    const viaBasic = await oauthPost(
      t,
      'introspect',
      { token: own.access_token },
      clientBasic(client.clientId, client.clientSecret),
    );
    expect(json(viaBasic)).toMatchObject({
      active: true,
      client_id: client.clientId,
      sub: client.clientId,
      scope: 'internal_user_mgt_list',
    });
    expect(json(viaBasic).username).toBeUndefined();
    const viaForm = await oauthPost(t, 'introspect', {
      token: own.access_token,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    });
    expect(json(viaForm)).toMatchObject({ active: true });
    const wrong = await oauthPost(t, 'introspect', { token: own.access_token }, clientBasic(client.clientId, 'wrong'));
    expect(wrong.statusCode).toBe(401);
    expect(json(wrong)).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses anonymous callers (401) and ordinary users (403); a bearer caller needs internal_application_mgt_view', async () => {
    const token = (await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token;
    const anonymous = await oauthPost(t, 'introspect', { token });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/Basic realm="scim".*Bearer realm="scim"/);
    const userName = uniqueName('introspector');
    const user = await createUser(t, userName);
    expect((await oauthPost(t, 'introspect', { token }, user.auth)).statusCode).toBe(403);
    const userToken = (await passwordToken(t, userName, `${userName}-password`)).access_token;
    const withUserToken = await oauthPost(t, 'introspect', { token }, bearer(userToken));
    expect(withUserToken.statusCode).toBe(403);
    expect(json(withUserToken)).toMatchObject({ error: 'insufficient_scope' });
    const appViewer = (await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_application_mgt_view'))
      .access_token;
    expect(json(await oauthPost(t, 'introspect', { token }, bearer(appViewer)))).toMatchObject({ active: true });
    const badToken = await oauthPost(t, 'introspect', { token }, bearer('x.y.z'));
    expect(badToken.statusCode).toBe(401);
    expect(json(badToken)).toMatchObject({ error: 'invalid_token' });
  });
});
