import { describe, expect, it } from 'vitest';
import { createUser, json, startTestApp } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';
import {
  codeIn,
  enterpriseOf,
  mobileOf,
  replaceMobile,
  startVerificationApp,
} from '../support/verification-helpers.js';

const OLD = '0111111111';
const NEW = '0123456789';
const ME_VALIDATE = '/api/identity/user/v1.0/me/validate-code';
const ME_RESEND = '/api/identity/user/v1.0/me/resend-code';
const ON_UPDATE = [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }];

describe('limits', () => {
  it('a resend within the cooldown answers 429 with Retry-After; after it, 201', async () => {
    const t = await startVerificationApp();
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      await t.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
      await t.deliver();
      const early = await t.post(bob.auth, ME_RESEND, { properties: ON_UPDATE });
      expect(early.statusCode).toBe(429);
      expect(json(early).code).toBe('SMV-10002');
      expect(Number(early.headers['retry-after'])).toBe(60);
      expect(early.headers['x-verification-resend-after']).toBe('60');
      expect(await t.deliver()).toEqual([]);
      t.clock.advance(60_000);
      const later = await t.post(bob.auth, ME_RESEND, { properties: ON_UPDATE });
      expect(later.statusCode).toBe(201);
      expect(later.headers['x-verification-resend-after']).toBe('60');
      expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW]);
    } finally {
      await t.close();
    }
  });

  it('SMS per number per day: the change that would exceed it is refused whole', async () => {
    const t = await startVerificationApp({ env: { SMS_PER_NUMBER_PER_DAY: '2' } });
    try {
      for (const name of ['a1', 'a2']) {
        const user = await createUser(t, name, { phoneNumbers: [{ type: 'mobile', value: OLD }] });
        expect((await t.patch(user.auth, '/scim2/Me', [replaceMobile(NEW)])).statusCode).toBe(200);
      }
      const third = await createUser(t, 'a3', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      const refused = await t.patch(third.auth, '/scim2/Me', [
        replaceMobile(NEW),
        { op: 'replace', path: 'name.givenName', value: 'Changed' },
      ]);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      // A SCIM error body; `tooMany` is RFC 7644's word for a filter matching too much, so it is absent.
      expect(json(refused)).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '429',
        detail: expect.stringMatching(/too many verification messages/i),
      });
      const me = json(await t.get(third.auth, '/scim2/Me'));
      expect(enterpriseOf(me).pendingMobileNumber).toBeUndefined();
      expect(me.name).toBeUndefined();
      expect((await t.deliver()).map((sms) => sms.to)).toEqual([NEW, NEW]);
      t.clock.advance(86_400_000);
      expect((await t.patch(third.auth, '/scim2/Me', [replaceMobile(NEW)])).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('SMS per user per day', async () => {
    const t = await startVerificationApp({ env: { SMS_PER_USER_PER_DAY: '2' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      expect((await t.patch(bob.auth, '/scim2/Me', [replaceMobile('0700000001')])).statusCode).toBe(200);
      expect((await t.patch(bob.auth, '/scim2/Me', [replaceMobile('0700000002')])).statusCode).toBe(200);
      const third = await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [replaceMobile('0700000003')]);
      expect(third.statusCode).toBe(429);
      expect(json(third)).not.toHaveProperty('scimType');
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      expect(enterpriseOf(json(await t.get(bob.auth, '/scim2/Me'))).pendingMobileNumber).toBe('0700000002');
    } finally {
      await t.close();
    }
  });

  it('requests per client IP hold across instances sharing one database', async () => {
    const database = await createTestDatabase();
    const env = { VERIFICATION_REQUESTS_PER_IP_PER_HOUR: '3' };
    const first = await startVerificationApp({ env, database });
    const second = await startTestApp({ env: { ...env, SMS_PROVIDER: 'log' }, database });
    try {
      const bob = await createUser(first, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      await first.patch(bob.auth, '/scim2/Me', [replaceMobile(NEW)]);
      const code = codeIn((await first.deliver())[0]?.content ?? '');
      const wrong = code === '000000' ? '111111' : '000000';
      const inject = (app: typeof first.app) =>
        app.inject({
          method: 'POST',
          url: ME_VALIDATE,
          headers: { authorization: bob.auth },
          payload: { code: wrong },
        });
      expect((await inject(first.app)).statusCode).toBe(400);
      expect((await inject(second.app)).statusCode).toBe(400);
      expect((await inject(first.app)).statusCode).toBe(400);
      const limited = await inject(second.app);
      expect(limited.statusCode).toBe(429);
      expect(json(limited).code).toBe('SMV-10004');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Even the right code waits: the limit is per address, before any comparison.
      expect((await first.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(429);
    } finally {
      await second.close();
      await first.close();
      await database.close();
    }
  });
});

describe('destination policy', () => {
  it('refuses numbers that cannot receive SMS, countries not allowed and lookalike digits; sends to E.164', async () => {
    const t = await startVerificationApp({ env: { PHONE_DEFAULT_REGION: 'GB', SMS_ALLOWED_COUNTRIES: 'GB,LK' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: '07400 100001' }] });
      const refused = [
        '+1 415 555 2671', // a US number: country not allowed
        '+44 20 7946 0000', // a London landline
        '0900 000 0000', // premium rate
        '０７７００９００１２３', // full-width digits
        '07400 1234O6', // letter O for zero
        '12',
      ];
      for (const number of refused) {
        const response = await t.patch(bob.auth, '/scim2/Me', [replaceMobile(number)]);
        expect(response.statusCode, number).toBe(400);
        expect(json(response).scimType).toBe('invalidValue');
      }
      expect(await t.deliver()).toEqual([]);
      const accepted = await t.patch(bob.auth, '/scim2/Me', [replaceMobile('07400 123456')]);
      expect(accepted.statusCode).toBe(200);
      // The stored value stays exactly as the client sent it; the SMS goes to the E.164 form.
      expect(enterpriseOf(json(accepted)).pendingMobileNumber).toBe('07400 123456');
      expect((await t.deliver()).map((sms) => sms.to)).toEqual(['+447400123456']);
    } finally {
      await t.close();
    }
  });
});

describe('matching numbers by their E.164 form', () => {
  it('another spelling of a verified number switches at once, without a code', async () => {
    const t = await startVerificationApp({ env: { PHONE_DEFAULT_REGION: 'LK', MULTIPLE_MOBILE_NUMBERS: 'true' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: '+94771234567' }] });
      await t.patch(bob.auth, '/scim2/Me', [
        { op: 'add', path: 'urn:scim:wso2:schema:verifiedMobileNumbers', value: '+94771234567' },
      ]);
      const sent = await t.deliver();
      expect(sent.map((sms) => sms.to)).toEqual(['+94771234567']);
      await t.post(bob.auth, ME_VALIDATE, { code: codeIn(sent[0]?.content ?? '') });
      const respelled = await t.patch(bob.auth, '/scim2/Me', [replaceMobile('077 123 4567')]);
      expect(respelled.statusCode).toBe(200);
      expect(mobileOf(json(respelled))).toBe('077 123 4567');
      expect(enterpriseOf(json(respelled)).phoneVerified).toBe(true);
      expect(enterpriseOf(json(respelled)).pendingMobileNumber).toBeUndefined();
      expect(await t.deliver()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe('audit trail', () => {
  it('records every step with actor, persona, masked number, IP and request id, and never the code', async () => {
    const t = await startVerificationApp({ env: { SKIP_VERIFICATION_FOR_PRIVILEGED: 'true' } });
    try {
      const bob = await createUser(t, 'bob', { phoneNumbers: [{ type: 'mobile', value: OLD }] });
      await t.app.inject({
        method: 'PATCH',
        url: '/scim2/Me',
        headers: { authorization: bob.auth, 'content-type': 'application/json', 'x-request-id': 'req-audit-1' },
        payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [replaceMobile(NEW)] },
      });
      const code = codeIn((await t.deliver())[0]?.content ?? '');
      await t.post(bob.auth, ME_VALIDATE, { code: code === '000000' ? '111111' : '000000' });
      t.clock.advance(1000);
      expect((await t.post(bob.auth, ME_VALIDATE, { code })).statusCode).toBe(202);
      t.clock.advance(1000);
      await t.patch(t.adminAuth, `/scim2/Users/${bob.id}`, [replaceMobile('0999999999')]);
      expect(mobileOf(json(await t.get(bob.auth, '/scim2/Me')))).toBe('0999999999');

      const response = await t.get(t.adminAuth, `/api/server/v1/audit-events?userId=${bob.id}`);
      expect(response.statusCode).toBe(200);
      const body = json(response) as { totalResults: number; events: Record<string, unknown>[] };
      const types = body.events.map((event) => event.type).reverse();
      expect(types).toEqual(
        expect.arrayContaining(['VERIFICATION_STARTED', 'WRONG_CODE', 'VERIFIED', 'PRIVILEGED_BYPASS']),
      );
      const started = body.events.find((event) => event.type === 'VERIFICATION_STARTED');
      expect(started).toMatchObject({
        persona: 'self',
        actorId: bob.id,
        maskedNumber: '********6789',
        clientIp: '127.0.0.1',
        requestId: 'req-audit-1',
      });
      expect(body.events.find((event) => event.type === 'PRIVILEGED_BYPASS')).toMatchObject({ persona: 'admin' });
      expect(JSON.stringify(body)).not.toContain(code);
      const filtered = json(await t.get(t.adminAuth, `/api/server/v1/audit-events?type=VERIFIED&count=1`));
      expect(filtered.totalResults).toBe(1);
      expect((await t.get(bob.auth, '/api/server/v1/audit-events')).statusCode).toBe(403);
    } finally {
      await t.close();
    }
  });
});
