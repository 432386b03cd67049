import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET_KEY = 'operations-test-secret-key-0123456789abcdef';
const SHARED_PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

function run(entry: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', ...env },
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listening(server: Run): Promise<string> {
  const deadline = Date.now() + 150_000;
  for (;;) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.output());
    if (match?.[1] !== undefined) return match[1];
    if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`no start:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stop(server: Run): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 9;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('operating the server process', { timeout: 400_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scim-operations-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses to start with a bad setting or an unusable database, saying why and never echoing a secret', async () => {
    const missingDb = new URL(SHARED_PG);
    missingDb.pathname = '/scim_operations_test_no_such_database';
    const cases: [Record<string, string>, RegExp][] = [
      [
        { MULTIPLE_MOBILE_NUMBER: 'true' },
        /MULTIPLE_MOBILE_NUMBER: unknown setting; did you mean MULTIPLE_MOBILE_NUMBERS\?/,
      ],
      [
        {
          SMS_PROVIDER: 'custom',
          SMS_CUSTOM_URL: 'http://127.0.0.1:9/sms',
          SMS_CUSTOM_PAYLOAD_TEMPLATE: '{"to": {{mobile}}, "text": {{body}}',
        },
        /SMS_CUSTOM_PAYLOAD_TEMPLATE: payload template does not produce valid JSON/,
      ],
      [
        {
          SMS_PROVIDER: 'twilio',
          TWILIO_ACCOUNT_SID: 'XX123',
          TWILIO_AUTH_TOKEN: 'tw-secret-token',
          TWILIO_SENDER: '+15550001111',
        },
        /SMS_PROVIDER=twilio: the provider refuses its settings/,
      ],
      [{ SECRET_KEY: 'short-secret-never-echoed' }, /SECRET_KEY: Expected string length/],
      [{ DATABASE_URL: missingDb.href, SECRET_KEY }, /database: the database does not exist .*\[3D000\]/],
      [
        { DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/postgres`, SECRET_KEY },
        /database: nothing accepts connections at the host and port of DATABASE_URL/,
      ],
    ];
    const runs = cases.map(([env]) => run('src/server.ts', { DATA_DIR: dataDir, ...env }));
    const codes = await Promise.all(runs.map((server) => server.exited));
    runs.forEach((server, index) => {
      expect(codes[index], server.output()).toBe(1);
      expect(server.output()).toMatch(cases[index]?.[1] ?? /never/);
      expect(server.output()).not.toContain('short-secret-never-echoed');
      expect(server.output()).not.toContain('tw-secret-token');
      expect(server.output()).not.toContain('    at '); // a reason, not a stack trace
    });
  });

  it('in production without an SMS provider, /health/ready says why until a sender is configured', async () => {
    const server = run('src/server.ts', {
      DATA_DIR: dataDir,
      NODE_ENV: 'production',
      ADMIN_PASSWORD: 'first-admin-pass-1',
    });
    try {
      const base = await listening(server);
      const notReady = await fetch(`${base}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({
        status: 'unavailable',
        database: 'up',
        sms: expect.stringContaining('No SMS provider is configured'),
      });
      const created = await fetch(`${base}/api/server/v1/notification-senders/sms`, {
        method: 'POST',
        headers: { authorization: basic('admin', 'first-admin-pass-1'), 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'SMSPublisher',
          provider: 'Custom',
          providerURL: 'http://127.0.0.1:9/sms',
          contentType: 'JSON',
          properties: [{ key: 'body', value: '{"text": {{body}}, "to": {{mobile}}}' }],
        }),
      });
      expect(created.status).toBe(201);
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    } finally {
      await stop(server);
    }
  });

  it('gives a lost administrator password a way back, and says when ADMIN_PASSWORD is ignored', async () => {
    const reset = run('src/cli/reset-admin-password.ts', { DATA_DIR: dataDir, ADMIN_PASSWORD: 'recovered-pass-22' });
    expect(await reset.exited, reset.output()).toBe(0);
    expect(reset.output()).toContain("Reset the password of administrator 'admin'");

    const server = run('src/server.ts', { DATA_DIR: dataDir, ADMIN_PASSWORD: 'some-other-pass-33' });
    try {
      const base = await listening(server);
      expect(server.output()).toContain('ADMIN_PASSWORD is ignored: an administrator already exists');
      const me = (password: string) =>
        fetch(`${base}/scim2/Me`, { headers: { authorization: basic('admin', password) } });
      expect((await me('recovered-pass-22')).status).toBe(200);
      expect((await me('first-admin-pass-1')).status).toBe(401);
      expect((await me('some-other-pass-33')).status).toBe(401);
    } finally {
      await stop(server);
    }
    // Without ADMIN_PASSWORD, a password is generated and printed once.
    const generated = run('src/cli/reset-admin-password.ts', { DATA_DIR: dataDir });
    expect(await generated.exited).toBe(0);
    expect(generated.output()).toMatch(/generated password: \S{16,}/);
  });
});
