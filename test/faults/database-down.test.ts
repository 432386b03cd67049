import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-db.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';
import { createUser, json, startTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe.skipIf(!process.env.TEST_DATABASE_URL)('when PostgreSQL goes away', () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
  let t: TestApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startCuttableProxy(new URL(database.url ?? ''));
    const handle = await createDatabase({ kind: 'postgres', url: proxy.url });
    t = await startTestApp({ database: { handle, url: proxy.url, close: () => handle.db.destroy() } });
  });
  afterAll(async () => {
    await t.close();
    await t.database.close();
    await proxy.close();
    await database.close();
  });

  it('answers 503 quickly, says so on /health/ready, keeps /health up, and recovers', async () => {
    const bob = await createUser(t, 'bob');
    expect(
      (await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } })).statusCode,
    ).toBe(200);

    proxy.cut();
    const started = Date.now();
    const down = await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } });
    expect(down.statusCode).toBe(503);
    expect(json(down)).toMatchObject({ status: '503', schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'] });
    expect(Number(down.headers['retry-after'])).toBeGreaterThan(0);
    const validate = await t.app.inject({
      method: 'POST',
      url: '/api/identity/user/v1.0/me/validate-code',
      headers: { authorization: bob.auth },
      payload: { code: '123456' },
    });
    expect(validate.statusCode).toBe(503);
    expect(json(validate)).toHaveProperty('code', '503');
    expect(Date.now() - started).toBeLessThan(8000);
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);

    proxy.restore();
    let recovered = 0;
    for (let attempt = 0; attempt < 20 && recovered !== 200; attempt++) {
      recovered = (await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } }))
        .statusCode;
    }
    expect(recovered).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });
});
