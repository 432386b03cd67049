import { type Kysely, sql } from 'kysely';

// The dispatcher counts the last hour's sent messages on every pass (the global ceiling); keep that an index scan.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index sms_outbox_sent_at_idx on sms_outbox (sent_at) where state = 'sent'`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sms_outbox_sent_at_idx').ifExists().execute();
}
