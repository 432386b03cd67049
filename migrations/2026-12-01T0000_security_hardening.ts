import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  // Bumped when a client's secret is rotated; its tokens carry the version they were issued under.
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('secret_version', 'integer', (column) => column.notNull().defaultTo(1))
    .execute();

  // Failed logins per account and per client IP (keyed hash), shared by every instance.
  await db.schema
    .createTable('login_failures')
    .addColumn('subject', 'text', (column) => column.primaryKey())
    .addColumn('failures', 'integer', (column) => column.notNull())
    .addColumn('first_failure_at', 'timestamptz', (column) => column.notNull())
    .addColumn('locked_until', 'timestamptz')
    .addColumn('lock_count', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .execute();
  await sql`create index login_failures_updated_idx on login_failures (updated_at)`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('login_failures').ifExists().execute();
  await db.schema.alterTable('oauth_clients').dropColumn('secret_version').execute();
}
