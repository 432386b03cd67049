import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json, uniqueName } from '../support/test-app.js';
import {
  codeIn,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const IDENTITY = '/api/identity/user/v1.0';
const ON_UPDATE = [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }];
const NAT = '192.0.2.50';

/**
 * Issue #11 point 5: the per-IP limit of the code endpoints counts failures (wrong codes, refused requests),
 * not successes, so users behind one NAT spending their codes do not lock out the others there.
 */
describe('per-IP limit on the code endpoints', () => {
  let t: VerificationTestApp;

  beforeAll(async () => {
    t = await startVerificationApp({ env: { VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '3' } });
  });
  afterAll(async () => t.close());

  const post = (auth: string, path: string, payload: unknown, remoteAddress = NAT) =>
    t.app.inject({
      method: 'POST',
      url: `${IDENTITY}${path}`,
      headers: { authorization: auth, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
      remoteAddress,
    });

  /** A user whose number change sent a code; returns the user and the code. */
  async function pendingUser(number: string) {
    const userName = uniqueName('nat');
    const user = await createUser(t, userName, { phoneNumbers: [{ type: 'mobile', value: '0711111111' }] });
    expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile(number)])).statusCode).toBe(200);
    const [sms] = await t.deliver();
    return { ...user, userName, code: codeIn(sms?.content ?? '') };
  }

  it('successful validations and resends by several users behind one address do not use up its budget', async () => {
    for (const [index, number] of ['0722222221', '0722222222', '0722222223'].entries()) {
      const user = await pendingUser(number);
      t.clock.advance(61_000);
      // A resend by the user, then one on the user's behalf: both succeed, so neither is counted.
      expect((await post(user.auth, '/me/resend-code', { properties: ON_UPDATE })).statusCode).toBe(201);
      await t.deliver();
      t.clock.advance(61_000);
      const onBehalf = await post(t.adminAuth, '/resend-code', {
        user: { username: user.userName, realm: 'PRIMARY' },
        properties: ON_UPDATE,
      });
      expect(onBehalf.statusCode, onBehalf.body).toBe(201);
      const [sms] = await t.deliver();
      const latest = codeIn(sms?.content ?? '');
      const validated =
        index === 0
          ? await post(t.adminAuth, '/validate-code', { code: latest })
          : await post(user.auth, '/me/validate-code', { code: latest });
      expect(validated.statusCode, validated.body).toBe(202);
    }
    // Nine successes from one address with a budget of three: a new user there still gets through.
    const newcomer = await pendingUser('0722222224');
    expect((await post(newcomer.auth, '/me/validate-code', { code: newcomer.code })).statusCode).toBe(202);
  });

  it('failures still add up: wrong codes and refused requests, then even a right code waits', async () => {
    const address = '192.0.2.51';
    const user = await pendingUser('0733333331');
    const wrong = user.code === '000000' ? '111111' : '000000';
    expect((await post(user.auth, '/me/validate-code', { code: wrong }, address)).statusCode).toBe(400);
    // A resend within the cooldown is refused: it counts.
    expect((await post(user.auth, '/me/resend-code', { properties: ON_UPDATE }, address)).statusCode).toBe(429);
    const unknown = await post(
      t.adminAuth,
      '/resend-code',
      { user: { username: uniqueName('nobody') }, properties: ON_UPDATE },
      address,
    );
    expect(unknown.statusCode).toBe(400);
    const limited = await post(user.auth, '/me/validate-code', { code: user.code }, address);
    expect(limited.statusCode).toBe(429);
    expect(json(limited).code).toBe('SMV-10004');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected, and the code is still good there.
    expect((await post(user.auth, '/me/validate-code', { code: user.code }, '192.0.2.52')).statusCode).toBe(202);
  });
});
