import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json } from '../support/test-app.js';
import {
  codeIn,
  enterpriseOf,
  mobileOf,
  PATCH_OP,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';

const OLD = '0111111111';
const NEW = '0123456789';

describe('primary mobile number change (MOBILE_VERIFICATION_ON_UPDATE)', () => {
  let t: VerificationTestApp;
  let counter = 0;
  const newUser = async (extra: Record<string, unknown> = {}) =>
    createUser(t, `bob${++counter}`, {
      name: { givenName: 'Bob', familyName: 'Smith' },
      emails: ['bob@example.com'],
      phoneNumbers: [{ type: 'mobile', value: OLD }],
      ...extra,
    });

  beforeAll(async () => {
    t = await startVerificationApp();
  });
  afterAll(async () => t.close());

  it('keeps the old primary, parks the new number as pending and texts a code to it (seed PATCH, replace)', async () => {
    const bob = await newUser();
    await t.deliver();
    const response = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [replaceMobile(NEW)]);
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.phoneNumbers).toEqual([{ type: 'mobile', value: OLD }]);
    expect(enterpriseOf(body).pendingMobileNumber).toBe(NEW);
    expect(body.emails).toEqual([{ value: 'bob@example.com' }]);
    expect(body.name).toEqual({ givenName: 'Bob', familyName: 'Smith' });

    const sent = await t.deliver();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to).toBe(NEW);
    const code = codeIn(sent[0]?.content ?? '');
    expect(code).toMatch(/^\d{6}$/);

    const validated = await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code, properties: [] });
    expect(validated.statusCode).toBe(202);
    expect(validated.body).toBe('');
    const after = json(await t.get(bob.auth, '/scim2/Me'));
    expect(mobileOf(after)).toBe(NEW);
    expect(enterpriseOf(after).pendingMobileNumber).toBeUndefined();
    expect(enterpriseOf(after).phoneVerified).toBe(true);
  });

  it('accepts the seed\'s "add" form and the value-path form on /Users and /Me', async () => {
    const forms = [
      { op: 'add', value: { phoneNumbers: [{ type: 'mobile', value: NEW }] } },
      { op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: NEW },
      { op: 'Replace', path: 'phoneNumbers[type eq "mobile"]', value: [{ type: 'mobile', value: NEW }] },
    ];
    for (const operation of forms) {
      for (const viaMe of [false, true]) {
        const bob = await newUser();
        const response = viaMe
          ? await t.patch(bob.auth, '/scim2/Me', [operation])
          : await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [operation]);
        expect(response.statusCode, JSON.stringify(operation)).toBe(200);
        expect(mobileOf(json(response))).toBe(OLD);
        expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
      }
    }
    const sent = await t.deliver();
    expect(sent.filter((sms) => sms.to === NEW)).toHaveLength(forms.length * 2);
  });

  it('applies the other attributes of the same request normally (PUT)', async () => {
    const bob = await newUser();
    await t.deliver();
    const response = await t.app.inject({
      method: 'PUT',
      url: `/scim2/Users/${bob.id}`,
      headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
      payload: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: bob.body.userName,
        name: { givenName: 'Robert', familyName: 'Smith' },
        phoneNumbers: [{ type: 'mobile', value: NEW }],
      },
    });
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.name).toEqual({ givenName: 'Robert', familyName: 'Smith' });
    expect(body.emails).toBeUndefined();
    expect(mobileOf(body)).toBe(OLD);
    expect(enterpriseOf(body).pendingMobileNumber).toBe(NEW);
    expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW]);
  });

  it('stores the code only as a keyed hash and never logs it', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    const rows = await t.db.selectFrom('verification_codes').selectAll().where('user_id', '=', bob.id).execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(code);
    const outbox = await t.db.selectFrom('sms_outbox').select('body').where('user_id', '=', bob.id).execute();
    expect(outbox.every((row) => row.body === null)).toBe(true);
    expect(t.logs.join('\n')).not.toContain(code);
  });

  it('sends no code when the verified primary is sent again; a pending change stays (no change)', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code });
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile('0777777777')]);
    await t.deliver();
    const back = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    expect(back.statusCode).toBe(200);
    expect(mobileOf(json(back))).toBe(NEW);
    expect(enterpriseOf(json(back)).pendingMobileNumber).toBe('0777777777');
    expect(await t.deliver()).toEqual([]);
  });

  it('the current primary sent again is no change: no SMS, verified or not (PATCH and PUT, /Users and /Me)', async () => {
    const bob = await newUser();
    const put = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: bob.body.userName,
      phoneNumbers: [{ type: 'mobile', value: OLD }],
    };
    for (let run = 0; run < 3; run++) {
      const responses = [
        await t.patch(bob.auth, '/scim2/Me', [replaceMobile(OLD)]),
        await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
          { op: 'replace', path: 'phoneNumbers[type eq "mobile"].value', value: OLD },
        ]),
        await t.app.inject({
          method: 'PUT',
          url: `/scim2/Users/${bob.id}`,
          headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
          payload: put,
        }),
      ];
      for (const response of responses) {
        expect(response.statusCode).toBe(200);
        expect(mobileOf(json(response))).toBe(OLD);
        expect(enterpriseOf(json(response)).pendingMobileNumber).toBeUndefined();
      }
    }
    expect(await t.deliver()).toEqual([]);
    const codes = await t.db.selectFrom('verification_codes').select('id').where('user_id', '=', bob.id).execute();
    expect(codes).toEqual([]);
  });

  it('the pending number sent again is a resend: within the cooldown it keeps the code and sends nothing', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    const repeats = await Promise.all(
      Array.from({ length: 9 }, () => t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)])),
    );
    for (const response of repeats) {
      expect(response.statusCode).toBe(200);
      expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
    }
    expect(await t.deliver()).toEqual([]);
    t.clock.advance(30_000);
    await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [replaceMobile(NEW)]);
    expect(await t.deliver()).toEqual([]);
    // The code first sent still works.
    expect((await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code })).statusCode).toBe(202);
    expect(mobileOf(json(await t.get(bob.auth, '/scim2/Me')))).toBe(NEW);
  });

  it('the pending number sent again after the cooldown gets a fresh code, like a resend', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const first = codeIn((await t.deliver())[0]?.content ?? '');
    t.clock.advance(60_000);
    expect((await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)])).statusCode).toBe(200);
    const sent = await t.deliver();
    expect(sent.map((sms) => sms.to)).toEqual([NEW]);
    const second = codeIn(sent[0]?.content ?? '');
    if (second !== first) {
      expect((await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code: first })).statusCode).toBe(
        400,
      );
    }
    expect((await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code: second })).statusCode).toBe(202);
  });

  it('a second change replaces the pending number and kills the earlier code', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const first = codeIn((await t.deliver())[0]?.content ?? '');
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile('0999999999')]);
    const second = codeIn((await t.deliver())[0]?.content ?? '');
    const stale = await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code: first });
    if (first !== second) {
      expect(stale.statusCode).toBe(400);
      expect(json(stale).code).toBe('18001');
    }
    const ok = await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code: second });
    expect(ok.statusCode).toBe(202);
    expect(mobileOf(json(await t.get(bob.auth, '/scim2/Me')))).toBe('0999999999');
  });

  it('removing the number clears the primary, phoneVerified, the pending number and its code', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    const removed = await t.patch(bob.auth, '/scim2/Me', [{ op: 'remove', path: 'phoneNumbers[type eq "mobile"]' }]);
    expect(removed.statusCode).toBe(200);
    expect(mobileOf(json(removed))).toBeUndefined();
    expect(enterpriseOf(json(removed)).pendingMobileNumber).toBeUndefined();
    expect(enterpriseOf(json(removed)).phoneVerified).toBeUndefined();
    const rejected = await t.post(bob.auth, '/api/identity/user/v1.0/me/validate-code', { code });
    expect(rejected.statusCode).toBe(400);
    expect(await t.deliver()).toEqual([]);
  });

  it('creating a user never starts verification', async () => {
    const before = t.gateway.requests.length;
    const bob = await newUser();
    await t.deliver();
    expect(t.gateway.requests.length).toBe(before);
    expect(enterpriseOf(bob.body).pendingMobileNumber).toBeUndefined();
    expect(mobileOf(bob.body)).toBe(OLD);
  });

  it('accepts verifyMobile and never stores it', async () => {
    const bob = await newUser();
    const response = await t.patch(bob.auth, '/scim2/Me', [
      {
        op: 'replace',
        value: { phoneNumbers: [{ type: 'mobile', value: NEW }], [PATCH_OP_ENTERPRISE]: { verifyMobile: true } },
      },
    ]);
    expect(response.statusCode).toBe(200);
    expect(enterpriseOf(json(response)).verifyMobile).toBeUndefined();
    const claims = await t.db.selectFrom('user_claims').select('claim_uri').where('user_id', '=', bob.id).execute();
    expect(claims.map((claim) => claim.claim_uri).join()).not.toContain('verifyMobile');
    void PATCH_OP;
  });
});

const PATCH_OP_ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('switches', () => {
  it('MOBILE_VERIFICATION_ENABLED=false changes the number directly, unverified, without SMS', async () => {
    const t = await startVerificationApp({ env: { MOBILE_VERIFICATION_ENABLED: 'false' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const response = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
      expect(mobileOf(json(response))).toBe(NEW);
      expect(enterpriseOf(json(response)).phoneVerified).toBeUndefined();
      expect(await t.deliver()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('SKIP_VERIFICATION_FOR_PRIVILEGED lets admins change numbers via /Users (logged), not users via /Me', async () => {
    const t = await startVerificationApp({ env: { SKIP_VERIFICATION_FOR_PRIVILEGED: 'true' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const byAdmin = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [replaceMobile(NEW)]);
      expect(mobileOf(json(byAdmin))).toBe(NEW);
      expect(enterpriseOf(json(byAdmin)).phoneVerified).toBe(true);
      expect(await t.deliver()).toEqual([]);
      expect(t.logs.some((line) => line.includes('PRIVILEGED_BYPASS'))).toBe(true);
      const bySelf = await t.patch(bob.auth, '/scim2/Me', [replaceMobile('0999999999')]);
      expect(mobileOf(json(bySelf))).toBe(NEW);
      expect(enterpriseOf(json(bySelf)).pendingMobileNumber).toBe('0999999999');
      expect((await t.deliver()).map((sms) => sms.to)).toEqual(['0999999999']);
    } finally {
      await t.close();
    }
  });

  it('REQUIRE_VERIFY_MOBILE_FLAG starts verification only for requests with verifyMobile: true', async () => {
    const t = await startVerificationApp({ env: { REQUIRE_VERIFY_MOBILE_FLAG: 'true' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const unflagged = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
      expect(mobileOf(json(unflagged))).toBe(NEW);
      expect(enterpriseOf(json(unflagged)).phoneVerified).toBeUndefined();
      expect(await t.deliver()).toEqual([]);
      const flagged = await t.patch(bob.auth, '/scim2/Me', [
        { op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: '0999999999' }] } },
        { op: 'replace', path: `${PATCH_OP_ENTERPRISE}:verifyMobile`, value: true },
      ]);
      expect(mobileOf(json(flagged))).toBe(NEW);
      expect(enterpriseOf(json(flagged)).pendingMobileNumber).toBe('0999999999');
      expect((await t.deliver()).map((sms) => sms.to)).toEqual(['0999999999']);
    } finally {
      await t.close();
    }
  });

  it('OTP_CHARSET=alphanumeric and OTP_LENGTH shape the code; SMS_TEMPLATE_MOBILE_VERIFICATION shapes the text', async () => {
    const t = await startVerificationApp({
      env: {
        OTP_CHARSET: 'alphanumeric',
        OTP_LENGTH: '10',
        OTP_TTL_SECONDS: '600',
        SMS_TEMPLATE_MOBILE_VERIFICATION: 'Your code is {{confirmation-code}} ({{expiry-minutes}} min)',
      },
    });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
      const content = (await t.deliver())[0]?.content ?? '';
      expect(content).toMatch(/^Your code is [A-HJ-NP-Za-km-z1-9]{10} \(10 min\)$/);
      expect(codeIn(content)).not.toMatch(/[0IOQilo]/);
    } finally {
      await t.close();
    }
  });
});

void PATCH_OP;
