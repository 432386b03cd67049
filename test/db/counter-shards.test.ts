import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup } from '../support/group-helpers.js';
import { waitForLockWaiter } from '../support/lock-waits.js';
import {
  countUsers,
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

/**
 * The trigger-kept counters (the user count, the group epoch) are sharded rows that a writer locks until it
 * commits. A writer must never wait for a shard another transaction holds while a free one exists: it holds
 * other locks by then (a group's row), and the other transaction may be waiting for one of them (a user being
 * deleted while it is added to a group), which was a deadlock and a 500. PostgreSQL only: PGlite runs one
 * transaction at a time.
 */
const url = process.env.TEST_DATABASE_URL;

describe.skipIf(url === undefined || url === '')('counter shards (PostgreSQL)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  /**
   * Another transaction holds every shard of `table` but one that no connection of the app would pick by its
   * backend (so a writer that waits for "its" shard waits), while `write` runs; answers what `write` answered,
   * or 'blocked' if it was still waiting after some seconds.
   */
  async function whileShardsHeld(
    table: 'group_epochs' | 'user_count_shards',
    write: () => ReturnType<typeof scimRequest>,
  ) {
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      const shards = await other.query<{ count: string }>(`select count(*) from ${table}`);
      const count = Number(shards.rows[0]?.count);
      const activity = await other.query<{ pid: number }>(
        'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
      );
      const taken = new Set(activity.rows.map((row) => row.pid % count));
      const free = [...Array(count).keys()].find((shard) => !taken.has(shard));
      expect(free).toBeDefined();
      await other.query('begin');
      await other.query(`select shard from ${table} where shard <> $1 for update`, [free]);
      const blocked = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5000));
      return await Promise.race([write(), blocked]);
    } finally {
      await other.query('rollback').catch(() => undefined);
      await other.end();
    }
  }

  it('adding a member does not wait for the group epoch shards other transactions hold', async () => {
    const user = await createUser(t, uniqueName('member'));
    const group = await createGroup(t, uniqueName('g'));
    const response = await whileShardsHeld('group_epochs', () =>
      scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Groups/${group.id}`,
        body: patchBody({ op: 'Add', path: 'members', value: [{ value: user.id }] }),
      }),
    );
    expect(response === 'blocked' ? 'blocked' : response.statusCode).toBe(204);
  });

  it('creating a user does not wait for the user count shards other transactions hold', async () => {
    const response = await whileShardsHeld('user_count_shards', () =>
      scimRequest(t, {
        method: 'POST',
        url: '/scim2/Users',
        body: { schemas: [SCIM.core], userName: uniqueName('counted'), password: 'counted-user-password' },
      }),
    );
    expect(response === 'blocked' ? 'blocked' : response.statusCode).toBe(201);
    const listed = await scimRequest(t, { method: 'GET', url: '/scim2/Users?count=0' });
    expect(json(listed).totalResults).toBe(await countUsers(t));
  });

  it('a deadlock with a concurrent write answers 503 with Retry-After, and changes nothing', async () => {
    const user = await createUser(t, uniqueName('member'));
    const group = await createGroup(t, uniqueName('g'));
    const other = new pg.Client({ connectionString: t.database.url });
    await other.connect();
    try {
      // This side waits longest before it looks for a deadlock, so the server's transaction is the one aborted.
      await other.query("set deadlock_timeout = '30s'");
      await other.query('begin');
      await other.query('select shard from group_epochs for update');
      const pending = scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Groups/${group.id}`,
        body: patchBody({ op: 'Add', path: 'members', value: [{ value: user.id }] }),
      });
      await waitForLockWaiter(other);
      const closing = other.query('update groups set external_id = external_id where id = $1', [group.id]);
      const response = await pending;
      await closing;
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers['retry-after']).toBe('1');
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '503' });
    } finally {
      await other.query('rollback').catch(() => undefined);
      await other.end();
    }
    const stored = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` });
    expect(json(stored).members ?? []).toEqual([]);
    expect(stored.headers.etag).toBe(group.etag);
  });
});
