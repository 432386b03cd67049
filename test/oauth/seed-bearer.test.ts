import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, json } from '../support/test-app.js';
import {
  codeIn,
  enterpriseOf,
  listsOf,
  mobileOf,
  startVerificationApp,
  type VerificationTestApp,
} from '../support/verification-helpers.js';
import { oauthPost, type TokenBody } from './oauth-helpers.js';

/**
 * Every request of the seed document (WSO2's "Enable mobile number verification on update"),
 * sent as written there: the same bodies, `Content-Type:application/json` and
 * `Authorization: Bearer <access_token>`, with the token obtained from POST /oauth2/token.
 * Only the placeholders are filled in (user id, code, user name).
 */
describe('the seed requests with bearer tokens from /oauth2/token', () => {
  let t: VerificationTestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await startVerificationApp({ env: { MULTIPLE_MOBILE_NUMBERS: 'true' } });
    adminToken = await tokenFor(ADMIN.userName, ADMIN.password);
  });
  afterAll(async () => t.close());

  /** `curl -d "grant_type=password&username=...&password=..." https://localhost:9443/oauth2/token` */
  async function tokenFor(username: string, password: string): Promise<string> {
    const response = await oauthPost(t, 'token', { grant_type: 'password', username, password });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<TokenBody>().access_token;
  }

  /** One curl of the seed: method, URL, raw body and its two headers. */
  function curl(method: 'POST' | 'PATCH', url: string, token: string, body: string): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method,
      url,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      payload: body,
    });
  }

  /** Bob as in the seed's sample response: primary 0111111111, verified. Set up with bearer tokens too. */
  async function createBob(userName: string): Promise<{ id: string; token: string }> {
    const created = await curl(
      'POST',
      '/scim2/Users',
      adminToken,
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName,
        password: `${userName}-Passw0rd`,
        name: { givenName: 'Bob', familyName: 'Smith' },
        emails: ['bob@example.com'],
        phoneNumbers: [{ type: 'mobile', value: '0111111111' }],
      }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const id = String(json(created).id);
    const token = await tokenFor(userName, `${userName}-Passw0rd`);
    const own = await curl(
      'PATCH',
      '/scim2/Me',
      token,
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        // The unchanged primary is no change: listing it as verified is what sends it a code.
        Operations: [{ op: 'add', path: 'urn:scim:wso2:schema:verifiedMobileNumbers', value: '0111111111' }],
      }),
    );
    expect(own.statusCode).toBe(200);
    const code = codeIn((await t.deliver())[0]?.content ?? '');
    const validated = await curl('POST', '/api/identity/user/v1.0/me/validate-code', token, JSON.stringify({ code }));
    expect(validated.statusCode).toBe(202);
    return { id, token };
  }

  it('update the primary mobile number, resend the code (user and privileged), validate it (user)', async () => {
    const bob = await createBob('bob');

    // "Update the primary mobile number": PATCH /scim2/Users/<user_ID>.
    const patched = await curl(
      'PATCH',
      `/scim2/Users/${bob.id}`,
      adminToken,
      `{
            "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{
                "op":"replace",
                "value":
                { "phoneNumbers":[{"type": "mobile", "value":"0123456789"}]}
            }]
          }`,
    );
    expect(patched.statusCode, patched.body).toBe(200);
    expect(mobileOf(json(patched))).toBe('0111111111');
    expect(enterpriseOf(json(patched)).pendingMobileNumber).toBe('0123456789');
    expect((await t.deliver()).map((sms) => sms.to)).toEqual(['0123456789']);

    // "Resend the verification code" by a non-privileged user.
    t.clock.advance(61_000);
    const resentOwn = await curl(
      'POST',
      '/api/identity/user/v1.0/me/resend-code',
      bob.token,
      `{ "properties": [{
                "key": "RecoveryScenario",
                "value": "MOBILE_VERIFICATION_ON_UPDATE"
            }]
          }`,
    );
    expect(resentOwn.statusCode, resentOwn.body).toBe(201);
    expect((await t.deliver()).map((sms) => sms.to)).toEqual(['0123456789']);

    // "Resend the verification code" by a privileged user. The seed's body has a stray quote
    // ("realm": PRIMARY") that no JSON parser accepts; it is sent here with the quote fixed.
    t.clock.advance(61_000);
    const resentPrivileged = await curl(
      'POST',
      '/api/identity/user/v1.0/resend-code',
      adminToken,
      `{
            "user": {
                "username": "bob",
                "realm": "PRIMARY"
            },
            "properties": [{
                "key":"RecoveryScenario",
                "value":"MOBILE_VERIFICATION_ON_UPDATE"
            }]
          }`,
    );
    expect(resentPrivileged.statusCode, resentPrivileged.body).toBe(201);
    const sent = await t.deliver();
    expect(sent.map((sms) => sms.to)).toEqual(['0123456789']);

    // "Validate the verification code" by a non-privileged user.
    const code = codeIn(sent[0]?.content ?? '');
    const validated = await curl(
      'POST',
      '/api/identity/user/v1.0/me/validate-code',
      bob.token,
      `{ "code": "${code}",
            "properties": []
          }`,
    );
    expect(validated.statusCode, validated.body).toBe(202);
    const me = await t.app.inject({
      method: 'GET',
      url: '/scim2/Me',
      headers: { Authorization: `Bearer ${bob.token}` },
    });
    expect(mobileOf(json(me))).toBe('0123456789');
    expect(enterpriseOf(json(me)).pendingMobileNumber).toBeUndefined();
  });

  it('update the verified mobile numbers list, validate the code (privileged)', async () => {
    const bob = await createBob('bob123');

    // "Update the verified mobile numbers list": PATCH /scim2/Users/<user_ID>.
    const patched = await curl(
      'PATCH',
      `/scim2/Users/${bob.id}`,
      adminToken,
      `{
            "schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations":[{
                "op":"replace",
                "value":{"urn:scim:wso2:schema": {"verifiedMobileNumbers": "0111111111,0123456789"}}
            }]
          }`,
    );
    expect(patched.statusCode, patched.body).toBe(200);
    const body = json(patched);
    expect(body.userName).toBe('bob123');
    expect(mobileOf(body)).toBe('0111111111');
    expect(listsOf(body)).toEqual({ mobileNumbers: ['0111111111'], verifiedMobileNumbers: ['0111111111'] });
    expect(enterpriseOf(body).pendingMobileNumber).toBe('0123456789');
    const sent = await t.deliver();
    expect(sent.map((sms) => sms.to)).toEqual(['0123456789']);

    // "Validate the verification code" by a privileged user.
    const code = codeIn(sent[0]?.content ?? '');
    const validated = await curl(
      'POST',
      '/api/identity/user/v1.0/validate-code',
      adminToken,
      `{ "code": "${code}",
            "properties": []
          }`,
    );
    expect(validated.statusCode, validated.body).toBe(202);
    expect(json(validated)).toEqual({
      username: 'bob123',
      'tenant-domain': 'carbon.super',
      realm: 'PRIMARY',
      userId: bob.id,
    });
    const me = await t.app.inject({
      method: 'GET',
      url: '/scim2/Me',
      headers: { Authorization: `Bearer ${bob.token}` },
    });
    expect(listsOf(json(me))).toEqual({
      mobileNumbers: ['0111111111', '0123456789'],
      verifiedMobileNumbers: ['0111111111', '0123456789'],
    });
  });

  it("the privileged requests need the administrator's scopes: a user's token gets 403", async () => {
    const user = await tokenFor('bob', 'bob-Passw0rd');
    const validate = await curl(
      'POST',
      '/api/identity/user/v1.0/validate-code',
      user,
      '{ "code": "1234", "properties": [] }',
    );
    expect(validate.statusCode).toBe(403);
    expect(validate.headers['www-authenticate']).toMatch(/insufficient_scope.*scope="internal_user_mgt_update"/);
    const patch = await curl(
      'PATCH',
      '/scim2/Users/1e624046-520c-4628-a245-091e04b03f21',
      user,
      '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"phoneNumbers":[{"type": "mobile", "value":"0123456789"}]}}]}',
    );
    expect(patch.statusCode).toBe(403);
  });
});
