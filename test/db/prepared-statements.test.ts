import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/create-db.js';
import { findUserWithAttributes } from '../../src/users/user-attributes.js';
import { waitForLockWaiter } from '../support/lock-waits.js';
import {
  createUser,
  json,
  patchBody,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

/**
 * Statements are prepared once per PostgreSQL connection (src/db/statement-names.ts), and the one read that
 * takes a user's row lock reads its attributes in the same statement (src/users/user-attributes.ts).
 * PostgreSQL only: PGlite has neither a pool nor named statements, nor a second connection to hold a lock.
 */
const url = process.env.TEST_DATABASE_URL;

describe.skipIf(url === undefined || url === '')('prepared statements and the locked read (PostgreSQL)', () => {
  let t: TestApp;
  let user: { id: string };

  beforeAll(async () => {
    t = await startTestApp();
    user = await createUser(t, uniqueName('prep'), {
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ value: 'ada@example.com', type: 'work' }],
    });
  });
  afterAll(async () => t.close());

  /** The prepared statements of one pooled connection after `run` used it. */
  async function preparedAfter(db: TestApp['db'], run: (conn: TestApp['db']) => Promise<unknown>) {
    return db.connection().execute(async (conn) => {
      await run(conn);
      const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(conn);
      return rows.map((row) => row.statement);
    });
  }

  it('a statement with parameters is prepared once per connection and reused', async () => {
    const statements = await preparedAfter(t.db, async (conn) => {
      for (let i = 0; i < 3; i += 1) expect(await findUserWithAttributes(conn, user.id)).toBeDefined();
    });
    expect(statements.filter((text) => text.includes('claim_pairs'))).toHaveLength(1);
  });

  it('with preparedStatements false nothing is prepared', async () => {
    const handle = await createDatabase({ kind: 'postgres', url: t.database.url ?? '' }, { preparedStatements: false });
    try {
      const statements = await preparedAfter(handle.db, (conn) => findUserWithAttributes(conn, user.id));
      expect(statements).toEqual([]);
    } finally {
      await handle.db.destroy();
    }
  });

  it('a PATCH that waited for the row lock sees what the lock holder wrote', async () => {
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from users where id = $1 for no key update', [user.id]);
      const patch = scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Users/${user.id}`,
        body: patchBody({ op: 'add', path: 'emails', value: [{ value: 'ada@home.example', type: 'home' }] }),
      });
      // Let the PATCH reach the lock, then write what a concurrent PATCH would: new emails, a new version.
      await waitForLockWaiter(holder);
      await holder.query(`update user_values set value = 'ada@work.example' where user_id = $1 and value = $2`, [
        user.id,
        'ada@example.com',
      ]);
      await holder.query('update users set version = version + 1 where id = $1', [user.id]);
      await holder.query('commit');
      const response = await patch;
      expect(response.statusCode, response.body).toBe(200);
      expect(json(response).emails).toEqual([
        { value: 'ada@work.example', type: 'work' },
        { value: 'ada@home.example', type: 'home' },
      ]);
      const stored = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
      expect(json(stored).emails).toEqual(json(response).emails);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }
  });

  // Last: the columns it adds and drops make every connection's statements stale once more.
  it('after a migration changes the columns of users, requests recover: 503 with Retry-After at worst, never 500', async () => {
    const get = () => scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    // Prepare the user's read on every pooled connection.
    await Promise.all(Array.from({ length: 10 }, get));
    const admin = new pg.Client({ connectionString: t.database.url });
    await admin.connect();
    try {
      await admin.query('alter table users add column nickname_for_test text');
      const statuses: number[] = [];
      for (let i = 0; i < 15 && statuses.at(-1) !== 200; i += 1) {
        const response = await get();
        statuses.push(response.statusCode);
        if (response.statusCode === 503) expect(response.headers['retry-after']).toBe('1');
      }
      expect(statuses.at(-1)).toBe(200);
      expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
      // Each connection fails at most once, then prepares the statement again: the pool recovers whole.
      const after = await Promise.all(Array.from({ length: 20 }, get));
      expect(after.every((response) => response.statusCode === 200 || response.statusCode === 503)).toBe(true);
      const again = await Promise.all(Array.from({ length: 20 }, get));
      expect(again.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    } finally {
      await admin.query('alter table users drop column if exists nickname_for_test');
      await admin.end();
    }
  });
});
