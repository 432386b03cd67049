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

describe('My Account in Chromium', () => {
  let server: BrowserServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let consolePage: Page | undefined;

  beforeAll(async () => {
    server = await startBrowserServer();
    browser = await launchBrowser();
    context = browser.context;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function console(): Promise<Page> {
    consolePage ??= await openConsole(context, server.baseUrl);
    return consolePage;
  }

  async function openMyAccount(userName: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${server.baseUrl}/myaccount/`);
    await expect.poll(() => page.url()).toContain('/oauth2/authorize');
    await signIn(page, userName, `${userName}-password`);
    await expect.poll(() => page.getByRole('heading', { name: 'Mobile numbers' }).isVisible()).toBe(true);
    return page;
  }

  it('a user changes the number, reads the code in the SMS inbox, enters a wrong code, then the right one', async () => {
    const userName = uniqueName('alice');
    await createUser(server.testApp, userName, { phoneNumbers: [{ type: 'mobile', value: '+94771000001' }] });
    const page = await openMyAccount(userName);
    expect(page.url()).toBe(`${server.baseUrl}/myaccount/`);
    await expect.poll(() => page.getByText(userName).first().isVisible()).toBe(true);

    await page.getByLabel('Mobile number', { exact: true }).fill('+94771000002');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toContain('A verification code was sent to +94771000002');
    const numbers = page.getByRole('list', { name: 'Mobile numbers' });
    await expect
      .poll(() => numbers.getByRole('listitem').filter({ hasText: '+94771000001' }).innerText())
      .toContain('Primary');
    await expect.poll(() => page.getByText('Pending', { exact: true }).first().isVisible()).toBe(true);

    const code = await codeFromInbox(await console(), '+94771000002');
    const wrong = code === '000000' ? '111111' : '000000';
    await page.getByLabel('Verification code', { exact: true }).fill(wrong);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('attempt(s) left');
    await expect.poll(() => page.getByText('4 attempt(s) remaining.').isVisible()).toBe(true);

    await page.getByLabel('Verification code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Verified: +94771000002');
    const primary = numbers.getByRole('listitem').filter({ hasText: '+94771000002' });
    await expect.poll(() => primary.innerText()).toMatch(/Primary[\s\S]*Verified/);
    expect(await page.getByLabel('Verification code', { exact: true }).count()).toBe(0);
    await page.close();
  });

  it('"Resend code" is disabled with a countdown during the cooldown, and sends a new code after it', async () => {
    const userName = uniqueName('rita');
    const user = await createUser(server.testApp, userName, {
      phoneNumbers: [{ type: 'mobile', value: '+94771000011' }],
    });
    const page = await openMyAccount(userName);
    await page.getByLabel('Mobile number', { exact: true }).fill('+94771000012');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const resend = page.getByRole('button', { name: 'Resend code' });
    await resend.waitFor();
    expect(await resend.isDisabled()).toBe(true);
    expect(await page.getByRole('timer').innerText()).toMatch(/You can request a new code in [1-4] s/);
    // The server refuses a resend during the cooldown too, and says how long to wait.
    const early = await server.testApp.app.inject({
      method: 'POST',
      url: '/api/identity/user/v1.0/me/resend-code',
      headers: { authorization: user.auth, 'content-type': 'application/json' },
      payload: { properties: [{ key: 'RecoveryScenario', value: 'MOBILE_VERIFICATION_ON_UPDATE' }] },
    });
    expect(early.statusCode).toBe(429);
    expect(Number(early.headers['x-verification-resend-after'])).toBeGreaterThan(0);

    const first = await codeFromInbox(await console(), '+94771000012');
    await expect.poll(() => resend.isEnabled(), { timeout: 10_000 }).toBe(true);
    expect(await page.getByRole('timer').count()).toBe(0);
    await resend.click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('A new code was sent to +94771000012');
    expect(await resend.isDisabled()).toBe(true);
    const second = await codeFromInbox(await console(), '+94771000012', first);
    expect(second).not.toBe(first);
    // The old code died with the resend; the new one works.
    await page.getByLabel('Verification code', { exact: true }).fill(second);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Verified: +94771000012');
    await page.close();
  });

  it('with multiple numbers: add a number, verify it, make it primary', async () => {
    const userName = uniqueName('mona');
    await createUser(server.testApp, userName, { phoneNumbers: [{ type: 'mobile', value: '+94771000021' }] });
    const page = await openMyAccount(userName);
    await page.getByLabel('Add a number').fill('+94771000022');
    await page.getByRole('button', { name: 'Add number' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Added +94771000022');
    const row = page
      .getByRole('list', { name: 'Mobile numbers' })
      .getByRole('listitem')
      .filter({ hasText: '+94771000022' });
    expect(await row.innerText()).toContain('Not verified');

    await page.getByRole('button', { name: 'Verify +94771000022' }).click();
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toContain('A verification code was sent to +94771000022');
    const code = await codeFromInbox(await console(), '+94771000022');
    await page.getByLabel('Verification code', { exact: true }).fill(code);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await expect.poll(() => row.innerText()).toContain('Verified');
    expect(await row.innerText()).not.toContain('Primary');

    await page.getByRole('button', { name: 'Make +94771000022 primary' }).click();
    await expect.poll(() => row.innerText()).toMatch(/Primary[\s\S]*Verified/);
    const me = await scimRequest(server.testApp, { method: 'GET', url: `/scim2/Users/${await findId(userName)}` });
    expect(JSON.stringify(json(me).phoneNumbers)).toContain('+94771000022');
    await page.close();
  });

  it('"Sign out" revokes the access token and forgets it', async () => {
    const userName = uniqueName('sam');
    await createUser(server.testApp, userName);
    const page = await context.newPage();
    const tokenResponse = page.waitForResponse((response) => response.url().endsWith('/oauth2/token'));
    await page.goto(`${server.baseUrl}/myaccount/`);
    await signIn(page, userName, `${userName}-password`);
    const token = String(((await (await tokenResponse).json()) as { access_token: string }).access_token);
    const before = await scimRequest(server.testApp, { method: 'GET', url: '/scim2/Me', auth: `Bearer ${token}` });
    expect(before.statusCode).toBe(200);
    // Tokens live in the page's memory: nothing in localStorage or sessionStorage.
    const stored = await page.evaluate(`JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })`);
    expect(stored).not.toContain(token.slice(0, 40));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByText('You are signed out.').isVisible()).toBe(true);
    const after = await scimRequest(server.testApp, { method: 'GET', url: '/scim2/Me', auth: `Bearer ${token}` });
    expect(after.statusCode).toBe(401);
    await page.close();
  });

  async function findId(userName: string): Promise<string> {
    const row = await server.testApp.db
      .selectFrom('users')
      .select('id')
      .where('user_name', '=', userName)
      .executeTakeFirstOrThrow();
    return row.id;
  }
});
