import { sql } from 'kysely';
import { countRows } from '../db/count-rows.js';
import type { NewUserRow, UserRow, UserRowUpdate } from '../db/database.js';
import type { Executor } from '../db/executor.js';

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Takes the row lock that serialises every write to one user (PATCH, validate, resend). NO KEY UPDATE: writers
 * still wait for each other, but adding the user to a group (KEY SHARE on the member) need not wait for them.
 */
export async function lockUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
}

export async function findUserByUserName(db: Executor, userName: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(user_name)`, '=', userName.toLowerCase())
    .executeTakeFirst();
}

export async function insertUser(db: Executor, row: NewUserRow): Promise<UserRow> {
  return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateUserRow(db: Executor, id: string, changes: UserRowUpdate): Promise<UserRow> {
  return db.updateTable('users').set(changes).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function deleteUserById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** How many users there are, from the counter rows the triggers on users maintain (no scan of users). */
export async function countAllUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('user_count_shards')
    .select(sql<string>`cast(coalesce(sum(users), 0) as text)`.as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function countAdmins(db: Executor): Promise<number> {
  return countRows(db.selectFrom('users').where('is_admin', '=', true));
}

/** Serialises changes that could leave no administrator (two admins demoting each other at once). */
export async function lockAdministrators(db: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('administrators'))`.execute(db);
}

export async function countActiveAdminsExcept(db: Executor, id: string): Promise<number> {
  return countRows(
    db.selectFrom('users').where('is_admin', '=', true).where('active', '=', true).where('id', '!=', id),
  );
}
