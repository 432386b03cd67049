import { type Kysely, sql } from 'kysely';

/**
 * Delivery that survives long outages: a message knows when the code it carries expires (it is retried
 * until then, and marked `expired` instead of being sent late). Housekeeping deletes old rows by these indexes.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sms_outbox').addColumn('expires_at', 'timestamptz').execute();
  await sql`alter table sms_outbox drop constraint sms_outbox_state_check`.execute(db);
  await sql`alter table sms_outbox add constraint sms_outbox_state_check
    check (state in ('queued', 'sending', 'sent', 'failed', 'expired'))`.execute(db);
  await db.schema.createIndex('verification_codes_expires_idx').on('verification_codes').column('expires_at').execute();
  await db.schema
    .createIndex('oauth_refresh_tokens_expires_idx')
    .on('oauth_refresh_tokens')
    .column('expires_at')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('oauth_refresh_tokens_expires_idx').ifExists().execute();
  await db.schema.dropIndex('verification_codes_expires_idx').ifExists().execute();
  await sql`update sms_outbox set state = 'failed' where state = 'expired'`.execute(db);
  await sql`alter table sms_outbox drop constraint sms_outbox_state_check`.execute(db);
  await sql`alter table sms_outbox add constraint sms_outbox_state_check
    check (state in ('queued', 'sending', 'sent', 'failed'))`.execute(db);
  await db.schema.alterTable('sms_outbox').dropColumn('expires_at').execute();
}
