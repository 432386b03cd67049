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
});
