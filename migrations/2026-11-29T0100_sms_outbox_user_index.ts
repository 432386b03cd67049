import type { Kysely } from 'kysely';

// Serves the delivery API's per-user listing (newest first) and the ON DELETE SET NULL of users.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('sms_outbox_user_id_idx').on('sms_outbox').columns(['user_id', 'created_at']).execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('sms_outbox_user_id_idx').ifExists().execute();
}
