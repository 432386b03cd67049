// Screenshots for the README: `npx tsx test/browser/take-screenshots.ts` writes docs/*.png.
import path from 'node:path';
import { ADMIN, createUser } from '../support/test-app.js';
import { launchBrowser, signIn, startBrowserServer } from './browser-support.js';

const docs = path.resolve(import.meta.dirname, '../../docs');
const server = await startBrowserServer();
const browser = await launchBrowser();
try {
  for (const [name, phone] of [
    ['bob.smith', '+94771234567'],
    ['alice.perera', '+94772345678'],
    ['chen.li', '+447700900123'],
  ] as const) {
    await createUser(server.testApp, name, {
      name: { givenName: name.split('.')[0], familyName: name.split('.')[1] },
      emails: [{ value: `${name}@example.com`, primary: true }],
      phoneNumbers: [{ type: 'mobile', value: phone }],
    });
  }
  const page = await browser.context.newPage();
  await page.goto(`${server.baseUrl}/myaccount/`);
  await page.screenshot({ path: path.join(docs, 'sign-in.png') });
  await signIn(page, 'bob.smith', 'bob.smith-password');
  await page.getByLabel('Mobile number', { exact: true }).fill('+94777654321');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByLabel('Verification code', { exact: true }).waitFor();
  await page.screenshot({ path: path.join(docs, 'myaccount.png'), fullPage: true });

  const admin = await browser.context.newPage();
  await admin.goto(`${server.baseUrl}/console/`);
  await signIn(admin, ADMIN.userName, ADMIN.password);
  await admin.getByRole('table').getByRole('link', { name: 'bob.smith' }).waitFor();
  await admin.screenshot({ path: path.join(docs, 'console-users.png') });
  await admin.getByRole('link', { name: 'SMS inbox' }).click();
  await admin.getByRole('table', { name: 'SMS inbox' }).getByText('+94777654321').waitFor();
  await admin.screenshot({ path: path.join(docs, 'console-sms-inbox.png') });
  await admin.getByRole('link', { name: 'SMS provider' }).click();
  await admin.getByRole('tab', { name: 'Custom' }).click();
  await admin.getByLabel('SMS Provider URL').fill('https://sms.example.com/send');
  await admin.getByLabel('Payload Template').fill('{"to": {{mobile}}, "text": {{body}}}');
  await admin.screenshot({ path: path.join(docs, 'console-sms-provider.png'), fullPage: true });
} finally {
  await browser.close();
  await server.close();
}
