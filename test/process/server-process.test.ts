import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface RunningServer {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  baseUrl: string;
}

/** The real entry point (`src/server.ts`) in a child process, as `npm start` runs it. */
function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 150_000);
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ child, output: () => output, baseUrl: match[1] });
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

function exitOf(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

// Two real server starts (tsx compile + embedded PostgreSQL init each) can take a while on a busy 2-core machine.
describe('the server process', { timeout: 300_000 }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scim-server-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts on a fresh machine, prints a generated admin password once, and stops cleanly on SIGTERM', async () => {
    const first = await startServer({ DATA_DIR: dataDir });
    const password = /generated password: (\S+)/.exec(first.output())?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(16);
    const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
    expect((await fetch(`${first.baseUrl}/health/ready`)).status).toBe(200);
    expect((await fetch(`${first.baseUrl}/scim2/Me`, { headers: { authorization: auth } })).status).toBe(200);
    // The generated password goes to the terminal once, never into the structured log lines.
    const logLines = first
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.join('\n')).not.toContain(password);
    const secret = readFileSync(path.join(dataDir, 'secret.key'), 'utf8');

    const exited = exitOf(first.child);
    first.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(first.output()).toContain('shutting down');

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toContain('generated password');
      expect(readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe(secret);
      expect((await fetch(`${second.baseUrl}/scim2/Me`, { headers: { authorization: auth } })).status).toBe(200);
    } finally {
      const stopped = exitOf(second.child);
      second.child.kill('SIGTERM');
      await stopped;
    }
  });

  it('refuses to start with an invalid or unknown setting, naming the variable', async () => {
    for (const [env, name] of [
      [{ OTP_LENGTH: '99' }, 'OTP_LENGTH'],
      [{ SMS_PROVIDR: 'twilio' }, 'SMS_PROVIDR'],
      [{ DATABASE_URL: 'postgres://127.0.0.1/x' }, 'SECRET_KEY'],
    ] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      expect(await exitOf(child)).toBe(1);
      expect(stderr).toContain(name);
    }
  });
});
