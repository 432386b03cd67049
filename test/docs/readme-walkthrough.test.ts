import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetAdministratorPassword } from '../../src/users/bootstrap-admin.js';
import { codeIn, startVerificationApp, type VerificationTestApp } from '../support/verification-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every `sh` block with a curl command from the walkthrough on, in README order. */
function readmeCurlBlocks(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const fromWalkthrough = readme.slice(readme.indexOf('## Walkthrough'));
  return [...fromWalkthrough.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1] ?? '')
    .filter((block) => block.includes('curl '));
}

/**
 * Runs the README's curl blocks, in order, as one shell script against a fresh server. The only lines
 * replaced are the ones a reader fills in: BASE (the test server) and `CODE=...` (the code of the latest SMS).
 * Every curl call's status is recorded on stderr; each must succeed.
 */
describe("the README's walkthrough", { timeout: 180_000 }, () => {
  let testApp: VerificationTestApp;
  let inbox: Server;
  let base: string;
  let inboxUrl: string;

  beforeAll(async () => {
    testApp = await startVerificationApp({
      startDispatcher: true,
      env: { MULTIPLE_MOBILE_NUMBERS: 'true', RESEND_COOLDOWN_SECONDS: '0' },
    });
    await resetAdministratorPassword(testApp.db, 'admin', 'the-admin-password', new Date());
    base = (await testApp.app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
    // The reader's phone: the code of the newest SMS the fake gateway received, once a new one arrived and
    // nothing more is on its way (a resend's SMS may arrive after the first one: the older code is dead).
    let read = 0;
    inbox = createServer(async (_request, response) => {
      const deadline = Date.now() + 20_000;
      let seen = -1;
      while (Date.now() < deadline) {
        const sent = await testApp.app.smsDispatcher.dispatchDueMessages();
        const received = testApp.gateway.requests.length;
        if (sent === 0 && received > read && received === seen) break;
        seen = received;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      read = testApp.gateway.requests.length;
      const latest = testApp.gateway.requests.at(-1)?.json as { content?: string } | undefined;
      response.end(latest?.content === undefined ? 'none' : codeIn(latest.content));
    });
    await new Promise<void>((resolve) => inbox.listen(0, '127.0.0.1', resolve));
    const address = inbox.address();
    inboxUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/latest`;
  }, 150_000);
  afterAll(async () => {
    await new Promise((resolve) => inbox.close(resolve));
    await testApp.close();
  });

  it('runs from start to end, every request succeeding', async () => {
    const blocks = readmeCurlBlocks();
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const script = [
      'set -euo pipefail',
      `curl() { command curl --write-out '%{stderr}HTTP %{http_code} %{method} %{url_effective}\\n' "$@"; }`,
      ...blocks.map((block) =>
        block.replace(/^BASE=.*$/gm, `BASE=${base}`).replace(/^CODE=.*$/gm, `CODE=$(command curl -s ${inboxUrl})`),
      ),
    ].join('\n');
    const { stderr, code } = await new Promise<{ stderr: string; code: number }>((resolve) => {
      execFile('bash', ['-c', script], { cwd: ROOT, timeout: 150_000 }, (error, _stdout, stderrText) =>
        resolve({ stderr: stderrText, code: error === null ? 0 : Number(error.code ?? 1) }),
      );
    });
    expect(code, stderr).toBe(0);
    const calls = stderr.split('\n').filter((line) => line.startsWith('HTTP '));
    const failed = calls.filter((line) => !/^HTTP 2\d\d /.test(line));
    expect(failed, stderr).toEqual([]);
    expect(calls.length).toBeGreaterThanOrEqual(20);
    // The walkthrough's promises held: both changes were verified, and Bob is gone at the end.
    expect(calls.filter((line) => line.includes('validate-code')).every((line) => line.startsWith('HTTP 202'))).toBe(
      true,
    );
    expect(calls.at(-1)).toMatch(/^HTTP 204 DELETE .*\/scim2\/Users\//);
  });
});
