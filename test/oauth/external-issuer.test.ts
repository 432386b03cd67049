import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { oauthSettingsOf } from '../../src/oauth/oauth-settings.js';
import { ADMIN, createUser, json, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';
import { bearer, passwordToken } from './oauth-helpers.js';

const ISSUER = 'https://idp.example.test/oauth2/default';
const AUDIENCE = 'api://scim';

/** An identity provider's JWKS on 127.0.0.1, counting fetches; `delayMs` simulates a stalled server. */
async function startJwksServer(
  keys: JWK[],
  delayMs = 0,
): Promise<{ url: string; fetches: () => number; close(): Promise<void> }> {
  let fetches = 0;
  const server: Server = createServer((request, response) => {
    fetches += 1;
    setTimeout(() => {
      if (request.url !== '/keys') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/keys`,
    fetches: () => fetches,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function rsaKey(kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

describe('tokens of an external identity provider (OAUTH_JWKS_URL, OAUTH_ISSUER)', () => {
  let t: TestApp;
  let idp: Awaited<ReturnType<typeof startJwksServer>>;
  let signing: Awaited<ReturnType<typeof rsaKey>>;

  beforeAll(async () => {
    signing = await rsaKey('idp-key-1');
    idp = await startJwksServer([signing.jwk]);
    t = await startTestApp({ env: { OAUTH_JWKS_URL: idp.url, OAUTH_ISSUER: ISSUER, OAUTH_AUDIENCE: AUDIENCE } });
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  function externalToken(
    claims: JWTPayload,
    options: { key?: CryptoKey; kid?: string; audience?: string; expiresIn?: number } = {},
  ) {
    const now = Math.floor(t.clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'idp-key-1' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setIssuedAt(now)
      .setJti(randomUUID())
      .setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(options.key ?? signing.privateKey);
  }

  const me = (token: string) => scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: bearer(token) });

  it('maps `sub` to a local user by userName or by id', async () => {
    const userName = uniqueName('ext');
    const user = await createUser(t, userName);
    const byName = await me(await externalToken({ sub: userName, scope: 'internal_login' }));
    expect(byName.statusCode).toBe(200);
    expect(json(byName).id).toBe(user.id);
    const byId = await me(await externalToken({ sub: user.id, scope: 'internal_login' }));
    expect(json(byId).id).toBe(user.id);
  });

  it('falls back to the `username` claim when `sub` names nobody here', async () => {
    const userName = uniqueName('extfb');
    const user = await createUser(t, userName);
    const response = await me(await externalToken({ sub: '00uabc123', username: userName, scope: 'internal_login' }));
    expect(response.statusCode).toBe(200);
    expect(json(response).id).toBe(user.id);
    const nobody = await me(
      await externalToken({ sub: '00uabc123', username: 'nobody-here', scope: 'internal_login' }),
    );
    expect(nobody.statusCode).toBe(401);
    expect(nobody.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('reads scopes from `scope` or `scp`, capped by what the local user may have', async () => {
    const adminToken = await externalToken({ sub: ADMIN.userName, scp: ['internal_user_mgt_list', 'internal_login'] });
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(adminToken) })).statusCode).toBe(
      200,
    );
    const userName = uniqueName('extscp');
    await createUser(t, userName);
    const userToken = await externalToken({ sub: userName, scope: 'internal_login internal_user_mgt_list' });
    const list = await scimRequest(t, { method: 'GET', url: '/scim2/Users', auth: bearer(userToken) });
    expect(list.statusCode).toBe(403);
    expect(list.headers['www-authenticate']).toMatch(/insufficient_scope/);
  });

  it('401 for a wrong audience, an expired token, an unknown key, or a token signed with a key not in the JWKS', async () => {
    const claims = { sub: ADMIN.userName, scope: 'internal_login' };
    expect((await me(await externalToken(claims, { audience: 'someone-else' }))).statusCode).toBe(401);
    expect((await me(await externalToken(claims, { expiresIn: -120 }))).statusCode).toBe(401);
    const stranger = await rsaKey('idp-key-1');
    const forged = await me(await externalToken(claims, { key: stranger.privateKey }));
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['www-authenticate']).toMatch(/signature/);
    const before = idp.fetches();
    for (let i = 0; i < 3; i += 1) {
      expect((await me(await externalToken(claims, { key: stranger.privateKey, kid: 'idp-key-2' }))).statusCode).toBe(
        401,
      );
    }
    // An unknown kid refetches the JWKS at most once per cooldown, however many tokens carry it.
    expect(idp.fetches() - before).toBeLessThanOrEqual(1);
  });

  it("the server's own tokens keep working beside the external ones", async () => {
    const local = await passwordToken(t, ADMIN.userName, ADMIN.password);
    expect((await me(local.access_token)).statusCode).toBe(200);
  });
});

describe('an external identity provider that does not answer', () => {
  it('503 with Retry-After while its JWKS cannot be fetched', async () => {
    const signing = await rsaKey('k');
    const stalled = await startJwksServer([signing.jwk], 2000);
    const t = await startTestApp({
      env: {
        OAUTH_JWKS_URL: stalled.url,
        OAUTH_ISSUER: ISSUER,
        OAUTH_JWKS_TIMEOUT_MS: '200',
        OAUTH_USER_CLAIM: 'email',
      },
    });
    try {
      const userName = uniqueName('stall');
      await createUser(t, userName);
      const now = Math.floor(t.clock.now().getTime() / 1000);
      const token = await new SignJWT({ email: userName, scope: 'internal_login' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k' })
        .setIssuer(ISSUER)
        .setSubject('opaque-id')
        .setExpirationTime(now + 600)
        .sign(signing.privateKey);
      const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: bearer(token) });
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await t.close();
      await stalled.close();
    }
  });

  it('OAUTH_USER_CLAIM picks the claim that names the local user', async () => {
    const signing = await rsaKey('k');
    const idp = await startJwksServer([signing.jwk]);
    const t = await startTestApp({ env: { OAUTH_JWKS_URL: idp.url, OAUTH_ISSUER: ISSUER, OAUTH_USER_CLAIM: 'email' } });
    try {
      const userName = uniqueName('claim');
      const user = await createUser(t, userName);
      const now = Math.floor(t.clock.now().getTime() / 1000);
      const token = await new SignJWT({ email: userName, scope: 'internal_login' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k' })
        .setIssuer(ISSUER)
        .setSubject('opaque-id')
        .setExpirationTime(now + 600)
        .sign(signing.privateKey);
      const response = await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: bearer(token) });
      expect(response.statusCode).toBe(200);
      expect(json(response).id).toBe(user.id);
    } finally {
      await t.close();
      await idp.close();
    }
  });
});

describe('external issuer configuration', () => {
  const base = { NODE_ENV: 'test', SECRET_KEY: 'x'.repeat(40) } as const;

  it('needs OAUTH_JWKS_URL and OAUTH_ISSUER together, and an issuer other than our own', () => {
    expect(() => oauthSettingsOf(loadConfig({ ...base, OAUTH_JWKS_URL: 'https://idp/keys' }))).toThrow(ConfigError);
    expect(() => oauthSettingsOf(loadConfig({ ...base, OAUTH_ISSUER: ISSUER }))).toThrow(ConfigError);
    expect(() =>
      oauthSettingsOf(
        loadConfig({ ...base, OAUTH_JWKS_URL: 'https://idp/keys', OAUTH_ISSUER: 'urn:scim-mobile-verify' }),
      ),
    ).toThrow(/must differ/);
    expect(() => loadConfig({ ...base, OAUTH_JWKS_URLS: 'x' })).toThrow(/unknown setting/);
    const settings = oauthSettingsOf(loadConfig({ ...base, OAUTH_JWKS_URL: 'https://idp/keys', OAUTH_ISSUER: ISSUER }));
    expect(settings.external).toMatchObject({ issuer: ISSUER, userClaim: 'sub', audience: undefined });
  });

  it('derives the local issuer from PUBLIC_BASE_URL, and reads the token lifetimes', () => {
    const settings = oauthSettingsOf(
      loadConfig({ ...base, PUBLIC_BASE_URL: 'https://id.example.com/', ACCESS_TOKEN_TTL_SECONDS: '900' }),
    );
    expect(settings).toMatchObject({
      issuer: 'https://id.example.com/oauth2/token',
      audience: 'https://id.example.com/oauth2/token',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 86_400,
      external: undefined,
    });
  });
});
