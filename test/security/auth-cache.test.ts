import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createDatabase } from '../../src/db/create-db.js';
import { resetAdministratorPassword } from '../../src/users/bootstrap-admin.js';
import { bearer, clientBasic, oauthPost, passwordToken, registerClient } from '../oauth/oauth-helpers.js';
import { startCuttableProxy } from '../support/cuttable-proxy.js';
import { QueryRecorder, recorded } from '../support/query-recorder.js';
import { expectRefusedWithin, REVOCATION_BOUND_MS } from '../support/revocation-bound.js';
import {
  ADMIN,
  basicAuth,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  type TestAppOptions,
  uniqueName,
} from '../support/test-app.js';
import type { TestDatabase } from '../support/test-database.js';

/** Tables only authentication reads: a request answered from the cache touches none of them. */
const AUTH_TABLES = ['login_failures', 'oauth_grants', 'oauth_revoked_tokens', 'oauth_clients', 'oauth_signing_keys'];
/** The feed's own polls (once a second, not per request). */
const FEED_TABLES = ['credential_events', 'credential_epoch'];

/**
 * Issue #13: authentication from a cache (Basic and Bearer) that every instance's revocations reach within
 * AUTH_REVOCATION_MAX_DELAY_MS; issue #11 point 2 across instances. Instance B has its own connection pool
 * on PostgreSQL (one process is all PGlite allows: there B shares A's database).
 */
describe('authentication cache across instances', () => {
  let a: TestApp;
  let b: TestApp;
  let bDatabase: TestDatabase;
  const recorder = new QueryRecorder();
  const env = { LOGIN_MAX_FAILED_ATTEMPTS: '3' };

  beforeAll(async () => {
    a = await startTestApp({ env });
    bDatabase = await separateConnections(a.database);
    b = await startTestApp({ env, database: recorded(bDatabase, recorder) });
  });
  afterAll(async () => {
    await b.close();
    if (bDatabase !== a.database) await bDatabase.close();
    await a.close();
  });

  const me = (instance: TestApp, auth: string) => scimRequest(instance, { method: 'GET', url: '/scim2/Me', auth });
  const users = (instance: TestApp, auth: string) =>
    scimRequest(instance, { method: 'GET', url: '/scim2/Users?count=1', auth });

  /** A user whose Basic credential and bearer token B has just accepted (so cached them). */
  async function warmUser(extra: Record<string, unknown> = {}) {
    const userName = uniqueName('cached');
    const user = await createUser(a, userName, extra);
    const token = (await passwordToken(a, userName, `${userName}-password`)).access_token;
    expect((await me(b, user.auth)).statusCode).toBe(200);
    expect((await me(b, bearer(token))).statusCode).toBe(200);
    return { ...user, userName, token: bearer(token) };
  }

  const patchUser = (id: string, ...operations: unknown[]) =>
    scimRequest(a, { method: 'PATCH', url: `/scim2/Users/${id}`, body: patchBody(...operations) });

  /** The change on A answered (so committed): A refuses at once, B within the bound. */
  async function expectRefusedEverywhere(
    request: (instance: TestApp) => Promise<LightMyRequestResponse>,
    status = 401,
  ): Promise<void> {
    const since = performance.now();
    expect((await request(a)).statusCode).toBe(status);
    await expectRefusedWithin(() => request(b), since, status);
  }

  it('a password reset on A: the old password and token stop on A at once and on B within the bound', async () => {
    const user = await warmUser();
    const reset = await patchUser(user.id, { op: 'replace', path: 'password', value: 'a-brand-new-password' });
    expect(reset.statusCode, reset.body).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, user.auth));
    await expectRefusedEverywhere((instance) => me(instance, user.token));
    expect((await me(b, basicAuth(user.userName, 'a-brand-new-password'))).statusCode).toBe(200);
  });

  it('disabling and deleting a user end its cached credentials', async () => {
    const disabled = await warmUser();
    expect((await patchUser(disabled.id, { op: 'replace', path: 'active', value: false })).statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, disabled.auth));
    await expectRefusedEverywhere((instance) => me(instance, disabled.token));

    const deleted = await warmUser();
    expect((await scimRequest(a, { method: 'DELETE', url: `/scim2/Users/${deleted.id}` })).statusCode).toBe(204);
    await expectRefusedEverywhere((instance) => me(instance, deleted.auth));
    await expectRefusedEverywhere((instance) => me(instance, deleted.token));
  });

  it('a demoted administrator loses administration on B within the bound (Basic 403, token 401)', async () => {
    const admin = await warmUser({ roles: [{ value: 'admin' }] });
    expect((await users(b, admin.auth)).statusCode).toBe(200);
    expect((await users(b, admin.token)).statusCode).toBe(200);
    expect((await patchUser(admin.id, { op: 'remove', path: 'roles' })).statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => users(instance, admin.auth), 403);
    await expectRefusedEverywhere((instance) => users(instance, admin.token), 401);
  });

  it('a renamed user authenticates on B with the new name only', async () => {
    const user = await warmUser();
    const newName = uniqueName('renamed');
    expect((await patchUser(user.id, { op: 'replace', path: 'userName', value: newName })).statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, user.auth));
    expect((await me(b, basicAuth(newName, `${user.userName}-password`))).statusCode).toBe(200);
  });

  it('a lock, by an administrator or after wrong passwords, ends cached Basic credentials on B', async () => {
    const byAdmin = await warmUser();
    const lock = await patchUser(byAdmin.id, { op: 'replace', path: `${SCIM.wso2}:accountLocked`, value: true });
    expect(lock.statusCode, lock.body).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, byAdmin.auth));

    const guessed = await warmUser();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await me(a, basicAuth(guessed.userName, 'wrong-guess'))).statusCode).toBe(401);
    }
    await expectRefusedEverywhere((instance) => me(instance, guessed.auth));
  });

  it('the reset-admin-password command reaches running instances', async () => {
    const adminAuth = basicAuth(ADMIN.userName, ADMIN.password);
    const token = bearer((await passwordToken(a, ADMIN.userName, ADMIN.password)).access_token);
    expect((await users(b, adminAuth)).statusCode).toBe(200);
    expect((await users(b, token)).statusCode).toBe(200);
    try {
      await resetAdministratorPassword(a.db, ADMIN.userName, 'reset-by-the-command', new Date());
      const since = performance.now();
      await expectRefusedWithin(() => users(b, adminAuth), since);
      await expectRefusedWithin(() => users(b, token), since);
      expect((await users(b, basicAuth(ADMIN.userName, 'reset-by-the-command'))).statusCode).toBe(200);
    } finally {
      await resetAdministratorPassword(a.db, ADMIN.userName, ADMIN.password, new Date());
    }
  });

  it("a client's secret rotation and deletion, a revoked access token and a revoked login reach B", async () => {
    const client = await registerClient(a, {
      name: uniqueName('cached-client'),
      grantTypes: ['client_credentials'],
      scopes: ['internal_user_mgt_list'],
    });
    const clientToken = async (secret: string) =>
      bearer(
        String(
          json(await oauthPost(a, 'token', { grant_type: 'client_credentials' }, clientBasic(client.clientId, secret)))
            .access_token,
        ),
      );
    const first = await clientToken(client.clientSecret);
    expect((await users(b, first)).statusCode).toBe(200);
    const rotate = await a.app.inject({
      method: 'POST',
      url: `/api/server/v1/oauth-clients/${client.clientId}/secret`,
      headers: { authorization: a.adminAuth },
    });
    expect(rotate.statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => users(instance, first));

    const second = await clientToken(String(json(rotate).clientSecret));
    expect((await users(b, second)).statusCode).toBe(200);
    const removed = await a.app.inject({
      method: 'DELETE',
      url: `/api/server/v1/oauth-clients/${client.clientId}`,
      headers: { authorization: a.adminAuth },
    });
    expect(removed.statusCode).toBe(204);
    await expectRefusedEverywhere((instance) => users(instance, second));

    const user = await warmUser();
    const revokedToken = await oauthPost(a, 'revoke', { token: user.token.slice('Bearer '.length) });
    expect(revokedToken.statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, user.token));

    const login = await passwordToken(a, user.userName, `${user.userName}-password`);
    expect((await me(b, bearer(login.access_token))).statusCode).toBe(200);
    expect((await oauthPost(a, 'revoke', { token: String(login.refresh_token) })).statusCode).toBe(200);
    await expectRefusedEverywhere((instance) => me(instance, bearer(login.access_token)));
  });

  it('a warm-cache GET performs no authentication query, Basic or Bearer', async () => {
    const user = await createUser(a, uniqueName('read'));
    const adminToken = bearer((await passwordToken(a, ADMIN.userName, ADMIN.password)).access_token);
    const get = (auth: string) => scimRequest(b, { method: 'GET', url: `/scim2/Users/${user.id}`, auth });
    for (const auth of [b.adminAuth, adminToken]) {
      await get(auth);
      recorder.clear();
      const warm = await get(auth);
      expect(warm.statusCode).toBe(200);
      const statements = recorder.nodes.filter((node) => FEED_TABLES.every((table) => !readsTable(node, table)));
      for (const table of AUTH_TABLES) expect(statements.filter((node) => readsTable(node, table))).toEqual([]);
      // The handler's read of the user it answers with, and nothing to find the caller.
      expect(recorder.readsOf('users')).toHaveLength(1);
    }
    // The recorder sees authentication when it happens: a credential B has not seen costs queries.
    recorder.clear();
    const fresh = await createUser(a, uniqueName('cold'), { roles: [{ value: 'admin' }] });
    expect((await get(fresh.auth)).statusCode).toBe(200);
    expect(recorder.readsOf('login_failures').length).toBeGreaterThan(0);
    expect(recorder.readsOf('users')).toHaveLength(2);
  });

  it('concurrent revocations get consecutive epochs, each with its own targets', async () => {
    const people = await Promise.all(Array.from({ length: 12 }, () => createUser(a, uniqueName('parallel'))));
    const before = await a.db.selectFrom('credential_epoch').select('epoch').executeTakeFirstOrThrow();
    const changes = await Promise.all(
      people.map((person, index) =>
        patchUser(person.id, { op: 'replace', path: 'password', value: `parallel-${index}-pw` }),
      ),
    );
    expect(changes.map((response) => response.statusCode)).toEqual(people.map(() => 200));
    const events = await a.db
      .selectFrom('credential_events')
      .select(['epoch', 'targets'])
      .where('epoch', '>', before.epoch)
      .orderBy('epoch')
      .execute();
    const mine = events.filter((event) => people.some((person) => event.targets === `user:${person.id}`));
    expect(mine).toHaveLength(people.length);
    const epochs = events.map((event) => Number(event.epoch));
    expect(epochs).toEqual(epochs.map((_, index) => Number(before.epoch) + index + 1));
  });

  it('revoked credentials are never served past the bound under concurrent load', async () => {
    const user = await warmUser();
    const credentials = [user.auth, user.token];
    let changedAt: number | undefined;
    const lateAcceptances: number[] = [];
    let stop = false;
    const hammer = async (auth: string) => {
      while (!stop) {
        const sentAt = performance.now();
        const response = await me(b, auth);
        if (response.statusCode === 200 && changedAt !== undefined && sentAt - changedAt >= REVOCATION_BOUND_MS) {
          lateAcceptances.push(sentAt - changedAt);
        }
        if (changedAt !== undefined && sentAt - changedAt > REVOCATION_BOUND_MS + 500) stop = true;
        // A cache hit does no I/O: without this the loops would starve the timers (the poll among them).
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const loops = Array.from({ length: 8 }, (_, index) => hammer(credentials[index % 2] ?? user.auth));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const reset = await patchUser(user.id, { op: 'replace', path: 'password', value: 'changed-under-load' });
    expect(reset.statusCode).toBe(200);
    changedAt = performance.now();
    await Promise.all(loops);
    expect(lateAcceptances).toEqual([]);
    // Refused: 401, or 429 once the hammering of the old password has spent the address's failure budget.
    for (const auth of credentials) expect([401, 429]).toContain((await me(b, auth)).statusCode);
  });
});

describe('authentication cache without notifications', () => {
  let a: TestApp;
  let b: TestApp;
  let bDatabase: TestDatabase;

  beforeAll(async () => {
    a = await startTestApp();
    bDatabase = await separateConnections(a.database);
    // As if every NOTIFY were lost (a dropped listening connection): only the poll can tell B.
    b = await startTestApp({ database: { ...bDatabase, handle: { ...bDatabase.handle, listen: undefined } } });
  });
  afterAll(async () => {
    await b.close();
    if (bDatabase !== a.database) await bDatabase.close();
    await a.close();
  });

  it('the poll alone keeps the bound', async () => {
    const userName = uniqueName('unnotified');
    const user = await createUser(a, userName);
    const token = bearer((await passwordToken(a, userName, `${userName}-password`)).access_token);
    for (const auth of [user.auth, token]) {
      expect((await scimRequest(b, { method: 'GET', url: '/scim2/Me', auth })).statusCode).toBe(200);
    }
    const disable = await scimRequest(a, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expect(disable.statusCode).toBe(200);
    const since = performance.now();
    for (const auth of [user.auth, token]) {
      await expectRefusedWithin(() => scimRequest(b, { method: 'GET', url: '/scim2/Me', auth }), since);
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('authentication cache while the database is out of reach', () => {
  let a: TestApp;
  let b: TestApp;
  let proxy: Awaited<ReturnType<typeof startCuttableProxy>>;
  let bDatabase: TestDatabase;

  beforeAll(async () => {
    a = await startTestApp();
    proxy = await startCuttableProxy(new URL(a.database.url ?? ''));
    const handle = await createDatabase({ kind: 'postgres', url: proxy.url });
    bDatabase = { handle, url: proxy.url, close: () => handle.db.destroy() };
    b = await startTestApp({ database: bDatabase });
  });
  afterAll(async () => {
    await b.close();
    await bDatabase.close();
    await proxy.close();
    await a.close();
  });

  it('an instance that cannot read revocations stops answering from its cache within the bound', async () => {
    const userName = uniqueName('partitioned');
    const user = await createUser(a, userName);
    const get = () => scimRequest(b, { method: 'GET', url: '/scim2/Me', auth: user.auth });
    expect((await get()).statusCode).toBe(200);
    proxy.cut();
    // Disabled where B cannot hear of it: B must not vouch for the credential past the bound.
    const disable = await scimRequest(a, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      body: patchBody({ op: 'replace', path: 'active', value: false }),
    });
    expect(disable.statusCode).toBe(200);
    const since = performance.now();
    // Out of reach for longer than the bound (every request meanwhile fails on the database anyway)...
    while (performance.now() - since <= REVOCATION_BOUND_MS) {
      expect((await get()).statusCode).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // ...so once the database is back, B's cache must not vouch for the credential, before or after it
    // has read the revocation.
    proxy.restore();
    let status = 503;
    for (let attempt = 0; attempt < 50 && status === 503; attempt += 1) {
      status = (await get()).statusCode;
      if (status === 503) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(401);
  });
});

describe('authentication cache size and settings', () => {
  let t: TestApp;
  const recorder = new QueryRecorder();

  beforeAll(async () => {
    t = await startTestAppRecorded(recorder, { env: { AUTH_CACHE_MAX_ENTRIES: '2' } });
  });
  afterAll(async () => t.close());

  it('keeps at most AUTH_CACHE_MAX_ENTRIES credentials, dropping the least recently used', async () => {
    const seen = [];
    for (let index = 0; index < 3; index += 1) {
      const user = await createUser(t, uniqueName('bounded'));
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: user.auth })).statusCode).toBe(200);
      seen.push(user);
    }
    const queriesOf = async (auth: string) => {
      recorder.clear();
      expect((await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth })).statusCode).toBe(200);
      return recorder.readsOf('login_failures').length;
    };
    const [oldest, , newest] = seen;
    expect(await queriesOf(String(newest?.auth))).toBe(0);
    expect(await queriesOf(String(oldest?.auth))).toBeGreaterThan(0);
  });

  it('refuses a bound or size out of range at start, naming the variable', () => {
    const base = { NODE_ENV: 'test', SECRET_KEY: 'x'.repeat(40) } as const;
    expect(() => loadConfig({ ...base, AUTH_REVOCATION_MAX_DELAY_MS: '50' })).toThrow(/^AUTH_REVOCATION_MAX_DELAY_MS:/);
    expect(() => loadConfig({ ...base, AUTH_REVOCATION_MAX_DELAY_MS: 'soon' })).toThrow(/AUTH_REVOCATION_MAX_DELAY_MS/);
    expect(() => loadConfig({ ...base, AUTH_CACHE_MAX_ENTRIES: '0' })).toThrow(/^AUTH_CACHE_MAX_ENTRIES:/);
    expect(loadConfig(base).AUTH_REVOCATION_MAX_DELAY_MS).toBe(REVOCATION_BOUND_MS);
  });
});

function readsTable(node: QueryRecorder['nodes'][number], table: string): boolean {
  const text = JSON.stringify(node);
  return text.includes(`"name":"${table}"`) || new RegExp(`\\b${table}\\b`).test(text);
}

/** On PostgreSQL, a pool of its own on the same database (another instance); PGlite: the same database. */
async function separateConnections(database: TestDatabase): Promise<TestDatabase> {
  if (database.url === undefined) return database;
  const handle = await createDatabase({ kind: 'postgres', url: database.url });
  return { handle, url: database.url, close: () => handle.db.destroy() };
}

async function startTestAppRecorded(recorder: QueryRecorder, options: TestAppOptions): Promise<TestApp> {
  const { createTestDatabase } = await import('../support/test-database.js');
  const database = await createTestDatabase();
  const app = await startTestApp({ ...options, database: recorded(database, recorder) });
  return {
    ...app,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
