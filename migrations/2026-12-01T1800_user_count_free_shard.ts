import { type Kysely, sql } from 'kysely';

/**
 * The user count's trigger (2026-12-01T1310_user_count) waited for the counter row of its backend even when
 * another transaction held it and others were free: a writer that holds other locks by then can deadlock with
 * that transaction. Now it takes its backend's row, else the next one no other transaction holds, and waits
 * only when other transactions hold all 64.
 */
const SHARDS = 64;

function countUsers(chooseShard: string): string {
  return `create or replace function count_users() returns trigger language plpgsql as $$
    declare
      chosen integer;
    begin
      if tg_op = 'TRUNCATE' then
        update user_count_shards set users = 0;
        return null;
      end if;
      ${chooseShard}
      if tg_op = 'INSERT' then
        update user_count_shards set users = users + (select count(*) from changed_users) where shard = chosen;
      else
        update user_count_shards set users = users - (select count(*) from changed_users) where shard = chosen;
      end if;
      return null;
    end $$`;
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      countUsers(`select shard into chosen from user_count_shards
        order by (shard + ${SHARDS} - pg_backend_pid() % ${SHARDS}) % ${SHARDS}
        limit 1 for update skip locked;
      chosen := coalesce(chosen, pg_backend_pid() % ${SHARDS});`),
    )
    .execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(countUsers(`chosen := pg_backend_pid() % ${SHARDS};`)).execute(db);
}
