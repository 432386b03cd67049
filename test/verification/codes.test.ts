import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, createUser, json } from '../support/test-app.js';
import {
  codeIn,
  enterpriseOf,
  mobileOf,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const OLD = '0111111111';
const NEW = '0123456789';
const ME_VALIDATE = '/api/identity/user/v1.0/me/validate-code';
const VALIDATE = '/api/identity/user/v1.0/validate-code';
const ME_RESEND = '/api/identity/user/v1.0/me/resend-code';
const RESEND = '/api/identity/user/v1.0/resend-code';
const ON_UPDATE = [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }];

describe('validate-code and resend-code', () => {
  let t: VerificationTestApp;
  let counter = 0;

  /** A user with a pending change to NEW and the code that was texted for it. */
  async function pendingUser() {
    const user = await createUser(t, `carol${++counter}`, { phoneNumbers: [{ type: 'mobile', value: OLD }] });
    await t.patch(user.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const sent = await t.deliver();
    return { ...user, code: codeIn(sent.at(-1)?.content ?? '') };
  }

  async function expectUnchanged(auth: string) {
    const me = json(await t.get(auth, '/scim2/Me'));
    expect(mobileOf(me)).toBe(OLD);
    expect(enterpriseOf(me).pendingMobileNumber).toBe(NEW);
  }

  const wrongCode = (code: string) => (code === '000000' ? '111111' : '000000');

  /** Status, body (but the trace id) and verification headers: what would let a caller tell two answers apart. */
  const answerOf = (response: LightMyRequestResponse) => ({
    status: response.statusCode,
    body: { ...json(response), traceId: undefined },
    headers: Object.fromEntries(
      Object.entries(response.headers).filter(([name]) => name.startsWith('x-verification') || name === 'retry-after'),
    ),
  });
  const sameAnswer = (a: LightMyRequestResponse, b: LightMyRequestResponse) => {
    expect(answerOf(a)).toEqual(answerOf(b));
    return true;
  };

  beforeAll(async () => {
    t = await startVerificationApp();
  });
  afterAll(async () => t.close());

  it('a wrong code answers 400 18001 in the WSO2 envelope and changes nothing', async () => {
    const carol = await pendingUser();
    const response = await t.post(carol.auth, ME_VALIDATE, { code: wrongCode(carol.code), properties: [] });
    expect(response.statusCode).toBe(400);
    const body = json(response);
    expect(body).toMatchObject({ code: '18001', message: 'Bad Request' });
    expect(typeof body.description).toBe('string');
    expect(typeof body.traceId).toBe('string');
    await expectUnchanged(carol.auth);
  });

  it('an expired code answers 18002 to the right code and to a wrong one alike; a resend restarts the lifetime', async () => {
    const carol = await pendingUser();
    t.clock.advance(301_000);
    const expired = await t.post(carol.auth, ME_VALIDATE, { code: carol.code });
    expect(expired.statusCode).toBe(400);
    expect(json(expired).code).toBe('18002');
    expect(String(json(expired).description)).toMatch(/request a new code/i);
    const wrong = await t.post(carol.auth, ME_VALIDATE, { code: wrongCode(carol.code) });
    expect(sameAnswer(wrong, expired)).toBe(true);
    await expectUnchanged(carol.auth);

    const resent = await t.post(carol.auth, ME_RESEND, { properties: ON_UPDATE });
    expect(resent.statusCode).toBe(201);
    const sms = await t.deliver();
    expect(sms.map((message) => message.to)).toEqual([NEW]);
    const fresh = codeIn(sms[0]?.content ?? '');
    t.clock.advance(200_000);
    expect((await t.post(carol.auth, ME_VALIDATE, { code: fresh })).statusCode).toBe(202);
  });

  it('a code works once', async () => {
    const carol = await pendingUser();
    expect((await t.post(carol.auth, ME_VALIDATE, { code: carol.code })).statusCode).toBe(202);
    const again = await t.post(carol.auth, ME_VALIDATE, { code: carol.code });
    expect(again.statusCode).toBe(400);
    expect(json(again).code).toBe('18001');
  });

  it('a resent code replaces the old one', async () => {
    const carol = await pendingUser();
    t.clock.advance(61_000);
    await t.post(carol.auth, ME_RESEND, { properties: ON_UPDATE });
    const fresh = codeIn((await t.deliver())[0]?.content ?? '');
    if (fresh !== carol.code) {
      expect(json(await t.post(carol.auth, ME_VALIDATE, { code: carol.code })).code).toBe('18001');
    }
    expect((await t.post(carol.auth, ME_VALIDATE, { code: fresh })).statusCode).toBe(202);
  });

  it(`after OTP_MAX_ATTEMPTS wrong guesses even the right code is refused until a resend`, async () => {
    const carol = await pendingUser();
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await t.post(carol.auth, ME_VALIDATE, { code: wrongCode(carol.code) });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.headers['x-verification-attempts-remaining']).toBe(String(4 - attempt));
    }
    const locked = await t.post(carol.auth, ME_VALIDATE, { code: carol.code });
    expect(locked.statusCode).toBe(429);
    expect(json(locked).code).toBe('SMV-10001');
    expect(String(json(locked).description)).toMatch(/too many failed attempts.*request a new code/i);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.headers['x-verification-attempts-remaining']).toBe('0');
    // No oracle: a wrong guess now gets exactly the answer the right code got.
    expect(sameAnswer(await t.post(carol.auth, ME_VALIDATE, { code: wrongCode(carol.code) }), locked)).toBe(true);
    await expectUnchanged(carol.auth);
    t.clock.advance(61_000);
    await t.post(carol.auth, ME_RESEND, { properties: ON_UPDATE });
    const fresh = codeIn((await t.deliver())[0]?.content ?? '');
    expect((await t.post(carol.auth, ME_VALIDATE, { code: fresh })).statusCode).toBe(202);
  });

  it("someone else's code on /me is just an invalid code and does not touch either user", async () => {
    const carol = await pendingUser();
    const dave = await pendingUser();
    const response = await t.post(dave.auth, ME_VALIDATE, { code: carol.code });
    if (carol.code !== dave.code) {
      expect(response.statusCode).toBe(400);
      expect(json(response).code).toBe('18001');
      expect(String(json(response).description)).not.toContain(carol.code);
      await expectUnchanged(carol.auth);
      await expectUnchanged(dave.auth);
    }
  });

  it('twenty concurrent validations of one code give exactly one success', async () => {
    const carol = await pendingUser();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => t.post(carol.auth, ME_VALIDATE, { code: carol.code })),
    );
    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status === 400)).toHaveLength(19);
    expect(mobileOf(json(await t.get(carol.auth, '/scim2/Me')))).toBe(NEW);
  });

  it('an administrator validates a code on behalf of the user: 202 with the user', async () => {
    const carol = await pendingUser();
    const response = await t.post(t.adminAuth, VALIDATE, { code: carol.code, properties: [] });
    expect(response.statusCode).toBe(202);
    expect(json(response)).toEqual({
      username: carol.body.userName,
      'tenant-domain': 'carbon.super',
      realm: 'PRIMARY',
      userId: carol.id,
    });
    const me = json(await t.get(carol.auth, '/scim2/Me'));
    expect(mobileOf(me)).toBe(NEW);
    expect(enterpriseOf(me).phoneVerified).toBe(true);
    // WSO2 also marked the email verified and unlocked the account here; this server changes only the number.
    expect(Object.keys(enterpriseOf(me)).sort()).toEqual(['phoneVerified']);
  });

  it('privileged routes need an administrator; unknown codes are invalid', async () => {
    const carol = await pendingUser();
    expect((await t.post(carol.auth, VALIDATE, { code: carol.code })).statusCode).toBe(403);
    const resend = await t.post(carol.auth, RESEND, {
      user: { username: 'x', realm: 'PRIMARY' },
      properties: ON_UPDATE,
    });
    expect(resend.statusCode).toBe(403);
    expect(json(await t.post(t.adminAuth, VALIDATE, { code: wrongCode(carol.code) })).code).toBe('18001');
    await expectUnchanged(carol.auth);
  });

  it('on the privileged validate-code a used-up or expired code answers exactly as an unknown one', async () => {
    const unknown = await t.post(t.adminAuth, VALIDATE, { code: 'ZZZZZZZZ' });
    expect(answerOf(unknown)).toMatchObject({ status: 400, body: { code: '18001' } });
    const carol = await pendingUser();
    for (let attempt = 0; attempt < 5; attempt++) {
      await t.post(carol.auth, ME_VALIDATE, { code: wrongCode(carol.code) });
    }
    expect(sameAnswer(await t.post(t.adminAuth, VALIDATE, { code: carol.code }), unknown)).toBe(true);
    const dave = await pendingUser();
    t.clock.advance(301_000);
    expect(sameAnswer(await t.post(t.adminAuth, VALIDATE, { code: dave.code }), unknown)).toBe(true);
    await expectUnchanged(carol.auth);
    await expectUnchanged(dave.auth);
  });

  it('an administrator resends a code by user name', async () => {
    const carol = await pendingUser();
    t.clock.advance(61_000);
    const response = await t.post(t.adminAuth, RESEND, {
      user: { username: String(carol.body.userName), realm: 'PRIMARY' },
      properties: ON_UPDATE,
    });
    expect(response.statusCode).toBe(201);
    const sms = await t.deliver();
    expect(sms.map((message) => message.to)).toEqual([NEW]);
  });

  it("privileged resend: nothing pending, an unknown user or an unknown realm get WSO2's one 400", async () => {
    const erin = await createUser(t, `erin${++counter}`, { phoneNumbers: [{ type: 'mobile', value: OLD }] });
    const carol = await pendingUser();
    const users = [
      { username: String(erin.body.userName), realm: 'PRIMARY' },
      { username: 'nobody', realm: 'PRIMARY' },
      { username: 'nobody' },
      { username: String(carol.body.userName), realm: 'SECONDARY' },
    ];
    for (const user of users) {
      const response = await t.post(t.adminAuth, RESEND, { user, properties: ON_UPDATE });
      expect(response.statusCode, JSON.stringify(user)).toBe(400);
      const body = json(response);
      expect(Object.keys(body).sort()).toEqual(['message', 'traceId']);
      expect(body.message).toBe('User recovery data is not found. Please re-initiate the recovery flow.');
    }
    expect(await t.deliver()).toEqual([]);
  });

  it('resend with nothing pending, an unknown scenario or no scenario: 400 UAR-10011', async () => {
    const erin = await createUser(t, `erin${++counter}`, { phoneNumbers: [{ type: 'mobile', value: OLD }] });
    const cases = [
      { properties: ON_UPDATE, detail: /no pending/i },
      {
        properties: [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE' }],
        detail: /no pending/i,
      },
      { properties: [{ key: 'RecoveryScenario', value: 'SELF_SIGN_UP' }], detail: /SELF_SIGN_UP/ },
      { properties: [], detail: /missing/i },
    ];
    for (const { properties, detail } of cases) {
      const response = await t.post(erin.auth, ME_RESEND, { properties });
      expect(response.statusCode).toBe(400);
      expect(json(response).code).toBe('UAR-10011');
      expect(String(json(response).description)).toMatch(detail);
    }
    expect(await t.deliver()).toEqual([]);
  });

  it('malformed bodies answer 400 in the WSO2 envelope, unauthenticated 401', async () => {
    const carol = await pendingUser();
    const malformed = await t.app.inject({
      method: 'POST',
      url: ME_VALIDATE,
      headers: { authorization: carol.auth, 'content-type': 'application/json' },
      payload: '{"code": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(json(malformed)).toHaveProperty('code');
    for (const payload of [{}, { code: '' }, { code: 'x'.repeat(100) }, { properties: [] }]) {
      expect((await t.post(carol.auth, ME_VALIDATE, payload)).statusCode).toBe(400);
    }
    expect((await t.post(basicAuth('carol1', 'wrong'), ME_VALIDATE, { code: carol.code })).statusCode).toBe(401);
    expect((await t.post(carol.auth, ME_RESEND, { properties: 'x' })).statusCode).toBe(400);
    await expectUnchanged(carol.auth);
  });

  it('a code stops working when its number is no longer the pending one', async () => {
    const carol = await pendingUser();
    // The admin bypass is off here, so an admin's change also goes through verification.
    await t.patch(t.adminAuth, `/scim2/Users/${carol.id}`, [replaceMobile('0888888888')]);
    const replacement = codeIn((await t.deliver())[0]?.content ?? '');
    if (replacement !== carol.code) {
      expect(json(await t.post(carol.auth, ME_VALIDATE, { code: carol.code })).code).toBe('18001');
    }
    expect(mobileOf(json(await t.get(carol.auth, '/scim2/Me')))).toBe(OLD);
  });
});

describe('PRIVILEGED_VERIFICATION_ENABLED=false', () => {
  it('the privileged validate-code answers 400 17007', async () => {
    const t = await startVerificationApp({ env: { PRIVILEGED_VERIFICATION_ENABLED: 'false' } });
    try {
      const user = await createUser(t, 'frank', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      await t.patch(user.auth, '/scim2/Me', [replaceMobile(NEW)]);
      const code = codeIn((await t.deliver())[0]?.content ?? '');
      const response = await t.post(t.adminAuth, VALIDATE, { code });
      expect(response.statusCode).toBe(400);
      expect(json(response).code).toBe('17007');
      expect((await t.post(user.auth, ME_VALIDATE, { code })).statusCode).toBe(202);
    } finally {
      await t.close();
    }
  });
});
