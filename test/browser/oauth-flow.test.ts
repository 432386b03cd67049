import { createHash, randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_FAILED } from '../../src/oauth/authorize-routes.js';
import { createUser, scimRequest, uniqueName } from '../support/test-app.js';
import {
  type BrowserServer,
  launchBrowser,
  signIn,
  startBrowserServer,
  startCallbackServer,
} from './browser-support.js';

/** An application integrating with the server: a registered client with its own redirect URI. */
describe('Authorization code + PKCE in Chromium', () => {
  let server: BrowserServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let callback: Awaited<ReturnType<typeof startCallbackServer>>;
  let client: { clientId: string; clientSecret: string };
  let user: { name: string; password: string };

  beforeAll(async () => {
    server = await startBrowserServer();
    browser = await launchBrowser();
    context = browser.context;
    callback = await startCallbackServer();
    const created = await server.testApp.app.inject({
      method: 'POST',
      url: '/api/server/v1/oauth-clients',
      headers: { authorization: server.testApp.adminAuth, 'content-type': 'application/json' },
      payload: {
        name: 'Partner app',
        grantTypes: ['authorization_code'],
        scopes: ['internal_login'],
        redirectUris: [callback.url],
      },
    });
    expect(created.statusCode).toBe(201);
    client = created.json();
    const name = uniqueName('olga');
    await createUser(server.testApp, name);
    user = { name, password: `${name}-password` };
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await callback?.close();
    await server?.close();
  });

  function pkce() {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  function authorizeUrl(params: Record<string, string>): string {
    return `${server.baseUrl}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: callback.url,
      code_challenge_method: 'S256',
      state: 'state-123',
      ...params,
    })}`;
  }

  /** Signs in through the page and returns the query the client's redirect URI was reached with. */
  async function authorize(page: Page, challenge: string): Promise<URLSearchParams> {
    await page.goto(authorizeUrl({ code_challenge: challenge }));
    await signIn(page, user.name, user.password);
    await page.waitForURL((url) => url.href.startsWith(callback.url));
    return new URL(page.url()).searchParams;
  }

  function exchange(code: string, verifier: string, redirectUri = callback.url) {
    return fetch(`${server.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }),
    });
  }

  it('signs in, redirects with code and state, and the code buys a token once; a reused code revokes it', async () => {
    const page = await context.newPage();
    const { verifier, challenge } = pkce();
    const query = await authorize(page, challenge);
    expect(query.get('state')).toBe('state-123');
    const code = query.get('code') ?? '';
    // Only a hash of the code is stored.
    const stored = await server.testApp.db.selectFrom('oauth_authorization_codes').select('code_hash').execute();
    expect(JSON.stringify(stored)).not.toContain(code);

    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    const token = ((await first.json()) as { access_token: string }).access_token;
    const me = await scimRequest(server.testApp, { method: 'GET', url: '/scim2/Me', auth: `Bearer ${token}` });
    expect(me.statusCode).toBe(200);

    const again = await exchange(code, verifier);
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    const revoked = await scimRequest(server.testApp, { method: 'GET', url: '/scim2/Me', auth: `Bearer ${token}` });
    expect(revoked.statusCode).toBe(401);
    await page.close();
  });

  it('refuses a PKCE mismatch, and the code is burnt by the attempt', async () => {
    const page = await context.newPage();
    const { verifier, challenge } = pkce();
    const code = (await authorize(page, challenge)).get('code') ?? '';
    const wrong = await exchange(code, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await exchange(code, verifier)).status).toBe(400);
    await page.close();
  });

  it('refuses an expired code (older than a minute) and a redirect_uri that differs from the authorization', async () => {
    const page = await context.newPage();
    const first = pkce();
    const expiring = (await authorize(page, first.challenge)).get('code') ?? '';
    server.clock.advance(61_000);
    expect((await exchange(expiring, first.verifier)).status).toBe(400);

    const second = pkce();
    const code = (await authorize(page, second.challenge)).get('code') ?? '';
    expect((await exchange(code, second.verifier, `${callback.url}/other`)).status).toBe(400);
    await page.close();
  });

  it('never redirects to an unregistered redirect URI or for an unknown client', async () => {
    const page = await context.newPage();
    const { challenge } = pkce();
    for (const url of [
      authorizeUrl({ code_challenge: challenge, redirect_uri: `${callback.url}?extra=1` }),
      authorizeUrl({ code_challenge: challenge, redirect_uri: 'http://127.0.0.1:9/elsewhere' }),
      authorizeUrl({ code_challenge: challenge, client_id: 'no-such-client' }),
    ]) {
      const response = await page.goto(url);
      expect(response?.status()).toBe(400);
      expect(page.url()).toContain('/oauth2/authorize');
      expect(await page.getByRole('alert').innerText()).toMatch(/not registered/);
      expect(await page.getByLabel('Password').count()).toBe(0);
    }
    await page.close();
  });

  it('sends PKCE errors back to the client: no challenge, or plain instead of S256', async () => {
    const page = await context.newPage();
    await page.goto(authorizeUrl({}));
    await page.waitForURL((url) => url.href.startsWith(callback.url));
    let query = new URL(page.url()).searchParams;
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('state')).toBe('state-123');
    await page.goto(authorizeUrl({ code_challenge: pkce().challenge, code_challenge_method: 'plain' }));
    await page.waitForURL((url) => url.href.startsWith(callback.url));
    query = new URL(page.url()).searchParams;
    expect(query.get('error')).toBe('invalid_request');
    expect(query.get('error_description')).toContain('S256');
    await page.close();
  });

  it('answers the same message for a wrong password, an unknown user and a disabled account', async () => {
    const disabled = uniqueName('dora');
    const created = await createUser(server.testApp, disabled);
    const off = await scimRequest(server.testApp, {
      method: 'PATCH',
      url: `/scim2/Users/${created.id}`,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { active: false } }],
      },
    });
    expect(off.statusCode).toBe(200);
    const page = await context.newPage();
    const { challenge } = pkce();
    for (const [name, password] of [
      [user.name, 'wrong-password'],
      [uniqueName('nobody'), 'whatever-password'],
      [disabled, `${disabled}-password`],
    ] as const) {
      await page.goto(authorizeUrl({ code_challenge: challenge }));
      await signIn(page, name, password);
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').innerText()).toBe(SIGN_IN_FAILED);
      expect(page.url()).toContain('/oauth2/authorize');
    }
    const codes = await server.testApp.db.selectFrom('oauth_authorization_codes').select('user_id').execute();
    expect(codes.map((row) => row.user_id)).not.toContain(created.id);
    await page.close();
  });
});
