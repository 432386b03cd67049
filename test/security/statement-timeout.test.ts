import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SCIM, scimRequest, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Issue #11 point 8: every SCIM listing runs under SCIM_STATEMENT_TIMEOUT_MS, Users and Groups alike. A second
 * connection holds a lock the listing needs, so the listing's statement waits deterministically; with the
 * timeout it is cancelled (503, Retry-After), without it the request would hang until the lock is released.
 * PostgreSQL only: PGlite runs statements synchronously in-process and has no statement timer (nor a second
 * connection to hold a lock).
 */
const url = process.env.TEST_DATABASE_URL;

describe.skipIf(url === undefined || url === '')('listings under the statement timeout (PostgreSQL)', () => {
  let t: TestApp;
  const RELEASE_AFTER_MS = 4000;

  beforeAll(async () => {
    t = await startTestApp({ env: { SCIM_STATEMENT_TIMEOUT_MS: '200' } });
    // Basic credentials are checked (and cached) before the lock is taken.
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Groups' })).statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  /** Runs `request` while another connection holds ACCESS EXCLUSIVE on `table`; answers the response and its time. */
  async function whileLocked(table: string, request: () => ReturnType<typeof scimRequest>) {
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`lock table ${table} in access exclusive mode`);
    const release = setTimeout(() => void holder.query('rollback'), RELEASE_AFTER_MS);
    try {
      const started = Date.now();
      const response = await request();
      return { response, elapsedMs: Date.now() - started };
    } finally {
      clearTimeout(release);
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
  }

  function expectCancelled(result: Awaited<ReturnType<typeof whileLocked>>) {
    expect(result.response.statusCode, result.response.body).toBe(503);
    expect(json(result.response)).toMatchObject({ schemas: [SCIM.error], status: '503' });
    expect(String(json(result.response).detail)).toMatch(/took too long and was cancelled/);
    expect(result.response.headers['retry-after']).toBe('5');
    expect(result.elapsedMs).toBeLessThan(RELEASE_AFTER_MS);
  }

  it('GET /Groups answers 503 instead of waiting', async () => {
    expectCancelled(await whileLocked('groups', () => scimRequest(t, { method: 'GET', url: '/scim2/Groups' })));
  });

  it('POST /Groups/.search answers 503 instead of waiting', async () => {
    const search = () =>
      scimRequest(t, {
        method: 'POST',
        url: '/scim2/Groups/.search',
        body: { schemas: [SCIM.searchRequest], filter: 'displayName sw "a"' },
      });
    expectCancelled(await whileLocked('groups', search));
  });

  it('GET /Users with a filter answers 503 instead of waiting', async () => {
    const list = () =>
      scimRequest(t, { method: 'GET', url: `/scim2/Users?filter=${encodeURIComponent('name.givenName eq "x"')}` });
    expectCancelled(await whileLocked('user_claims', list));
  });

  it('GET /Users/{id}?excludedAttributes=groups never reads the memberships', async () => {
    const created = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users',
      body: { schemas: [SCIM.core], userName: `grouped-${Date.now()}` },
    });
    const id = String(json(created).id);
    const lean = await whileLocked('group_members', () =>
      scimRequest(t, { method: 'GET', url: `/scim2/Users/${id}?excludedAttributes=groups` }),
    );
    expect(lean.response.statusCode, lean.response.body).toBe(200);
    expect(lean.elapsedMs).toBeLessThan(RELEASE_AFTER_MS);
  });

  it("the server's connections never JIT-compile (short statements; see src/db/create-db.ts)", async () => {
    const settings = await Promise.all(
      Array.from({ length: 3 }, () =>
        sql<{ jit: string }>`show jit`.execute(t.db).then((result) => result.rows[0]?.jit),
      ),
    );
    expect(settings).toEqual(['off', 'off', 'off']);
  });

  it('listings work again once the lock is gone', async () => {
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Groups' })).statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Users' })).statusCode).toBe(200);
  });
});
