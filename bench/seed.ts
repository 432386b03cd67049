import { randomBytes, scryptSync } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/database.js';
import type { SeededGroups } from './protocol.js';

export const USER_PASSWORD = 'bench-user-password';
const WSO2 = 'http://wso2.org/claims';

/**
 * The stored form hashPassword produces (scrypt$N$r$p$salt$hash), with N = 1024 instead of 16384: the
 * mobile and validate-code scenarios sign in as thousands of distinct users, and a full-cost scrypt per
 * first sign-in would measure the password hash, not the endpoint. Verification reads N from the hash.
 */
export function cheapPasswordHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 64, { N: 1024, r: 8, p: 1 });
  return ['scrypt', 1024, 8, 1, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** The mobile number user `index` is seeded with; the mobile scenario moves users to `newMobileOf`. */
export function seededMobileOf(index: number): string {
  return `+4474${String(index).padStart(8, '0')}`;
}

export function newMobileOf(index: number): string {
  return `+4475${String(index).padStart(8, '0')}`;
}

/**
 * `count` users user1..userN in SQL (generate_series, in chunks so no statement holds a huge transaction),
 * each with a given name and family name (claims), one primary work email and one mobile number (user_values),
 * as the server itself stores them. Creation times are one millisecond apart, in index order.
 */
export async function seedUsers(db: Kysely<Database>, count: number, log: (line: string) => void): Promise<void> {
  const hash = cheapPasswordHash(USER_PASSWORD);
  const chunk = 100_000;
  const started = Date.now();
  for (let first = 1; first <= count; first += chunk) {
    const last = Math.min(count, first + chunk - 1);
    // One statement per chunk: the data-modifying CTEs insert each user with its claims and values.
    await sql`with new_users as (
        insert into users (id, user_name, password_hash, created_at, updated_at)
        select gen_random_uuid(), 'user' || i, ${hash}, t, t
        from generate_series(${first}::int, ${last}::int) as i,
             lateral (select timestamptz '2026-01-01T00:00:00Z' + i * interval '1 millisecond' as t) as created
        returning id, user_name
      ), claims as (
        insert into user_claims (user_id, claim_uri, value)
        select u.id, claim.uri, claim.prefix || substr(u.user_name, 5)
        from new_users u
        cross join (values (${`${WSO2}/givenname`}, 'Given'), (${`${WSO2}/lastname`}, 'Family')) as claim(uri, prefix)
      )
      insert into user_values (user_id, attribute, ordinal, sub_attribute, value)
      select u.id, item.attribute, 0, item.sub_attribute,
        case item.kind
          when 'email' then u.user_name || '@example.com'
          when 'mobile' then '+4474' || lpad(substr(u.user_name, 5), 8, '0')
          else item.constant end
      from new_users u
      cross join (values
        ('emails', 'value', 'email', null), ('emails', 'type', 'constant', 'work'),
        ('emails', 'primary', 'constant', 'true'),
        ('phoneNumbers', 'value', 'mobile', null), ('phoneNumbers', 'type', 'constant', 'mobile')
      ) as item(attribute, sub_attribute, kind, constant)`.execute(db);
    log(`seeded users ${last}/${count} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  await sql`analyze`.execute(db);
}

/** The ids of users 1..count, in index order. */
export async function seededUserIds(db: Kysely<Database>, count: number): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('user_name', 'like', 'user%')
    .orderBy('created_at')
    .limit(count)
    .execute();
  return rows.map((row) => row.id);
}

const BIG_GROUP_MEMBERS = 50_000;
const GROUPS_OF_ONE_USER = 1_000;

/** One group of 50,000 members (bare users `member1..`), and 1,000 groups with `joinerId` as their member. */
export async function seedGroups(db: Kysely<Database>, joinerId: string): Promise<SeededGroups> {
  const big = await sql<{ id: string }>`insert into groups (id, display_name, created_at, updated_at)
    values (gen_random_uuid(), 'big', now(), now()) returning id`.execute(db);
  const bigGroupId = big.rows[0]?.id ?? '';
  await sql`with members as (
      insert into users (id, user_name, created_at, updated_at)
      select gen_random_uuid(), 'member' || i, now(), now() from generate_series(1, ${BIG_GROUP_MEMBERS}::int) as i
      returning id
    )
    insert into group_members (group_id, member_user_id, member_group_id, added_at)
    select cast(${bigGroupId} as uuid), id, null, now() from members`.execute(db);
  await sql`with created as (
      insert into groups (id, display_name, created_at, updated_at)
      select gen_random_uuid(), 'group' || i, now(), now() from generate_series(1, ${GROUPS_OF_ONE_USER}::int) as i
      returning id
    )
    insert into group_members (group_id, member_user_id, member_group_id, added_at)
    select id, cast(${joinerId} as uuid), null, now() from created`.execute(db);
  return { bigGroupId, joinerId };
}
