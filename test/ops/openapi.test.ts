import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
}
type Document = { servers?: { url: string }[]; paths: Record<string, Partial<Record<string, Operation>>> };

describe('/openapi.json', { timeout: 120_000 }, () => {
  let testApp: TestApp;
  let document: Document;
  let text: string;
  beforeAll(async () => {
    testApp = await startTestApp();
    text = (await testApp.app.inject({ method: 'GET', url: '/openapi.json' })).body;
    document = JSON.parse(text) as Document;
  });
  afterAll(async () => testApp.close());

  const operations = () =>
    Object.entries(document.paths).flatMap(([url, item]) =>
      METHODS.flatMap((method) => (item[method] === undefined ? [] : [{ url, method, operation: item[method] }])),
    );

  it('gives every operation a unique operationId, a summary and a tag, and names a server', () => {
    expect(operations().length).toBeGreaterThan(20);
    for (const { url, method, operation } of operations()) {
      expect(operation?.operationId, `${method} ${url}`).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(operation?.summary, `${method} ${url}`).toBeTruthy();
      expect(operation?.tags?.length, `${method} ${url}`).toBe(1);
    }
    const ids = operations().map(({ operation }) => operation?.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(document.paths['/scim2/Users/{id}']?.patch?.summary).toContain('mobile number starts verification');
    expect(document.servers?.[0]?.url).toMatch(/^http/);
  });

  it('lists no operation for a method that answers 405', async () => {
    expect(Object.keys(document.paths['/scim2/Me'] ?? {}).sort()).toEqual(['get', 'patch', 'put']);
    expect(Object.keys(document.paths['/oauth2/token'] ?? {})).toEqual(['post']);
    const refused = await testApp.app.inject({ method: 'DELETE', url: '/oauth2/token' });
    expect(refused.statusCode).toBe(405);
  });

  it('passes `redocly lint` with the recommended rules (offline)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'openapi-'));
    try {
      const file = path.join(dir, 'openapi.json');
      writeFileSync(file, text);
      const output = execFileSync(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'),
          'lint',
          '--extends=recommended',
          '--format=summary',
          file,
        ],
        {
          cwd: dir,
          encoding: 'utf8',
          env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        },
      );
      // execFileSync throws on a non-zero exit (any error); the summary lists rules with problems, warnings only here.
      expect(output).not.toMatch(/^error /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
