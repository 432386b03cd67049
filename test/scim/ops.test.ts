import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  basicAuth,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

describe('health, OpenAPI, request ids and logs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('GET /health and /health/ready answer 200', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(json(health)).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(json(ready)).toEqual({ status: 'ready', database: 'up' });
  });

  it('/openapi.json is an OpenAPI 3 document listing the SCIM user routes', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = json(response);
    expect(String(document.openapi)).toMatch(/^3\./);
    const paths = document.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/scim2/Users', '/scim2/Users/{id}', '/scim2/Me']));
    expect(paths['/scim2/Users']).toHaveProperty('get');
    expect(paths['/scim2/Users']).toHaveProperty('post');
    expect(paths['/scim2/Users/{id}']).toHaveProperty('patch');
  });

  it('echoes a well-formed x-request-id and replaces a malformed one', async () => {
    const given = await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'abc-123.DEF_4' } });
    expect(given.headers['x-request-id']).toBe('abc-123.DEF_4');
    const error = await scimRequest(t, {
      method: 'GET',
      url: '/scim2/Users/nope',
      headers: { 'x-request-id': 'trace-err-1' },
    });
    expect(error.statusCode).toBe(404);
    expect(error.headers['x-request-id']).toBe('trace-err-1');
    const unauthenticated = await scimRequest(t, {
      method: 'GET',
      url: '/scim2/Me',
      auth: null,
      headers: { 'x-request-id': 'trace-401' },
    });
    expect(unauthenticated.headers['x-request-id']).toBe('trace-401');
    for (const bad of ['has space', 'x'.repeat(200), 'line\tbreak', '<script>']) {
      const response = await t.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': bad } });
      expect(response.headers['x-request-id']).not.toBe(bad);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    const none = await t.app.inject({ method: 'GET', url: '/health' });
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs a password or an Authorization header value', async () => {
    const secrets: string[] = [];
    const userName = uniqueName('logs');
    const password = 'Log-Secret-Password-1';
    secrets.push(password);
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { schemas: [SCIM.core], userName, password },
    });
    expect(created.statusCode).toBe(201);
    const id = String(json(created).id);
    const auth = basicAuth(userName, password);
    secrets.push(auth, auth.slice('Basic '.length), t.adminAuth.slice('Basic '.length));

    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth })).statusCode).toBe(200);
    const wrong = basicAuth(userName, 'Wrong-Secret-Password-2');
    secrets.push('Wrong-Secret-Password-2', wrong.slice('Basic '.length));
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: wrong })).statusCode).toBe(401);

    secrets.push('Patched-Secret-Password-3');
    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'password', value: 'Patched-Secret-Password-3' }),
    });
    secrets.push('Put-Secret-Password-4');
    await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Users/${id}`,
      body: { schemas: [SCIM.core], userName, password: 'Put-Secret-Password-4' },
    });
    // Failures that carry a password: a bad body, a bad value, a conflict.
    secrets.push('Broken-Secret-Password-5', 'Invalid-Secret-Password-6', 'Conflict-Secret-Password-7');
    await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: '{"password":"Broken-Secret-Password-5",' });
    await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { userName: uniqueName('bad'), password: 'Invalid-Secret-Password-6', active: 'nope' },
    });
    await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { userName, password: 'Conflict-Secret-Password-7' },
    });
    secrets.push('Patch-Fail-Secret-8');
    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      body: patchBody({ op: 'replace', path: 'password', value: 'Patch-Fail-Secret-8' }, { op: 'bogus' }),
    });
    await createUser(t, uniqueName('logs2'));

    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(logs, secret).not.toContain(secret);
    expect(logs).not.toContain(t.adminAuth);
    expect(logs).not.toMatch(/"authorization"/i);
    expect(logs).not.toContain('-password');
  });
});
