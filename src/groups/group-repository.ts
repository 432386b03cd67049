import { type Expression, type RawBuilder, sql } from 'kysely';
import type { GroupRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import type { Member, MemberKind, UserGroup } from './group.js';

/** Keeps every statement far below PostgreSQL's 65,535 bind parameters, whatever a PUT sends. */
const CHUNK = 1000;

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += CHUNK) result.push(items.slice(start, start + CHUNK));
  return result;
}

export async function findGroupById(db: Executor, id: string): Promise<GroupRow | undefined> {
  return db.selectFrom('groups').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The row lock that serialises writes to one group (and its ETag). NO KEY UPDATE, as the write changes no key:
 * it still excludes other writers and a deletion, but not the KEY SHARE that nesting this group elsewhere
 * takes (classifyIds), so two groups nested into each other at once cannot deadlock.
 */
/**
 * The first statement of a group PATCH: takes the group's row lock (an UPDATE of no key column: NO KEY UPDATE, so
 * adding the group as a member elsewhere need not wait) and moves its version, which every PATCH does. Answers the
 * row as it is now (its version the new one).
 */
export async function lockAndBumpGroup(db: Executor, id: string, now: Date): Promise<GroupRow | undefined> {
  return db
    .updateTable('groups')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function findGroupByDisplayName(db: Executor, displayName: string): Promise<GroupRow | undefined> {
  return db
    .selectFrom('groups')
    .selectAll()
    .where(sql<string>`lower(display_name)`, '=', displayName.toLowerCase())
    .executeTakeFirst();
}

export async function insertGroup(
  db: Executor,
  row: { id: string; display_name: string; external_id: string | null; created_at: Date; updated_at: Date },
): Promise<GroupRow> {
  return db.insertInto('groups').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Every write moves the version, which is the group's ETag. */
export async function setGroupNames(
  db: Executor,
  id: string,
  names: { display_name: string; external_id: string | null },
): Promise<GroupRow> {
  return db.updateTable('groups').set(names).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function deleteGroupById(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Which of `ids` are users and which are groups (ids that are neither are absent from both sets). The rows
 * found are KEY SHARE locked until the transaction ends: a deletion already in flight is waited for (and its
 * row then not found: an unknown member, 400), one that comes later waits for this write and then removes the
 * memberships it made. Without the lock, a member deleted between this check and the insert made the insert
 * fail its foreign key (500).
 */
export async function classifyIds(db: Executor, ids: readonly string[]): Promise<Map<string, MemberKind>> {
  const kinds = new Map<string, MemberKind>();
  for (const part of chunks(ids)) {
    const users = await db.selectFrom('users').select('id').where('id', 'in', part).forKeyShare().execute();
    for (const { id } of users) kinds.set(id, 'User');
    // Ids are random UUIDs: one that names a user names no group, so the groups are asked only for the rest.
    const rest = part.filter((id) => !kinds.has(id));
    if (rest.length === 0) continue;
    const groups = await db.selectFrom('groups').select('id').where('id', 'in', rest).forKeyShare().execute();
    for (const { id } of groups) kinds.set(id, 'Group');
  }
  return kinds;
}

/** Inserts memberships; those that exist already are left as they are (adding twice is harmless). */
export async function addMemberships(
  db: Executor,
  groupId: string,
  members: readonly { id: string; kind: MemberKind }[],
  now: Date,
): Promise<void> {
  for (const part of chunks(members)) {
    await db
      .insertInto('group_members')
      .values(
        part.map((member) => ({
          group_id: groupId,
          member_user_id: member.kind === 'User' ? member.id : null,
          member_group_id: member.kind === 'Group' ? member.id : null,
          added_at: now,
        })),
      )
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}

export async function removeMemberships(db: Executor, groupId: string, ids: readonly string[]): Promise<void> {
  for (const part of chunks(ids)) {
    await db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where((eb) => eb.or([eb('member_user_id', 'in', part), eb('member_group_id', 'in', part)]))
      .execute();
  }
}

export async function removeAllMemberships(db: Executor, groupId: string): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).execute();
}

/** Direct members of the groups, with their display names, in the order they were added. */
export async function loadMembers(db: Executor, groupIds: readonly string[]): Promise<Map<string, Member[]>> {
  const byGroup = new Map<string, Member[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return byGroup;
  const rows = await db
    .selectFrom('group_members as m')
    .leftJoin('users as u', 'u.id', 'm.member_user_id')
    .leftJoin('groups as g', 'g.id', 'm.member_group_id')
    .select(['m.group_id', 'm.member_user_id', 'm.member_group_id', 'u.user_name', 'g.display_name'])
    .where('m.group_id', 'in', groupIds)
    .orderBy('m.added_at')
    .orderBy('m.member_user_id')
    .orderBy('m.member_group_id')
    .execute();
  for (const row of rows) {
    const member: Member =
      row.member_user_id !== null
        ? { id: row.member_user_id, kind: 'User', display: row.user_name ?? '' }
        : { id: row.member_group_id ?? '', kind: 'Group', display: row.display_name ?? '' };
    byGroup.get(row.group_id)?.push(member);
  }
  return byGroup;
}

/** The groups `groupId` is in, directly or through other groups, and itself. */
export async function ancestorsOf(db: Executor, groupId: string): Promise<Set<string>> {
  const result = await sql<{ id: string }>`
    with recursive ancestors(id) as (
      select cast(${groupId} as uuid)
      union
      select m.group_id from group_members m join ancestors a on m.member_group_id = a.id
    )
    select id from ancestors`.execute(db);
  return new Set(result.rows.map((row) => row.id));
}

/** Serialises changes to group nesting, so two concurrent writes cannot close a cycle between them. */
export async function lockGroupNesting(db: Executor): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('group_nesting'))`.execute(db);
}

/** A user's group as the database aggregates it: [id, displayName, direct]. */
export type UserGroupTuple = [string, string, boolean];

/**
 * The groups of the user `userId` names (a column of the enclosing query): direct memberships, and the groups
 * those groups are in (transitively), as one JSON array, so a user's read carries its groups in the same
 * statement. UNION stops on any cycle. Ordered by name in code point order (as sorting is elsewhere): the
 * locale's collation made the sort most of the query's time for 1,000 groups.
 */
export function userGroupTuples(userId: Expression<string>): RawBuilder<UserGroupTuple[]> {
  return sql<UserGroupTuple[]>`(
    with recursive memberships(group_id, direct) as (
      select group_id, true from group_members where member_user_id = ${userId}
      union
      select gm.group_id, false from memberships m join group_members gm on gm.member_group_id = m.group_id
    )
    select coalesce(json_agg(json_build_array(g.id, g.display_name, d.direct)
      order by lower(g.display_name) collate "C", g.id), '[]')
    from (select group_id, bool_or(direct) as direct from memberships group by group_id) d
    join groups g on g.id = d.group_id)`;
}

export function userGroupsFrom(tuples: readonly UserGroupTuple[]): UserGroup[] {
  return tuples.map(([id, display, direct]) => ({ id, display, direct }));
}
