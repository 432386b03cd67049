import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { basicAuth, createUser, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

/** Issue #11 point 5: X-Forwarded-For is believed only from TRUST_PROXY. */
describe('TRUST_PROXY', () => {
  let trusting: TestApp;
  let plain: TestApp;

  beforeAll(async () => {
    trusting = await startTestApp({
      env: { TRUST_PROXY: '10.0.0.0/8, 192.0.2.1', LOGIN_FAILURES_PER_IP_PER_HOUR: '3' },
    });
    plain = await startTestApp({ env: { LOGIN_FAILURES_PER_IP_PER_HOUR: '3' }, database: trusting.database });
  });
  afterAll(async () => {
    await plain.close();
    await trusting.close();
  });

  const me = (t: TestApp, auth: string, peer: string, forwardedFor: string) =>
    t.app.inject({
      method: 'GET',
      url: '/scim2/Me',
      headers: { authorization: auth, 'x-forwarded-for': forwardedFor },
      remoteAddress: peer,
    });

  it('behind a trusted proxy the per-IP limit sees the real client, not the proxy', async () => {
    const user = await createUser(trusting, uniqueName('behind-proxy'));
    for (let i = 0; i < 3; i += 1) {
      expect((await me(trusting, basicAuth(uniqueName('x'), 'guess'), '10.1.2.3', '203.0.113.50')).statusCode).toBe(
        401,
      );
    }
    expect((await me(trusting, user.auth, '10.1.2.3', '203.0.113.50')).statusCode).toBe(429);
    // Another client through the same proxy is not punished.
    expect((await me(trusting, user.auth, '10.1.2.3', '203.0.113.51')).statusCode).toBe(200);
  });

  it('without TRUST_PROXY a client cannot pick its address with X-Forwarded-For', async () => {
    const user = await createUser(plain, uniqueName('no-proxy'));
    for (let i = 0; i < 3; i += 1) {
      const forged = `198.18.0.${i + 1}`;
      expect((await me(plain, basicAuth(uniqueName('y'), 'guess'), '192.0.2.77', forged)).statusCode).toBe(401);
    }
    expect((await me(plain, user.auth, '192.0.2.77', '198.18.9.9')).statusCode).toBe(429);
  });

  it('refuses an entry that is not an address or CIDR, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', TRUST_PROXY: '10.0.0.0/40' })).toThrow(/TRUST_PROXY: '10.0.0.0\/40'/);
    expect(() => loadConfig({ NODE_ENV: 'test', TRUST_PROXY: 'proxy.local' })).toThrow(/TRUST_PROXY/);
  });
});
