import { type Kysely, sql } from 'kysely';

/**
 * Queued SMS texts are sealed (AES-256-GCM with a key derived from SECRET_KEY) in `sealed_body`; migrations
 * have no key, so messages queued before this version keep their plaintext `body`: the dispatcher still sends
 * them and erases them as before (their codes expire within minutes). Rate-limit buckets used to name client
 * addresses and phone numbers whole; they are named by keyed hash now, and the old ones (one day at most) go.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sms_outbox').addColumn('sealed_body', 'text').execute();
  await sql`delete from rate_limit_counters where bucket like 'sms:number:%' or bucket like 'verification:ip:%'`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sms_outbox').dropColumn('sealed_body').execute();
}
