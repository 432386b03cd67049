import type { Kysely } from 'kysely';

// Migrations take Kysely<any> on purpose: they are frozen in time and never import application types.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  // Authorization code grant: clients list exact redirect URIs; public clients (no secret) rely on PKCE.
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('oauth_clients')
    .alterColumn('secret_hash', (c) => c.dropNotNull())
    .execute();

  // One row per issued authorization code, stored only as a SHA-256 hash; single-use (used_at), short-lived.
  await db.schema
    .createTable('oauth_authorization_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    // The grant the code was exchanged for: a second use of the code revokes it (RFC 6749 section 4.1.2).
    .addColumn('grant_id', 'uuid', (c) => c.references('oauth_grants.id').onDelete('set null'))
    .execute();
  await db.schema
    .createIndex('oauth_authorization_codes_expires_idx')
    .on('oauth_authorization_codes')
    .column('expires_at')
    .execute();

  // SMS_PROVIDER=inbox (development only): what would have been sent, readable in the Console.
  await db.schema
    .createTable('sms_inbox')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sms_inbox_created_idx').on('sms_inbox').column('created_at').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sms_inbox').ifExists().execute();
  await db.schema.dropTable('oauth_authorization_codes').ifExists().execute();
  await db.deleteFrom('oauth_clients').where('secret_hash', 'is', null).execute();
  await db.schema
    .alterTable('oauth_clients')
    .alterColumn('secret_hash', (c) => c.setNotNull())
    .execute();
  await db.schema.alterTable('oauth_clients').dropColumn('redirect_uris').execute();
}
