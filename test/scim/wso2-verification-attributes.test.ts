import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json } from '../support/test-app.js';
import {
  codeIn,
  ENTERPRISE,
  enterpriseOf,
  mobileOf,
  replaceMobile,
  startVerificationApp,
  type VerificationTestApp,
  WSO2,
  wso2Of,
} from '../support/verification-helpers.js';

const OLD = '0111111111';
const NEW = '0123456789';
const ME_VALIDATE = '/api/identity/user/v1.0/me/validate-code';

/** Issue 10, points 1, 2, 7 and 9: the SCIM side of WSO2 parity. */
describe('urn:scim:wso2:schema verification attributes, administrator writes, seed template, list forms', () => {
  let t: VerificationTestApp;
  let counter = 0;
  const newUser = (extra: Record<string, unknown> = {}) =>
    createUser(t, `w${++counter}`, { phoneNumbers: [{ type: 'mobile', value: OLD }], ...extra });
  const put = (auth: string, url: string, body: Record<string, unknown>) =>
    t.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: auth, 'content-type': 'application/scim+json' },
      payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], ...body },
    });
  const codesOf = async (id: string) =>
    t.db.selectFrom('verification_codes').select('id').where('user_id', '=', id).execute();

  beforeAll(async () => {
    t = await startVerificationApp();
  });
  afterAll(async () => t.close());

  it('pendingMobileNumber and phoneVerified are returned in both extensions and filterable in both', async () => {
    const bob = await newUser();
    const response = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    expect(wso2Of(json(response)).pendingMobileNumber).toBe(NEW);
    expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
    for (const attribute of [`${WSO2}:pendingMobileNumber`, `${ENTERPRISE}:pendingMobileNumber`]) {
      const filter = encodeURIComponent(`${attribute} eq "${NEW}" and userName eq "${bob.body.userName}"`);
      const list = json(await t.get(t.adminAuth, `/scim2/Users?filter=${filter}`));
      expect(list.totalResults, attribute).toBe(1);
    }
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    await t.post(bob.auth, ME_VALIDATE, { code });
    const me = json(await t.get(bob.auth, '/scim2/Me'));
    expect(wso2Of(me).phoneVerified).toBe(true);
    expect(enterpriseOf(me).phoneVerified).toBe(true);
    const filter = encodeURIComponent(`${WSO2}:phoneVerified eq true and userName eq "${bob.body.userName}"`);
    expect(json(await t.get(t.adminAuth, `/scim2/Users?filter=${filter}`)).totalResults).toBe(1);
  });

  it('verifyMobile works in urn:scim:wso2:schema too (REQUIRE_VERIFY_MOBILE_FLAG)', async () => {
    const flagged = await startVerificationApp({ env: { REQUIRE_VERIFY_MOBILE_FLAG: 'true' } });
    try {
      const bob = await createUser(flagged, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const response = await flagged.patch(bob.auth, '/scim2/Me', [
        { op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: NEW }], [WSO2]: { verifyMobile: true } } },
      ]);
      expect(response.statusCode).toBe(200);
      expect(wso2Of(json(response)).pendingMobileNumber).toBe(NEW);
      expect(wso2Of(json(response)).verifyMobile).toBeUndefined();
      expect((await flagged.deliver()).map((sms) => sms.to)).toEqual([NEW]);
    } finally {
      await flagged.close();
    }
  });

  it('administrators write phoneVerified on POST, PUT and PATCH (imported users keep their state)', async () => {
    const imported = await newUser({ [WSO2]: { phoneVerified: true } });
    expect(enterpriseOf(imported.body).phoneVerified).toBe(true);
    // Verified, so the same number in the verified list needs no code.
    await t.patch(t.adminAuth, `/scim2/Users/${imported.id}`, [
      { op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: OLD },
    ]);
    expect(await t.deliver()).toEqual([]);

    const carol = await newUser();
    const patched = await t.patch(t.adminAuth, `/scim2/Users/${carol.id}`, [
      { op: 'replace', path: `${ENTERPRISE}:phoneVerified`, value: true },
    ]);
    expect(patched.statusCode).toBe(200);
    expect(wso2Of(json(patched)).phoneVerified).toBe(true);
    const replaced = await put(t.adminAuth, `/scim2/Users/${carol.id}`, {
      userName: carol.body.userName,
      phoneNumbers: [{ type: 'mobile', value: OLD }],
      [WSO2]: { phoneVerified: false },
    });
    expect(replaced.statusCode).toBe(200);
    expect(enterpriseOf(json(replaced)).phoneVerified).toBeUndefined();
    const events = json(
      await t.get(t.adminAuth, `/api/server/v1/audit-events?userId=${carol.id}&type=PHONE_VERIFIED_SET`),
    );
    expect(events.totalResults).toBe(2);
  });

  it('an administrator removes pendingMobileNumber to cancel a verification: its code dies, audited', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    const cancelled = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
      { op: 'remove', path: `${WSO2}:pendingMobileNumber` },
    ]);
    expect(cancelled.statusCode).toBe(200);
    expect(enterpriseOf(json(cancelled)).pendingMobileNumber).toBeUndefined();
    expect(wso2Of(json(cancelled)).pendingMobileNumber).toBeUndefined();
    expect(mobileOf(json(cancelled))).toBe(OLD);
    expect(await codesOf(bob.id)).toEqual([]);
    expect((await t.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(400);
    expect(mobileOf(json(await t.get(bob.auth, '/scim2/Me')))).toBe(OLD);
    const events = json(
      await t.get(t.adminAuth, `/api/server/v1/audit-events?userId=${bob.id}&type=VERIFICATION_CANCELLED`),
    );
    expect(events.totalResults).toBe(1);
    // Setting it to a number is not a way to skip verification.
    const set = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
      { op: 'add', path: `${ENTERPRISE}:pendingMobileNumber`, value: '0999999999' },
    ]);
    expect(set.statusCode).toBe(400);
    expect(json(set).scimType).toBe('mutability');
  });

  it('through /Me both are read-only: 400 mutability on PATCH, ignored in a PUT body', async () => {
    const bob = await newUser();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    await t.deliver();
    const attempts = [
      { op: 'replace', path: `${ENTERPRISE}:phoneVerified`, value: true },
      { op: 'replace', value: { [WSO2]: { phoneVerified: true } } },
      { op: 'remove', path: `${WSO2}:pendingMobileNumber` },
      { op: 'remove', path: `${ENTERPRISE}:pendingMobileNumber` },
    ];
    for (const operation of attempts) {
      const response = await t.patch(bob.auth, '/scim2/Me', [operation]);
      expect(response.statusCode, JSON.stringify(operation)).toBe(400);
      expect(json(response).scimType).toBe('mutability');
    }
    const replaced = await put(bob.auth, '/scim2/Me', {
      userName: bob.body.userName,
      phoneNumbers: [{ type: 'mobile', value: OLD }],
      displayName: 'Bob',
      [ENTERPRISE]: { phoneVerified: true, pendingMobileNumber: '0999999999' },
    });
    expect(replaced.statusCode).toBe(200);
    const body = json(replaced);
    expect(body.displayName).toBe('Bob');
    expect(enterpriseOf(body).phoneVerified).toBeUndefined();
    expect(enterpriseOf(body).pendingMobileNumber).toBe(NEW);
    expect(await codesOf(bob.id)).toHaveLength(1);
  });

  it("the seed's PATCH template {mobileNumbers: [{type: mobile, value}]} means the phoneNumbers mobile entry", async () => {
    const bob = await newUser();
    for (const op of ['replace', 'add']) {
      const response = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
        { op, value: { mobileNumbers: [{ type: 'mobile', value: op === 'add' ? NEW : '0555555555' }] } },
      ]);
      expect(response.statusCode, op).toBe(200);
      expect(mobileOf(json(response))).toBe(OLD);
    }
    expect(enterpriseOf(json(await t.get(t.adminAuth, `/scim2/Users/${bob.id}`))).pendingMobileNumber).toBe(NEW);
    expect((await t.deliver()).map((sms) => sms.to).sort()).toEqual([NEW, '0555555555']);
  });

  it('the lists are arrays as /Schemas declares them; requests may send arrays or comma-joined strings', async () => {
    const schema = json(await t.get(t.adminAuth, `/scim2/Schemas/${WSO2}`)) as {
      attributes: { name: string; multiValued: boolean; type: string }[];
    };
    for (const name of ['mobileNumbers', 'verifiedMobileNumbers']) {
      expect(schema.attributes.find((attribute) => attribute.name === name)).toMatchObject({
        multiValued: true,
        type: 'string',
      });
    }
    const asString = await newUser({ [WSO2]: { mobileNumbers: `${OLD},${NEW}` } });
    const asArray = await newUser({ [WSO2]: { mobileNumbers: [OLD, NEW] } });
    for (const user of [asString, asArray]) {
      expect(wso2Of(user.body).mobileNumbers).toEqual([OLD, NEW]);
      expect(wso2Of(json(await t.get(t.adminAuth, `/scim2/Users/${user.id}`))).mobileNumbers).toEqual([OLD, NEW]);
    }
    const patched = await t.patch(t.adminAuth, `/scim2/Users/${asString.id}`, [
      { op: 'replace', value: { [WSO2]: { mobileNumbers: '0555555555, 0666666666' } } },
    ]);
    expect(wso2Of(json(patched)).mobileNumbers).toEqual(['0555555555', '0666666666']);
  });
});
