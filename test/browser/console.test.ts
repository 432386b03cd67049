import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json, scimRequest, uniqueName } from '../support/test-app.js';
import {
  type BrowserServer,
  codeFromInbox,
  launchBrowser,
  openConsole,
  signIn,
  startBrowserServer,
} from './browser-support.js';

const SENDERS = '/api/server/v1/notification-senders/sms';

describe('Console in Chromium', () => {
  let server: BrowserServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    server = await startBrowserServer();
    browser = await launchBrowser();
    context = browser.context;
    page = await openConsole(context, server.baseUrl);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the apps with a strict Content-Security-Policy that forbids framing', async () => {
    const response = await fetch(`${server.baseUrl}/console/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const navigation = page.getByRole('navigation', { name: 'Console' });
    for (const name of ['Users', 'SMS provider', 'SMS deliveries', 'Audit', 'SMS inbox']) {
      expect(await navigation.getByRole('link', { name, exact: true }).isVisible()).toBe(true);
    }
    // No Groups API on this server: no Groups entry.
    expect(await navigation.getByRole('link', { name: 'Groups' }).count()).toBe(0);
  });

  it('lists users with "Search users" and paging', async () => {
    const prefix = uniqueName('pager');
    for (let index = 0; index < 12; index++)
      await createUser(server.testApp, `${prefix}-${String(index).padStart(2, '0')}`);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Search users').fill(prefix);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toBe('1–10 of 12');
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toBe('11–12 of 12');
    await expect.poll(() => page.getByRole('table').getByRole('link').count()).toBe(2);
    await page.getByRole('button', { name: 'Previous' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toBe('1–10 of 12');
  });

  it("an administrator changes another user's number, resends the code and verifies it on their behalf", async () => {
    const userName = uniqueName('bob');
    const bob = await createUser(server.testApp, userName, {
      phoneNumbers: [{ type: 'mobile', value: '+94772000001' }],
    });
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByLabel('Search users').fill(userName);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: userName }).click();
    await page.getByRole('heading', { name: userName }).waitFor();

    await page.getByLabel('Mobile number', { exact: true }).fill('+94772000002');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toContain('A verification code was sent to +94772000002');
    const resend = page.getByRole('button', { name: 'Resend code' });
    expect(await resend.isDisabled()).toBe(true);
    await expect.poll(() => resend.isEnabled(), { timeout: 10_000 }).toBe(true);
    await resend.click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('A new code was sent');
    const userUrl = page.url();
    // The second code (the resent one) is the one that counts.
    let code = '';
    await expect
      .poll(async () => {
        const rows = await server.testApp.db
          .selectFrom('sms_inbox')
          .select('id')
          .where('to_number', '=', '+94772000002')
          .execute();
        return rows.length;
      })
      .toBe(2);
    code = await codeFromInbox(page, '+94772000002');
    await page.goto(userUrl);
    await page.getByLabel('Verification code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Verified: +94772000002');
    const stored = await scimRequest(server.testApp, { method: 'GET', url: `/scim2/Users/${bob.id}` });
    expect(JSON.stringify(json(stored).phoneNumbers)).toContain('+94772000002');
    expect(JSON.stringify(json(stored))).toContain('"phoneVerified":true');

    // The audit trail shows it, filtered by type.
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Event type').selectOption('VERIFIED');
    await page.getByLabel('User ID').fill(bob.id);
    await page.getByLabel('User ID').press('Enter');
    await page.getByLabel('User ID').blur();
    const audit = page.getByRole('table', { name: 'Audit events' });
    await expect.poll(() => audit.getByRole('row').count()).toBe(2);
    expect(await audit.innerText()).toContain('admin');
  });

  it('"Send test SMS" goes through the provider (the inbox) and shows in the delivery records', async () => {
    await page.getByRole('link', { name: 'SMS provider' }).click();
    await page.getByLabel('Test mobile number').fill('+94773000001');
    await page.getByRole('button', { name: 'Send test SMS' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Test SMS queued for +94773000001');
    await page.getByRole('link', { name: 'SMS inbox' }).click();
    const inbox = page.getByRole('table', { name: 'SMS inbox' });
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return inbox.innerText();
      })
      .toContain('the SMS provider works');

    await page.getByRole('link', { name: 'SMS deliveries' }).click();
    await page.getByLabel('State').selectOption('sent');
    const deliveries = page.getByRole('table', { name: 'SMS deliveries' });
    await expect.poll(() => deliveries.innerText()).toContain('test');
    expect(await deliveries.innerText()).toContain('inbox');
    await page.getByLabel('State').selectOption('failed');
    await expect.poll(() => deliveries.getByRole('row').count()).toBe(1);
  });

  it('configures each provider tab; the senders API shows it and never returns a secret', async () => {
    const admin = server.testApp.adminAuth;
    const senders = async () =>
      (await server.testApp.app.inject({ method: 'GET', url: SENDERS, headers: { authorization: admin } })).body;
    await page.getByRole('link', { name: 'SMS provider' }).click();

    await page.getByRole('tab', { name: 'Twilio' }).click();
    await page.getByLabel('Account SID').fill(`AC${'0123456789abcdef'.repeat(2)}`);
    await page.getByLabel('Auth Token').fill('twilio-auth-token-secret');
    await page.getByLabel('Sender').fill('+15005550006');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Saved: SMS goes through Twilio');
    let body = await senders();
    expect(body).toContain('"provider":"Twilio"');
    expect(body).toContain('+15005550006');
    expect(body).not.toContain('twilio-auth-token-secret');
    // A reload drops the in-memory token: sign in again, then the stored sender is shown, secrets as "set".
    await page.reload();
    await signIn(page, 'admin', 'admin-password-for-tests');
    await page.getByRole('link', { name: 'SMS provider' }).click();
    await page.getByRole('tab', { name: 'Twilio', selected: true }).waitFor();
    expect(await page.getByLabel('Auth Token').inputValue()).toBe('');
    expect(await page.getByText('The Auth Token is set').isVisible()).toBe(true);

    await page.getByRole('tab', { name: 'Vonage' }).click();
    await page.getByLabel('API Key').fill('vonage-key');
    await page.getByLabel('API Secret').fill('vonage-api-secret');
    await page.getByLabel('Sender').fill('ACME');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Saved: SMS goes through Vonage');
    body = await senders();
    expect(body).toContain('"provider":"Vonage"');
    expect(body).toContain('vonage-key');
    expect(body).not.toContain('vonage-api-secret');

    await page.getByRole('tab', { name: 'Custom' }).click();
    await page.getByLabel('SMS Provider URL').fill('http://127.0.0.1:9/sms');
    await page.getByLabel('Content Type').selectOption('FORM');
    await page.getByLabel('HTTP Method').selectOption('PUT');
    await page.getByLabel('Payload Template').fill('to={{mobile}}&text={{body}}');
    await page.getByLabel('Headers').fill('Authorization: Bearer custom-header-secret');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Saved: SMS goes through Custom');
    body = await senders();
    expect(body).toContain('"provider":"Custom"');
    expect(body).toContain('"contentType":"FORM"');
    expect(body).toContain('{"key":"http.method","value":"PUT"}');
    expect(body).toContain('to={{mobile}}&text={{body}}');
    expect(body).not.toContain('custom-header-secret');
    expect(body).not.toContain('http.headers');

    // Back to the development inbox for the other tests.
    await page.getByRole('button', { name: 'Remove configuration' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Removed');
    expect(await senders()).toBe('[]');
  });

  it('refuses the Console to a user who is not an administrator', async () => {
    const userName = uniqueName('carol');
    await createUser(server.testApp, userName);
    const other = await context.newPage();
    await other.goto(`${server.baseUrl}/console/`);
    await signIn(other, userName, `${userName}-password`);
    await other.getByText('This account is not an administrator').waitFor();
    await other.close();
  });
});
