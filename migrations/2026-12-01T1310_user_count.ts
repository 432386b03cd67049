import { type Kysely, sql } from 'kysely';

/**
 * How many users there are, without counting them: an unfiltered `GET /Users` needs the total, and
 * `count(*)` reads every user (about 90 ms at 1,000,000, on every page). Statement-level triggers add
 * each statement's inserted and deleted users to one of 64 counter rows, chosen by the backend, so
 * concurrent writers rarely wait for each other (a row lock is held until commit). The sum of the rows
 * is exact in any snapshot: the counter rows change in the same transactions as the users.
 */
const SHARDS = 64;

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table user_count_shards (shard integer primary key, users bigint not null)`.execute(db);
  await sql`insert into user_count_shards (shard, users) select shard, 0 from generate_series(0, ${sql.lit(SHARDS - 1)}) as shard`.execute(
    db,
  );
  await sql`lock table users in share mode`.execute(db);
  await sql`update user_count_shards set users = (select count(*) from users) where shard = 0`.execute(db);
  await sql
    .raw(`create function count_users() returns trigger language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        update user_count_shards set users = 0;
      elsif tg_op = 'INSERT' then
        update user_count_shards set users = users + (select count(*) from changed_users)
          where shard = pg_backend_pid() % ${SHARDS};
      else
        update user_count_shards set users = users - (select count(*) from changed_users)
          where shard = pg_backend_pid() % ${SHARDS};
      end if;
      return null;
    end $$`)
    .execute(db);
  await sql`create trigger users_count_inserts after insert on users referencing new table as changed_users
    for each statement execute function count_users()`.execute(db);
  await sql`create trigger users_count_deletes after delete on users referencing old table as changed_users
    for each statement execute function count_users()`.execute(db);
  await sql`create trigger users_count_truncates after truncate on users
    for each statement execute function count_users()`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger if exists users_count_truncates on users`.execute(db);
  await sql`drop trigger if exists users_count_deletes on users`.execute(db);
  await sql`drop trigger if exists users_count_inserts on users`.execute(db);
  await sql`drop function if exists count_users()`.execute(db);
  await sql`drop table if exists user_count_shards`.execute(db);
}
