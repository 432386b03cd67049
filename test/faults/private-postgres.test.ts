import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { enqueueSms } from '../../src/sms/outbox-repository.js';
import { type FakeServer, startFakeSmsGateway } from '../support/fake-providers.js';
import { type PrivatePostgres, privatePostgresUnavailable, startPrivatePostgres } from '../support/private-postgres.js';
import { type ServerProcess, startServerProcess } from '../support/server-process.js';
import { basicAuth, createUser, startTestApp, TEST_KEYS, type TestApp } from '../support/test-app.js';

// The fault tests bring their own PostgreSQL, so they run once, in the default (PGlite) run of the suite.
const skipReason =
  privatePostgresUnavailable() ??
  (process.env.TEST_DATABASE_URL ? 'runs in the default run only (it starts its own PostgreSQL)' : undefined);
if (skipReason !== undefined) console.warn(`skipping the private-PostgreSQL fault tests: ${skipReason}`);

const SECRET = 'fault-test-secret-key-0123456789-abcdefghijkl';
const ADMIN_PASSWORD = 'fault-admin-password-1';
const TEMPLATE = '{"to":{{mobile}},"text":{{body}},"ref":{{messageId}}}';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

async function openApp(server: PrivatePostgres, env: Record<string, string> = {}): Promise<TestApp> {
  const handle: DatabaseHandle = await createDatabase({ kind: 'postgres', url: server.url }, { queryTimeoutMs: 1500 });
  return startTestApp({ env, database: { handle, url: server.url, close: () => handle.db.destroy() } });
}

describe.skipIf(skipReason !== undefined)('faults of a real PostgreSQL and of real server processes', () => {
  let server: PrivatePostgres;
  let gateway: FakeServer;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    const migrating = await createDatabase({ kind: 'postgres', url: server.url });
    await migrateToLatest(migrating.db);
    await migrating.db.destroy();
    gateway = await startFakeSmsGateway();
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await server?.close();
  });

  it('answers within seconds while PostgreSQL is frozen (503 + Retry-After, not ready) and recovers by itself', async () => {
    // A server of its own: the other tests must not inherit anything of the freeze.
    const frozen = await startPrivatePostgres();
    const migrating = await createDatabase({ kind: 'postgres', url: frozen.url });
    await migrateToLatest(migrating.db);
    await migrating.db.destroy();
    const t = await openApp(frozen);
    const server = frozen;
    try {
      const bob = await createUser(t, 'frozen-bob');
      const me = () => t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } });
      expect((await me()).statusCode).toBe(200);

      server.freeze();
      try {
        const started = Date.now();
        // More requests than the pool has connections: waiting for a connection is bounded too.
        const answers = await Promise.all([
          ...Array.from({ length: 14 }, () => me()),
          t.app.inject({ method: 'GET', url: '/health/ready' }),
          t.app.inject({ method: 'GET', url: '/health' }),
        ]);
        const elapsed = Date.now() - started;
        const health = answers.pop();
        const ready = answers.pop();
        expect(answers.map((answer) => answer.statusCode)).toEqual(answers.map(() => 503));
        for (const answer of answers) expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
        expect(ready?.statusCode).toBe(503);
        expect(health?.statusCode).toBe(200);
        expect(elapsed).toBeLessThan(10_000);
      } finally {
        server.thaw();
      }
      const recovered = await eventually(
        async () => ((await me()).statusCode === 200 ? true : undefined),
        20_000,
        'recovery',
      );
      expect(recovered).toBe(true);
      expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await t.close();
      await t.database.close();
      await frozen.close();
    }
  }, 90_000);

  it('keeps the outcome of a send when PostgreSQL stops mid-send and writes it when it is back: no resend', async () => {
    const t = await openApp(server, {
      SMS_PROVIDER: 'custom',
      SMS_CUSTOM_URL: `${gateway.url}/send`,
      SMS_CUSTOM_PAYLOAD_TEMPLATE: TEMPLATE,
    });
    try {
      gateway.requests.length = 0;
      const now = t.clock.now();
      const id = await t.db.transaction().execute((trx) =>
        enqueueSms(trx, TEST_KEYS.smsBodyEncryption, {
          userId: null,
          purpose: 'test',
          to: '+94771234567',
          body: 'Your code is 777777',
          now,
          expiresAt: new Date(now.getTime() + 300_000),
        }),
      );
      const answer = deferred();
      gateway.enqueueResponse({ status: 200, body: { id: 'gw-kept' }, until: answer.promise });
      const pass = t.app.smsDispatcher.dispatchDueMessages();
      await eventually(async () => (gateway.requests.length === 1 ? true : undefined), 20_000, 'the send');
      await server.stop();
      answer.resolve();
      await pass;
      expect(t.app.smsDispatcher.unrecordedOutcomes).toBe(1);

      // Long after the lease, while the database is still down: nothing is claimed, nothing resent.
      t.clock.advance(120_000);
      await expect(t.app.smsDispatcher.dispatchDueMessages()).rejects.toThrow();

      await server.start();
      await eventually(
        async () => ((await t.app.smsDispatcher.dispatchDueMessages()) >= 0 ? true : undefined),
        20_000,
        'a pass',
      );
      expect(t.app.smsDispatcher.unrecordedOutcomes).toBe(0);
      const row = await t.db.selectFrom('sms_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'sent', attempts: 1, provider_message_id: 'gw-kept', body: null });
      expect(gateway.requests).toHaveLength(1);
    } finally {
      await t.close();
      await t.database.close();
    }
  }, 90_000);

  describe('real server processes', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'scim-fault-server-'));
    let databaseUrl: string;
    let db: pg.Client;

    beforeAll(async () => {
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query('create database processes');
      await admin.end();
      databaseUrl = server.url.replace(/\/postgres$/, '/processes');
      db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
    }, 60_000);
    afterAll(async () => {
      await db?.end();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const env = () => ({
      DATABASE_URL: databaseUrl,
      SECRET_KEY: SECRET,
      ADMIN_PASSWORD,
      DATA_DIR: dataDir,
      SMS_PROVIDER: 'custom',
      SMS_CUSTOM_URL: `${gateway.url}/send`,
      SMS_CUSTOM_PAYLOAD_TEMPLATE: TEMPLATE,
      SMS_SEND_TIMEOUT_MS: '2000',
      SMS_POLL_INTERVAL_MS: '200',
    });
    const adminAuth = basicAuth('admin', ADMIN_PASSWORD);

    /** Creates a user and changes their number as the administrator: one verification SMS is queued. */
    async function triggerSms(instance: ServerProcess, userName: string, number: string): Promise<void> {
      const created = await fetch(`${instance.baseUrl}/scim2/Users`, {
        method: 'POST',
        headers: { authorization: adminAuth, 'content-type': 'application/scim+json' },
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName,
          password: `${userName}-password-1`,
          phoneNumbers: [{ type: 'mobile', value: '+94770000001' }],
        }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const patched = await fetch(`${instance.baseUrl}/scim2/Users/${id}`, {
        method: 'PATCH',
        headers: { authorization: adminAuth, 'content-type': 'application/scim+json' },
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', value: { phoneNumbers: [{ type: 'mobile', value: number }] } }],
        }),
      });
      expect(patched.status).toBe(200);
    }

    const requestsTo = (number: string) =>
      gateway.requests.filter((request) => (request.json as { to?: string } | undefined)?.to === number);

    it('SIGTERM during a send: the send finishes and is recorded before the database closes', async () => {
      const instance = await startServerProcess(env());
      const answer = deferred();
      gateway.enqueueResponse({ status: 200, body: { id: 'gw-sigterm' }, until: answer.promise });
      await triggerSms(instance, 'sigterm-user', '+94771110001');
      await eventually(async () => (requestsTo('+94771110001').length === 1 ? true : undefined), 20_000, 'the send');

      instance.child.kill('SIGTERM');
      await sleep(300);
      answer.resolve();
      expect(await instance.exited).toBe(0);
      const { rows } = await db.query(
        'select state, attempts, provider_message_id from sms_outbox where to_number = $1',
        ['+94771110001'],
      );
      expect(rows).toEqual([{ state: 'sent', attempts: 1, provider_message_id: 'gw-sigterm' }]);
      expect(requestsTo('+94771110001')).toHaveLength(1);
    }, 150_000);

    it('kill -9 during a send: only that message goes again, with the same reference, once its lease ends', async () => {
      const first = await startServerProcess(env());
      const answer = deferred();
      gateway.enqueueResponse({ status: 200, body: { id: 'gw-lost' }, until: answer.promise });
      await triggerSms(first, 'killed-user', '+94771110002');
      await eventually(async () => (requestsTo('+94771110002').length === 1 ? true : undefined), 20_000, 'the send');
      first.child.kill('SIGKILL');
      await first.exited;
      answer.resolve();

      const second = await startServerProcess(env());
      try {
        // The lease (2 x SMS_SEND_TIMEOUT_MS + 30 s) must end before another instance may resend.
        await eventually(
          async () => (requestsTo('+94771110002').length === 2 ? true : undefined),
          60_000,
          'the resend',
        );
        const [lost, resent] = requestsTo('+94771110002');
        const { rows } = await db.query('select id, state, attempts from sms_outbox where to_number = $1', [
          '+94771110002',
        ]);
        const id = String(rows[0]?.id);
        expect(lost?.headers['idempotency-key']).toBe(id);
        expect(resent?.headers['idempotency-key']).toBe(id);
        expect((resent?.json as { ref?: string } | undefined)?.ref).toBe(id);
        await eventually(
          async () => {
            const current = await db.query('select state, attempts from sms_outbox where id = $1', [id]);
            return current.rows[0]?.state === 'sent' ? current.rows[0] : undefined;
          },
          10_000,
          'the resend to be recorded',
        );
        // The earlier SIGTERM-ed message was never sent again.
        expect(requestsTo('+94771110001')).toHaveLength(1);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }, 240_000);
  });
});
