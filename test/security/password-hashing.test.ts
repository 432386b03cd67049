import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, passwordToken } from '../oauth/oauth-helpers.js';
import { QueryRecorder, recorded } from '../support/query-recorder.js';
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
  uniqueName,
} from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

/**
 * Issue #11 point 4: scrypt runs outside any database transaction. With one hash at a time and a backlog of
 * hashes queued (users being created), a PATCH setting a password waits its turn for a long while; a second
 * write to the same user must not wait behind it (it would, were the first holding the user's row lock, or on
 * PGlite the one connection, while it waits for its hash).
 */
describe('password hashing outside transactions', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    // No lockout: every wrong guess below costs a hash.
    t = await startTestApp({ env: { PASSWORD_HASH_CONCURRENCY: '1', LOGIN_MAX_FAILED_ATTEMPTS: '1000' } });
    // A token: the requests below authenticate without hashing anything.
    admin = bearer((await passwordToken(t, ADMIN.userName, ADMIN.password)).access_token);
  });
  afterAll(async () => t.close());

  const backlog = (count: number) =>
    Array.from({ length: count }, () =>
      scimRequest(t, {
        method: 'POST',
        url: '/scim2/Users',
        auth: admin,
        body: { schemas: [SCIM.core], userName: uniqueName('backlog'), password: 'a-password-to-hash' },
      }),
    );
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  for (const method of ['PATCH', 'PUT'] as const) {
    it(`a ${method} setting a password holds no lock while its hash waits`, async () => {
      const userName = uniqueName('rehashed');
      const user = await createUser(t, userName);
      const finished: string[] = [];
      const noting =
        (label: string) =>
        <T>(response: T): T => {
          finished.push(label);
          return response;
        };
      const queued = backlog(20).map((request) => request.then(noting('backlog')));
      await pause(150);
      const body =
        method === 'PATCH'
          ? patchBody({ op: 'replace', path: 'password', value: 'the-new-password' })
          : { schemas: [SCIM.core], userName, password: 'the-new-password' };
      const passwordWrite = scimRequest(t, { method, url: `/scim2/Users/${user.id}`, auth: admin, body }).then(
        noting('password'),
      );
      await pause(200);
      const other = await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${user.id}`,
        auth: admin,
        body: patchBody({ op: 'replace', path: 'displayName', value: 'Written meanwhile' }),
      });
      finished.push('other');
      expect(other.statusCode, other.body).toBe(200);
      const written = await passwordWrite;
      expect(written.statusCode, written.body).toBe(200);
      expect(finished.indexOf('other')).toBeLessThan(finished.indexOf('password'));
      for (const response of await Promise.all(queued)) expect(response.statusCode).toBe(201);

      const me = await t.app.inject({
        method: 'GET',
        url: '/scim2/Me',
        headers: { authorization: basicAuth(userName, 'the-new-password') },
      });
      expect(me.statusCode).toBe(200);
      // A PATCH keeps what it did not touch; a PUT replaces the user and drops the displayName written meanwhile.
      expect(json(me).displayName).toBe(method === 'PATCH' ? 'Written meanwhile' : undefined);
      const old = await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: user.auth } });
      expect(old.statusCode).toBe(401);
    });
  }

  it('waiting hashes take turns by client address: a flood from one does not hold back a login from another', async () => {
    const userName = uniqueName('patient');
    await createUser(t, userName);
    const flooded = uniqueName('flooded');
    await createUser(t, flooded);
    let floodDone = 0;
    const flood = Array.from({ length: 40 }, () =>
      t.app
        .inject({
          method: 'GET',
          url: '/scim2/Me',
          headers: { authorization: basicAuth(flooded, 'a-wrong-guess') },
          remoteAddress: '203.0.113.9',
        })
        .then((response) => {
          floodDone += 1;
          return response;
        }),
    );
    await pause(400);
    const doneBefore = floodDone;
    const login = await t.app.inject({
      method: 'GET',
      url: '/scim2/Me',
      headers: { authorization: basicAuth(userName, `${userName}-password`) },
      remoteAddress: '198.51.100.20',
    });
    expect(login.statusCode).toBe(200);
    // Served in turn with the flood's address, not after the backlog still queued (one hash at a time).
    expect(40 - doneBefore).toBeGreaterThanOrEqual(15);
    expect(floodDone - doneBefore).toBeLessThanOrEqual(5);
    for (const response of await Promise.all(flood)) expect(response.statusCode).toBe(401);
  });

  it('an invalid password is refused before anything is hashed or written', async () => {
    const user = await createUser(t, uniqueName('kept'));
    const refused = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${user.id}`,
      auth: admin,
      body: patchBody({ op: 'replace', path: 'password', value: '' }),
    });
    expect(refused.statusCode).toBe(400);
    expect(json(refused).scimType).toBe('invalidValue');
    const me = await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: user.auth } });
    expect(me.statusCode).toBe(200);
  });
});

/** A flood from an address already over its budget is refused from memory: it costs the database nothing. */
describe('an address over its failure budget', () => {
  const recorder = new QueryRecorder();
  let t: TestApp;

  beforeAll(async () => {
    const database = await createTestDatabase();
    t = await startTestApp({ database: recorded(database, recorder), env: { LOGIN_FAILURES_PER_IP_PER_HOUR: '3' } });
  });
  afterAll(async () => {
    await t.close();
    await t.database.close();
  });

  it('is refused without a database read until its window ends', async () => {
    const userName = uniqueName('behind-flood');
    const user = await createUser(t, userName);
    const me = (authorization: string, remoteAddress: string) =>
      t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization }, remoteAddress });
    for (let i = 0; i < 3; i += 1)
      expect((await me(basicAuth(userName, 'wrong'), '203.0.113.70')).statusCode).toBe(401);
    expect((await me(user.auth, '203.0.113.70')).statusCode).toBe(429);
    recorder.clear();
    for (let i = 0; i < 20; i += 1) {
      const refused = await me(basicAuth(userName, 'wrong'), '203.0.113.70');
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
    }
    expect(recorder.readsOf('login_failures')).toHaveLength(0);
    expect((await me(user.auth, '198.51.100.70')).statusCode).toBe(200);
    t.clock.advance(3_601_000);
    expect((await me(user.auth, '203.0.113.70')).statusCode).toBe(200);
  });

  it('attempts on a locked account count against the address too', async () => {
    const userName = uniqueName('locked-flood');
    await createUser(t, userName);
    const guess = () =>
      t.app.inject({
        method: 'GET',
        url: '/scim2/Me',
        headers: { authorization: basicAuth(userName, 'wrong') },
        remoteAddress: '203.0.113.71',
      });
    // Five wrong passwords lock the account (LOGIN_MAX_FAILED_ATTEMPTS defaults to 5), from five addresses.
    for (let i = 0; i < 5; i += 1) {
      const response = await t.app.inject({
        method: 'GET',
        url: '/scim2/Me',
        headers: { authorization: basicAuth(userName, 'wrong') },
        remoteAddress: `198.51.100.${80 + i}`,
      });
      expect(response.statusCode).toBe(401);
    }
    for (let i = 0; i < 3; i += 1) expect((await guess()).statusCode).toBe(401);
    expect((await guess()).statusCode).toBe(429);
  });
});

/**
 * A refusal from memory is held for LOGIN_REFUSAL_DELAY_MS before it is sent, so a flood's connections wait
 * instead of spinning through thousands of cheap answers a second that compete with correct logins for the CPU.
 */
describe('refusals of an address over its budget are held', () => {
  const HOLD_MS = 2000;
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { LOGIN_FAILURES_PER_IP_PER_HOUR: '2', LOGIN_REFUSAL_DELAY_MS: String(HOLD_MS) },
    });
  });
  afterAll(async () => t.close());

  it('for the configured delay, while a correct login from elsewhere is answered at once', async () => {
    const userName = uniqueName('held');
    const user = await createUser(t, userName);
    const me = (authorization: string, remoteAddress: string) =>
      t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization }, remoteAddress });
    for (let i = 0; i < 2; i += 1)
      expect((await me(basicAuth(userName, 'wrong'), '203.0.113.90')).statusCode).toBe(401);
    // The database finds the address over its budget: answered at once, and remembered.
    expect((await me(basicAuth(userName, 'wrong'), '203.0.113.90')).statusCode).toBe(429);

    const settled: number[] = [];
    const started = performance.now();
    const flood = Array.from({ length: 8 }, (_, index) =>
      me(basicAuth(userName, 'wrong'), '203.0.113.90').then((response) => {
        settled.push(index);
        return response;
      }),
    );
    const correct = await me(user.auth, '198.51.100.90');
    expect(correct.statusCode).toBe(200);
    expect(settled).toEqual([]);

    const refusals = await Promise.all(flood);
    expect(refusals.map((response) => response.statusCode)).toEqual(flood.map(() => 429));
    expect(performance.now() - started).toBeGreaterThanOrEqual(HOLD_MS - 50);
  });
});
