import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json, scimRequest, uniqueName } from '../support/test-app.js';
import {
  codeIn,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const IDENTITY = '/api/identity/user/v1.0';
const ON_UPDATE = [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }];

/** Issue #11 points 6b and 6c: nothing secret in logged URLs; numbers never whole in logs or rate-limit buckets. */
describe('logs and rate-limit buckets', () => {
  let t: VerificationTestApp;

  beforeAll(async () => {
    t = await startVerificationApp({ env: { VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '50' } });
  });
  afterAll(async () => t.close());

  it('redacts the values of secret-named query parameters in every logged URL', async () => {
    // Distinctive values: a short one could occur by chance in a request id or a response time.
    const secrets = [
      'hunter2-pass',
      'tok-secret-1',
      'cs-secret-2',
      'rt-secret-3',
      'otp-secret-4',
      'tk-secret-5',
      'authcode-6',
    ];
    const [password, access, client, refresh, code, token, authCode] = secrets;
    const query = `password=${password}&ACCESS_TOKEN=${access}&Client_Secret=${client}&refresh_token=${refresh}&code=${code}&token=${token}`;
    t.logs.length = 0;
    expect((await scimRequest(t, { method: 'GET', url: `/scim2/Users?count=1&${query}` })).statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: `/nowhere?${query}` })).statusCode).toBe(404);
    await t.app.inject({ method: 'GET', url: `/myaccount/?code=${authCode}&state=kept-state` });
    await t.app.inject({ method: 'POST', url: `/oauth2/token?client_secret=${client}`, payload: {} });
    const logged = t.logs.join('\n');
    for (const secret of secrets) expect(logged).not.toContain(secret);
    expect(logged).toContain('count=1');
    expect(logged).toContain('state=kept-state');
    expect(logged).toContain('password=[redacted]');
  });

  it('a whole verification flow leaves no whole number in the logs or in the rate-limit buckets', async () => {
    const spellings = ['+94771234567', '94771234567', '771234567', '77 123 4567', '+44 20 7946 0000', '2079460000'];
    t.logs.length = 0;
    const userName = uniqueName('masked');
    const user = await createUser(t, userName, { phoneNumbers: [{ type: 'mobile', value: '+94 77 000 0001' }] });
    const search = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent('phoneNumbers.value eq "+94 77 123 4567"')}`,
    });
    expect(search.statusCode).toBe(200);
    // Refused with a detail quoting the number: the client sees it, the log does not.
    const landline = await t.patch(user.auth, '/scim2/Me', [replaceMobile('+44 20 7946 0000')]);
    expect(landline.statusCode).toBe(400);
    expect(String(json(landline).detail)).toContain('+44 20 7946 0000');

    expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile('+94 77 123 4567')])).statusCode).toBe(200);
    const first = codeIn((await t.deliver())[0]?.content ?? '');
    const wrong = first === '000000' ? '111111' : '000000';
    expect((await t.post(user.auth, `${IDENTITY}/me/validate-code`, { code: wrong })).statusCode).toBe(400);
    t.clock.advance(61_000);
    expect((await t.post(user.auth, `${IDENTITY}/me/resend-code`, { properties: ON_UPDATE })).statusCode).toBe(201);
    await t.deliver();
    t.clock.advance(61_000);
    const onBehalf = await t.post(t.adminAuth, `${IDENTITY}/resend-code`, {
      user: { username: userName },
      properties: ON_UPDATE,
    });
    expect(onBehalf.statusCode).toBe(201);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    expect((await t.post(t.adminAuth, `${IDENTITY}/validate-code`, { code })).statusCode).toBe(202);
    const audit = await t.get(t.adminAuth, `/api/server/v1/audit-events?userId=${user.id}`);
    expect(audit.statusCode).toBe(200);

    const logged = t.logs.join('\n');
    expect(logged).toContain('****');
    for (const spelling of spellings) expect(logged).not.toContain(spelling);
    const buckets = await t.db.selectFrom('rate_limit_counters').select('bucket').execute();
    expect(buckets.map((row) => row.bucket)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sms:number:[0-9a-f]{32}$/)]),
    );
    const stored = JSON.stringify(buckets);
    for (const spelling of spellings) expect(stored).not.toContain(spelling);
    expect(stored).not.toContain('127.0.0.1');
  });
});
