import { type Kysely, sql } from 'kysely';

/**
 * `co`, `sw` and `ew` filters compare `lower(value) LIKE lower(pattern)` (src/query/query-filter.ts): trigram
 * GIN indexes on those same expressions serve any pattern of three characters or more, wherever the wildcards
 * are, so a substring search over a million users reads the few matching rows instead of every row. The
 * btree `text_pattern_ops` indexes keep serving `eq` and `sw`.
 *
 * `users (created_at, id)` is the order of an unsorted listing: a page deep in the list reads the index
 * (ids only, index-only scan) instead of sorting every user. It replaces the index on created_at alone.
 *
 * pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. PGlite loads it at
 * start (src/db/create-db.ts). Built inside the migration's transaction, so on a large existing database
 * writes to these tables wait while the indexes are built.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create index user_values_lower_value_trgm_idx on user_values using gin (lower(value) gin_trgm_ops)`.execute(
    db,
  );
  await sql`create index user_claims_lower_value_trgm_idx on user_claims using gin (lower(value) gin_trgm_ops)`.execute(
    db,
  );
  await sql`create index users_user_name_lower_trgm_idx on users using gin (lower(user_name) gin_trgm_ops)`.execute(db);
  await sql`create index users_created_at_id_idx on users (created_at, id)`.execute(db);
  await sql`drop index users_created_at_idx`.execute(db);
}

/** The extension stays: other objects of the database may use it. */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists users_created_at_idx on users (created_at)`.execute(db);
  await sql`drop index if exists users_created_at_id_idx`.execute(db);
  await sql`drop index if exists users_user_name_lower_trgm_idx`.execute(db);
  await sql`drop index if exists user_claims_lower_value_trgm_idx`.execute(db);
  await sql`drop index if exists user_values_lower_value_trgm_idx`.execute(db);
}
