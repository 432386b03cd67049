import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  // One row: every transaction that takes a credential away bumps it, under its row lock, so events
  // commit in epoch order and a reader never sees epoch n+1 without n (src/auth/credential-events.ts).
  await db.schema
    .createTable('credential_epoch')
    .addColumn('id', 'integer', (column) => column.primaryKey().check(sql`id = 1`))
    .addColumn('epoch', 'bigint', (column) => column.notNull())
    .execute();
  await sql`insert into credential_epoch (id, epoch) values (1, 0)`.execute(db);
  // What each epoch revoked (space-separated `kind:id` targets); kept minutes, for instances that poll.
  await db.schema
    .createTable('credential_events')
    .addColumn('epoch', 'bigint', (column) => column.primaryKey())
    .addColumn('targets', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('credential_events').ifExists().execute();
  await db.schema.dropTable('credential_epoch').ifExists().execute();
}
