import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ADMIN, ShiftedClock, startTestApp, type TestApp } from '../support/test-app.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium, headless, with a fresh profile; nothing reaches beyond 127.0.0.1. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'scim-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 860 },
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface BrowserServer {
  testApp: TestApp;
  clock: ShiftedClock;
  baseUrl: string;
  close(): Promise<void>;
}

/** The real app on an ephemeral port, with the dispatcher running and the development inbox as the provider. */
export async function startBrowserServer(env: Record<string, string> = {}): Promise<BrowserServer> {
  const clock = new ShiftedClock();
  const testApp = await startTestApp({
    clock,
    startDispatcher: true,
    env: {
      SMS_PROVIDER: 'inbox',
      SMS_POLL_INTERVAL_MS: '100',
      MULTIPLE_MOBILE_NUMBERS: 'true',
      RESEND_COOLDOWN_SECONDS: '3',
      ...env,
    },
  });
  await testApp.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = testApp.app.server.address() as AddressInfo;
  return { testApp, clock, baseUrl: `http://127.0.0.1:${port}`, close: () => testApp.close() };
}

/** Fills in the server's sign-in page. */
export async function signIn(page: Page, userName: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(userName);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function openConsole(context: BrowserContext, baseUrl: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/console/`);
  await signIn(page, ADMIN.userName, ADMIN.password);
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
  return page;
}

/** The newest code the SMS inbox shows for a number, read in the Console like a developer would. */
export async function codeFromInbox(consolePage: Page, number: string, previous?: string): Promise<string> {
  await consolePage.getByRole('link', { name: 'SMS inbox' }).click();
  const table = consolePage.getByRole('table', { name: 'SMS inbox' });
  let code: string | undefined;
  await expect
    .poll(
      async () => {
        await consolePage.getByRole('button', { name: 'Refresh' }).click();
        const row = table.getByRole('row').filter({ hasText: number }).first();
        if ((await row.count()) === 0) return undefined;
        code = /code is (\w+)/.exec(await row.innerText())?.[1];
        return code !== undefined && code !== previous;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return code as string;
}

/** A client's redirect target: a page on 127.0.0.1 that only records the query it was reached with. */
export async function startCallbackServer(): Promise<{ url: string; close: () => Promise<void>; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/callback`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
