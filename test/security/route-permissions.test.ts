import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listedRoutes, permit } from '../../src/auth/permissions.js';
import { enforcePermissions } from '../../src/http/auth-hooks.js';
import { bearer, passwordToken } from '../oauth/oauth-helpers.js';
import { createUser, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

/** Issue #11 point 7: every route declares its permission; one hook enforces it; undeclared routes stop the start. */
describe('route permissions fail closed', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const key = (method: string, url: string) => `${method} ${url.replace(/:[^/]+/g, ':')}`;

  it('every registered route is declared as the table says, and every table entry is a registered route', () => {
    const registered = new Map(t.app.declaredRoutes.map((route) => [key(route.method, route.url), route.permission]));
    const table = listedRoutes();
    for (const { method, url, permission } of table) {
      expect(registered.get(key(method, url)), `${method} ${url}`).toEqual(permission);
    }
    const listed = new Set(table.map(({ method, url }) => key(method, url)));
    for (const route of t.app.declaredRoutes) {
      if (route.permission.access === 'public') {
        expect(listed.has(key(route.method, route.url)), `${route.method} ${route.url}`).toBe(false);
        continue;
      }
      const verb = route.method === 'HEAD' ? 'GET' : route.method;
      expect(listed.has(key(verb, route.url)), `${route.method} ${route.url} is not in RULES`).toBe(true);
    }
    expect(t.app.declaredRoutes.length).toBeGreaterThan(table.length);
  });

  const concrete = (url: string) => url.replace(/:[^/]+/g, '00000000-0000-4000-8000-000000000000');
  const call = (method: string, url: string, authorization: string | undefined) =>
    t.app.inject({
      method: method as 'GET',
      url: concrete(url),
      headers: {
        'content-type': url.startsWith('/oauth2') ? 'application/x-www-form-urlencoded' : 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      ...(method === 'GET' || method === 'DELETE' ? {} : { payload: url.startsWith('/oauth2') ? 'token=x' : '{}' }),
    });

  it('walks every protected route: no credentials 401; an ordinary user 403 on privileged ones; a token without the scope 403', async () => {
    const userName = uniqueName('walker');
    const user = await createUser(t, userName);
    const userToken = (await passwordToken(t, userName, `${userName}-password`)).access_token;
    for (const { method, url, permission } of listedRoutes()) {
      const label = `${method} ${url}`;
      const anonymous = await call(method, url, undefined);
      expect(anonymous.statusCode, label).toBe(401);
      if (permission.access === 'self' || permission.access === 'public') continue;
      expect((await call(method, url, user.auth)).statusCode, label).toBe(403);
      const scoped = await call(method, url, bearer(userToken));
      expect(scoped.statusCode, label).toBe(403);
      expect(String(scoped.headers['www-authenticate']), label).toContain(`scope="${permission.scope}"`);
    }
  });

  it('a route registered without a declaration, or declared unlike the table, stops the server at start', () => {
    const bare = Fastify();
    enforcePermissions(bare, { authenticate: async () => Promise.reject(new Error('not called')) });
    // Registration throws, so buildApp (and the server start) fails.
    expect(() => bare.get('/undeclared', async () => 'open')).toThrow(/declares no permission/);

    const mismatched = Fastify();
    enforcePermissions(mismatched, { authenticate: async () => Promise.reject(new Error('not called')) });
    expect(() =>
      mismatched.get('/scim2/Users', { config: { permission: permit.public('looks harmless') } }, async () => []),
    ).toThrow(/declared public but RULES protects it/);

    const wrongScope = Fastify();
    enforcePermissions(wrongScope, { authenticate: async () => Promise.reject(new Error('not called')) });
    expect(() =>
      wrongScope.get(
        '/scim2/Users',
        { config: { permission: permit.admin('internal_user_mgt_view') } },
        async () => [],
      ),
    ).toThrow(/RULES says admin\(internal_user_mgt_list\)/);
  });
});
