import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';
import {
  codeIn,
  enterpriseOf,
  listsOf,
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

describe('multiple mobile numbers (MOBILE_VERIFICATION_ON_VERIFIED_LIST_UPDATE)', () => {
  let t: VerificationTestApp;
  let counter = 0;

  /** Bob as in the seed: primary 0111111111, verified, in both lists. */
  async function seedBob() {
    const bob = await createUser(t, `bob${++counter}`, {
      name: { givenName: 'Bob', familyName: 'Smith' },
      emails: ['bob@example.com'],
      phoneNumbers: [{ type: 'mobile', value: OLD }],
    });
    await t.patch(bob.auth, '/scim2/Me', [{ op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: OLD }]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    expect((await t.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(202);
    return bob;
  }

  beforeAll(async () => {
    t = await startVerificationApp({ env: { MULTIPLE_MOBILE_NUMBERS: 'true' } });
  });
  afterAll(async () => t.close());

  it('the seed request adds one number: a code goes to it and the response matches the seed', async () => {
    const bob = await seedBob();
    const response = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
      { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: '0111111111,0123456789' } } },
    ]);
    expect(response.statusCode).toBe(200);
    const body = json(response);
    expect(body.phoneNumbers).toEqual([{ type: 'mobile', value: OLD }]);
    expect(listsOf(body)).toEqual({ mobileNumbers: [OLD], verifiedMobileNumbers: [OLD] });
    expect(enterpriseOf(body).pendingMobileNumber).toBe(NEW);
    expect(body.schemas).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      'urn:scim:wso2:schema',
    ]);
    const sent = await t.deliver();
    expect(sent.map((sms) => sms.to)).toEqual([NEW]);

    const code = codeIn(sent[0]?.content ?? '');
    expect((await t.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(202);
    const after = json(await t.get(bob.auth, '/scim2/Me'));
    expect(mobileOf(after)).toBe(OLD);
    expect(listsOf(after)).toEqual({ mobileNumbers: [OLD, NEW], verifiedMobileNumbers: [OLD, NEW] });
    expect(enterpriseOf(after).pendingMobileNumber).toBeUndefined();
  });

  it('accepts JSON arrays and path forms for the lists', async () => {
    const bob = await seedBob();
    const response = await t.patch(bob.auth, '/scim2/Me', [
      { op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: [NEW] },
    ]);
    expect(response.statusCode).toBe(200);
    expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
    expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW]);
  });

  it('two new verified numbers in one request: 400 invalidValue, nothing changes, no SMS', async () => {
    const bob = await seedBob();
    const response = await t.patch(bob.auth, '/scim2/Me', [
      { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: `${OLD},${NEW},0999999999` } } },
    ]);
    expect(response.statusCode).toBe(400);
    expect(json(response).scimType).toBe('invalidValue');
    expect(String(json(response).detail)).toMatch(/multiple mobile numbers/i);
    const me = json(await t.get(bob.auth, '/scim2/Me'));
    expect(listsOf(me)).toEqual({ mobileNumbers: [OLD], verifiedMobileNumbers: [OLD] });
    expect(enterpriseOf(me).pendingMobileNumber).toBeUndefined();
    expect(await t.deliver()).toEqual([]);
  });

  it('switching the primary to a verified number needs no code', async () => {
    const bob = await seedBob();
    await t.patch(bob.auth, '/scim2/Me', [{ op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: NEW }]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    await t.post(bob.auth, ME_VALIDATE, { code });
    const switched = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    expect(mobileOf(json(switched))).toBe(NEW);
    expect(enterpriseOf(json(switched)).phoneVerified).toBe(true);
    expect(await t.deliver()).toEqual([]);
    // The old primary stays verified, so switching back needs no code either.
    const back = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(OLD)]);
    expect(mobileOf(json(back))).toBe(OLD);
    expect(await t.deliver()).toEqual([]);
  });

  it('a confirmed new primary joins both lists', async () => {
    const bob = await seedBob();
    await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    await t.post(bob.auth, ME_VALIDATE, { code });
    const me = json(await t.get(bob.auth, '/scim2/Me'));
    expect(mobileOf(me)).toBe(NEW);
    expect(listsOf(me)).toEqual({ mobileNumbers: [OLD, NEW], verifiedMobileNumbers: [OLD, NEW] });
  });

  it('numbers removed from mobileNumbers leave verifiedMobileNumbers', async () => {
    const bob = await seedBob();
    const response = await t.patch(bob.auth, '/scim2/Me', [
      { op: 'replace', path: `${WSO2}:mobileNumbers`, value: '0555555555' },
    ]);
    expect(response.statusCode).toBe(200);
    expect(listsOf(json(response))).toEqual({ mobileNumbers: ['0555555555'] });
  });

  it('when the primary and the list change in one request, the primary change wins', async () => {
    const bob = await seedBob();
    const response = await t.patch(bob.auth, '/scim2/Me', [
      replaceMobile(NEW),
      { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: `${OLD},0999999999` } } },
    ]);
    expect(response.statusCode).toBe(200);
    expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
    expect(wso2Of(json(response)).verifiedMobileNumbers).toEqual([OLD]);
    expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW]);
  });

  it('adding the verified primary to the verified list needs no code', async () => {
    const bob = await createUser(t, `bob${++counter}`, { phoneNumbers: [{ type: 'mobile', value: OLD }] });
    await t.patch(bob.auth, '/scim2/Me', [{ op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: OLD }]);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    await t.post(bob.auth, ME_VALIDATE, { code });
    await t.patch(bob.auth, '/scim2/Me', [{ op: 'remove', path: `${WSO2}:verifiedMobileNumbers` }]);
    const response = await t.patch(bob.auth, '/scim2/Me', [
      { op: 'add', path: `${WSO2}:verifiedMobileNumbers`, value: OLD },
    ]);
    expect(wso2Of(json(response)).verifiedMobileNumbers).toEqual([OLD]);
    expect(await t.deliver()).toEqual([]);
  });
});

describe('MULTIPLE_MOBILE_NUMBERS=false', () => {
  it('the list attributes are not writable: 400 mutability', async () => {
    const t = await startVerificationApp({ env: { MULTIPLE_MOBILE_NUMBERS: 'false' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const response = await t.patch(bob.auth, '/scim2/Me', [
        { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: `${OLD},${NEW}` } } },
      ]);
      expect(response.statusCode).toBe(400);
      expect(json(response).scimType).toBe('mutability');
      expect(await t.deliver()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('multiple mobile numbers by default, and turned on later', () => {
  it('are on without any setting (WSO2 7.x): the seed list request sends a code', async () => {
    const t = await startVerificationApp();
    try {
      const bob = await createUser(t, 'bob', {
        phoneNumbers: [{ type: 'mobile', value: OLD }],
        [WSO2]: { mobileNumbers: [OLD], verifiedMobileNumbers: [OLD] },
      });
      const response = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [
        { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: `${OLD},${NEW}` } } },
      ]);
      expect(response.statusCode).toBe(200);
      expect(enterpriseOf(json(response)).pendingMobileNumber).toBe(NEW);
      expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW]);
    } finally {
      await t.close();
    }
  });

  it("after the README walkthrough with them off, a restart with them on accepts the README's list request", async () => {
    const database = await createTestDatabase();
    try {
      const off = await startVerificationApp({ database, env: { MULTIPLE_MOBILE_NUMBERS: 'false' } });
      let bob: Awaited<ReturnType<typeof createUser>>;
      try {
        bob = await createUser(off, 'bob123', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
        await off.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
        const code = codeIn((await off.deliver())[0]?.content ?? '');
        expect((await off.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(202);
      } finally {
        await off.close();
      }
      const on = await startVerificationApp({ database, env: { MULTIPLE_MOBILE_NUMBERS: 'true' } });
      try {
        const response = await on.patch(on.adminAuth, `/scim2/Users/${bob.id}`, [
          { op: 'replace', value: { [WSO2]: { verifiedMobileNumbers: `${OLD},${NEW}` } } },
        ]);
        expect(response.statusCode).toBe(200);
        const body = json(response);
        // NEW, verified before the lists existed, counts as verified: only OLD needs a code.
        expect(mobileOf(body)).toBe(NEW);
        expect(enterpriseOf(body)).toMatchObject({ phoneVerified: true, pendingMobileNumber: OLD });
        expect(listsOf(body)).toEqual({ mobileNumbers: [NEW], verifiedMobileNumbers: [NEW] });
        const sent = await on.deliver();
        expect(sent.map((sms) => sms.to)).toEqual([OLD]);
        expect((await on.post(bob.auth, ME_VALIDATE, { code: codeIn(sent[0]?.content ?? '') })).statusCode).toBe(202);
        const after = json(await on.get(bob.auth, '/scim2/Me'));
        expect(mobileOf(after)).toBe(NEW);
        expect(listsOf(after)).toEqual({ mobileNumbers: [NEW, OLD], verifiedMobileNumbers: [NEW, OLD] });
      } finally {
        await on.close();
      }
    } finally {
      await database.close();
    }
  });
});
