import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserFilter } from '../../src/scim/user-query.js';
import { userFilterToWhere } from '../../src/users/user-list.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

// Enough users for the planner to prefer an index over reading the tables (statistics from ANALYZE).
const USERS = 20_000;

/**
 * The SQL the filter translator writes is what the indexes of the migrations are built for: each
 * substring/prefix/suffix filter is planned on its trigram index, an unsorted page on (created_at, id).
 */
describe('filters and pages use their indexes', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
    const { db } = database.handle;
    await sql`insert into users (id, user_name, created_at, updated_at)
      select gen_random_uuid(), 'person' || i, now() + i * interval '1 ms', now() from generate_series(1, ${USERS}::int) i`.execute(
      db,
    );
    await sql`insert into user_claims (user_id, claim_uri, value)
      select id, 'http://wso2.org/claims/lastname', 'Surname' || substr(user_name, 7) from users`.execute(db);
    await sql`insert into user_values (user_id, attribute, ordinal, sub_attribute, value)
      select id, 'emails', 0, sub, case sub when 'value' then user_name || '@example.com' else 'work' end
      from users cross join (values ('value'), ('type'), ('display')) as subs(sub)`.execute(db);
    await sql`analyze`.execute(db);
  }, 120_000);
  afterAll(async () => database?.close());

  async function planOf(filter: string): Promise<string> {
    const query = database.handle.db
      .selectFrom('users')
      .select('users.id')
      .where(userFilterToWhere(parseUserFilter(filter)));
    const rows = await query.explain();
    return rows.map((row) => String(Object.values(row)[0])).join('\n');
  }

  it.each([
    ['emails.value co "son1234@"', 'user_values_lower_value_trgm_idx'],
    ['emails.value ew "n12345@example.com"', 'user_values_lower_value_trgm_idx'],
    ['emails co "ON1234@EXA"', 'user_values_lower_value_trgm_idx'],
    ['name.familyName co "name1234"', 'user_claims_lower_value_trgm_idx'],
    ['name.familyName ew "rname12345"', 'user_claims_lower_value_trgm_idx'],
    ['userName co "son1234"', 'users_user_name_lower_trgm_idx'],
    ['userName ew "rson12345"', 'users_user_name_lower_trgm_idx'],
  ])('%s reads %s', async (filter, index) => {
    expect(await planOf(filter)).toContain(index);
  });

  it.each([
    ['name.familyName sw "Surname1234"', 'user_claims_lower_value'],
    ['userName eq "PERSON1234"', 'users_user_name_lower_key'],
  ])('%s reads an index (%s)', async (filter, index) => {
    expect(await planOf(filter)).toContain(index);
  });

  it('a page of the unsorted list reads ids from the (created_at, id) index, from either end', async () => {
    const { db } = database.handle;
    for (const direction of ['asc', 'desc'] as const) {
      const rows = await db
        .selectFrom('users')
        .select('users.id')
        .orderBy('users.created_at', direction)
        .orderBy('users.id', direction)
        .offset(100)
        .limit(100)
        .explain();
      expect(rows.map((row) => String(Object.values(row)[0])).join('\n')).toMatch(
        /Index Only Scan.*users_created_at_id_idx/,
      );
    }
  });
});
