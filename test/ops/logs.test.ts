import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function captured(): { lines: string[]; sink: Writable } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { lines, sink };
}

describe('logs an operator can read', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startTestApp();
  });
  afterAll(async () => testApp.close());

  it("keeps an error's code (SQLSTATE, errno) while still redacting other `code` fields", () => {
    const { lines, sink } = captured();
    const logger = createLogger('info', sink);
    const err = Object.assign(new Error('database "nope" does not exist'), { code: '3D000' });
    logger.error({ err, code: '482913', input: { code: '482913' } }, 'request failed');
    logger.error({ error: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) }, 'connect failed');
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first.err.code).toBe('3D000');
    expect(first.code).toBe('[redacted]');
    expect(first.input.code).toBe('[redacted]');
    expect(second.error.code).toBe('ECONNREFUSED');
    expect(lines.join('')).not.toContain('482913');
  });

  it('does not log a client that aborts its upload as a database failure', async () => {
    const address = await testApp.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    // Warm the credential cache, so the body is being read (not the password checked) when the client gives up.
    await testApp.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: testApp.adminAuth } });
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /scim2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${testApp.adminAuth}\r\n` +
            'Content-Type: application/scim+json\r\nContent-Length: 5000\r\n\r\n{"schemas": [',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 500);
      });
      socket.on('error', reject);
    });
    const deadline = Date.now() + 5000;
    while (!testApp.logs.some((line) => line.includes('closed the connection')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const logs = testApp.logs.join('');
    expect(logs).toContain('The client closed the connection before the request body was complete');
    expect(logs).not.toContain('database is unavailable');
    expect(logs).not.toContain('"level":50');
  });

  it('writes readable lines on a terminal and JSON lines otherwise', { timeout: 120_000 }, () => {
    const script =
      "import { createLogger } from './src/shared/logger.ts'; createLogger('info').info({ port: 8080 }, 'hello operator');";
    const command = `${process.execPath} --import tsx --input-type=module -e "${script}"`;
    const piped = execFileSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(piped.trim())).toMatchObject({ msg: 'hello operator', port: 8080 });
    // `script` runs the command on a pseudo-terminal, as an operator's shell would.
    const onTerminal = execFileSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, encoding: 'utf8' });
    expect(onTerminal).toContain('INFO');
    expect(onTerminal).toContain('hello operator');
    expect(onTerminal).not.toContain('"msg"');
  });
});
