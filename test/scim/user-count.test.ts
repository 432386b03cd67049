import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

/** The unfiltered total of GET /Users comes from counter rows kept by triggers, not from count(*). */
describe('the total number of users', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const listedTotal = async () => {
    const response = await scimRequest(t, { method: 'GET', url: '/scim2/Users?count=1' });
    expect(response.statusCode).toBe(200);
    return response.json<{ totalResults: number }>().totalResults;
  };
  const counted = async () => {
    const result = await sql<{ count: string }>`select cast(count(*) as text) as count from users`.execute(t.db);
    return Number(result.rows[0]?.count);
  };

  it('follows creations and deletions through SCIM, concurrent ones included', async () => {
    const before = await listedTotal();
    expect(before).toBe(await counted());
    const created = await Promise.all(Array.from({ length: 8 }, () => createUser(t, uniqueName('cnt'))));
    expect(await listedTotal()).toBe(before + 8);
    await Promise.all(
      created.slice(0, 3).map((user) => scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${user.id}` })),
    );
    expect(await listedTotal()).toBe(before + 5);
    expect(await listedTotal()).toBe(await counted());
  });

  it('follows multi-row inserts and deletes in SQL, and ignores rolled-back ones', async () => {
    const before = await counted();
    const prefix = uniqueName('sqlcnt');
    await sql`insert into users (id, user_name) select gen_random_uuid(), ${prefix} || i from generate_series(1, 25) as i`.execute(
      t.db,
    );
    expect(await listedTotal()).toBe(before + 25);
    await sql`delete from users where user_name in (${prefix} || '1', ${prefix} || '2', ${prefix} || '3')`.execute(
      t.db,
    );
    expect(await listedTotal()).toBe(before + 22);
    await expect(
      t.db.transaction().execute(async (trx) => {
        await sql`insert into users (id, user_name) values (gen_random_uuid(), ${`${prefix}-rolled-back`})`.execute(
          trx,
        );
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await listedTotal()).toBe(before + 22);
    expect(await listedTotal()).toBe(await counted());
  });

  it('a filter is still counted by the filter', async () => {
    const name = uniqueName('only');
    await createUser(t, name);
    const response = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`,
    });
    expect(response.json<{ totalResults: number }>().totalResults).toBe(1);
  });
});
