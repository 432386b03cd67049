import { type Kysely, sql } from 'kysely';

/**
 * A number that grows whenever any group or membership changes: the sum of `group_epochs`. A server may keep a
 * user's groups (a big list to compute) and reuse them while the sum it was read with is still the sum, checked
 * in the same statement as the user (src/groups/user-groups-cache.ts). Statement-level triggers keep it, so every
 * path counts (SCIM, Bulk, the cascade when a user or a group is deleted, SQL by hand). As with the user count,
 * a writer bumps one of several rows, so concurrent writers rarely wait for each other.
 */
const SHARDS = 16;

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table group_epochs (shard integer primary key, epoch bigint not null)`.execute(db);
  await sql`insert into group_epochs (shard, epoch) select shard, 0 from generate_series(0, ${sql.lit(SHARDS - 1)}) as shard`.execute(
    db,
  );
  // This backend's shard first, else the next one no other transaction holds: a writer holds other locks by
  // then (a group's row), and waiting for a shard whose holder waits for one of them was a deadlock. It waits
  // only when other transactions hold every shard.
  await sql
    .raw(`create function bump_group_epoch() returns trigger language plpgsql as $$
    declare
      chosen integer;
    begin
      select shard into chosen from group_epochs
        order by (shard + ${SHARDS} - pg_backend_pid() % ${SHARDS}) % ${SHARDS}
        limit 1 for update skip locked;
      update group_epochs set epoch = epoch + 1 where shard = coalesce(chosen, pg_backend_pid() % ${SHARDS});
      return null;
    end $$`)
    .execute(db);
  await sql`create trigger group_members_epoch after insert or update or delete or truncate on group_members
    for each statement execute function bump_group_epoch()`.execute(db);
  // A user's groups carry the groups' names, not their versions: moving a version (every group write) is no change.
  await sql`create trigger groups_epoch after update of display_name or delete or truncate on groups
    for each statement execute function bump_group_epoch()`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists groups_epoch on groups`.execute(db);
  await sql`drop trigger if exists group_members_epoch on group_members`.execute(db);
  await sql`drop function if exists bump_group_epoch()`.execute(db);
  await sql`drop table if exists group_epochs`.execute(db);
}
