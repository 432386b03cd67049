import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientBasic, oauthPost, registerClient } from '../oauth/oauth-helpers.js';
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

/** Issue #11 point 4: failed logins are counted per account and per IP in the database; accounts lock. */
describe('throttled logins', () => {
  let t: TestApp;
  let other: TestApp;

  beforeAll(async () => {
    const env = { LOGIN_MAX_FAILED_ATTEMPTS: '3', LOGIN_LOCK_SECONDS: '60', LOGIN_FAILURES_PER_IP_PER_HOUR: '12' };
    t = await startTestApp({ env });
    other = await startTestApp({ env, database: t.database });
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  let ipCounter = 0;
  const freshIp = () => {
    ipCounter += 1;
    return `198.51.100.${ipCounter}`;
  };
  const me = (instance: TestApp, auth: string, ip: string) =>
    instance.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: auth }, remoteAddress: ip });

  async function lockOut(userName: string, ip: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await me(t, basicAuth(userName, 'wrong-guess'), ip)).statusCode).toBe(401);
    }
  }

  it('locks an account after N wrong passwords, on every instance, with the answer of a wrong password', async () => {
    const userName = uniqueName('locked');
    const user = await createUser(t, userName);
    const ip = freshIp();
    const wrong = await me(t, basicAuth(userName, 'wrong-guess'), ip);
    const unknown = await me(t, basicAuth(uniqueName('nobody'), 'x'), ip);
    await lockOut(userName, ip);
    const locked = await me(other, user.auth, freshIp());
    expect(locked.statusCode).toBe(401);
    expect(json(locked).detail).toBe(json(wrong).detail);
    expect(json(locked).detail).toBe(json(unknown).detail);
    expect(locked.headers['www-authenticate']).toBe(wrong.headers['www-authenticate']);
    const grant = await oauthPost(other, 'token', {
      grant_type: 'password',
      username: userName,
      password: `${userName}-password`,
    });
    expect(grant.statusCode).toBe(400);
    expect(json(grant).error_description).toBe('Invalid username or password');

    const shown = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    expect((json(shown)[SCIM.wso2] as Record<string, unknown> | undefined)?.accountLocked).toBe(true);
    const events = await t.app.inject({
      method: 'GET',
      url: `/api/server/v1/audit-events?userId=${user.id}&type=ACCOUNT_LOCKED`,
      headers: { authorization: t.adminAuth },
    });
    expect(events.statusCode, events.body).toBe(200);
    expect(events.body).toContain('ACCOUNT_LOCKED');
  });

  it('each further lock without a success in between lasts longer; the lock expires; success resets', async () => {
    const userName = uniqueName('growing');
    const user = await createUser(t, userName);
    await lockOut(userName, freshIp());
    t.clock.advance(61_000);
    await lockOut(userName, freshIp());
    t.clock.advance(61_000);
    expect((await me(t, user.auth, freshIp())).statusCode).toBe(401);
    t.clock.advance(60_000);
    expect((await me(t, user.auth, freshIp())).statusCode).toBe(200);
    // After a success the next lock is the short one again.
    await lockOut(userName, freshIp());
    t.clock.advance(61_000);
    expect((await me(t, user.auth, freshIp())).statusCode).toBe(200);
  });

  it('an administrator unlocks through urn:scim:wso2:schema:accountLocked', async () => {
    const userName = uniqueName('unlocked');
    const user = await createUser(t, userName);
    await lockOut(userName, freshIp());
    const byUser = await scimRequest(t, {
      method: 'PATCH',
      url: '/scim2/Me',
      auth: basicAuth(userName, `${userName}-password`),
      body: patchBody({ op: 'replace', path: `${SCIM.wso2}:accountLocked`, value: false }),
    });
    expect(byUser.statusCode).toBe(401);
    const unlock = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: `${SCIM.wso2}:accountLocked`, value: false }),
    });
    expect(unlock.statusCode, unlock.body).toBe(200);
    expect((await me(other, user.auth, freshIp())).statusCode).toBe(200);
  });

  it('a client IP with too many failures is refused before any password is checked', async () => {
    const ip = freshIp();
    for (let attempt = 0; attempt < 12; attempt += 1) {
      expect((await me(t, basicAuth(uniqueName('spray'), 'guess'), ip)).statusCode).toBe(401);
    }
    const userName = uniqueName('bystander');
    const user = await createUser(t, userName);
    const refused = await me(other, user.auth, ip);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await me(other, user.auth, freshIp())).statusCode).toBe(200);
  });

  it('counts wrong client secrets too', async () => {
    const client = await registerClient(t, {
      name: uniqueName('guessed'),
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_view'],
    });
    const ip = freshIp();
    const attempt = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: clientBasic(client.clientId, secret),
        },
        payload: 'grant_type=client_credentials',
        remoteAddress: ip,
      });
    for (let i = 0; i < 3; i += 1) expect((await attempt('wrong')).statusCode).toBe(401);
    expect((await attempt(client.clientSecret)).statusCode).toBe(401);
  });
});
