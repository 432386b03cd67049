import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { environmentSenderSettings } from '../../src/sms/sender-settings.js';
import { createUser, scimRequest, startTestApp, TEST_SECRET, type TestApp, uniqueName } from '../support/test-app.js';

describe('SMS_PROVIDER=inbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMS_PROVIDER: 'inbox' } });
  });
  afterAll(async () => t.close());

  it('keeps each message in the database, shows it to administrators, and never logs its text', async () => {
    const user = await createUser(t, uniqueName('ina'), { phoneNumbers: [{ type: 'mobile', value: '+94774000001' }] });
    const changed = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: '+94774000002' }] } }],
      },
    });
    expect(changed.statusCode).toBe(200);
    // The SCIM answer tells a UI how long "Resend code" must wait, and how many attempts the code has.
    expect(changed.headers['x-verification-resend-after']).toBe('60');
    expect(changed.headers['x-verification-attempts-remaining']).toBe('5');
    expect(await t.app.smsDispatcher.dispatchDueMessages()).toBe(1);

    const inbox = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/sms-inbox?to=%2B94774000002',
      headers: { authorization: t.adminAuth },
    });
    expect(inbox.statusCode).toBe(200);
    const page = inbox.json<{ totalResults: number; messages: { to: string; text: string }[] }>();
    expect(page.totalResults).toBe(1);
    const text = page.messages[0]?.text ?? '';
    const code = /code is (\d+)/.exec(text)?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    expect(t.logs.join('')).not.toContain(text);
    expect(t.logs.join('')).not.toContain(`code is ${code}`);

    const forbidden = await t.app.inject({
      method: 'GET',
      url: '/api/server/v1/sms-inbox',
      headers: { authorization: user.auth },
    });
    expect(forbidden.statusCode).toBe(403);
  });

  it('"Send test SMS" queues a fixed text through the outbox; a bad number is a 400', async () => {
    const sent = await t.app.inject({
      method: 'POST',
      url: '/api/server/v1/sms-test-messages',
      headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
      payload: { mobile: '+94774000009' },
    });
    expect(sent.statusCode).toBe(202);
    const row = await t.db
      .selectFrom('sms_outbox')
      .selectAll()
      .where('id', '=', sent.json<{ deliveryId: string }>().deliveryId)
      .executeTakeFirstOrThrow();
    expect(row.purpose).toBe('test');
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/server/v1/sms-test-messages',
      headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
      payload: { mobile: 'not a number' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('is the default outside production and refused in production', () => {
    expect(environmentSenderSettings(loadConfig({ NODE_ENV: 'development' }))).toEqual({ provider: 'inbox' });
    expect(() => loadConfig({ NODE_ENV: 'production', SECRET_KEY: TEST_SECRET, SMS_PROVIDER: 'inbox' })).toThrow(
      ConfigError,
    );
  });
});
