import { type Kysely, sql } from 'kysely';

// Migrations take Kysely<any> on purpose: they are frozen in time and never import application types.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  // Registered OAuth clients; the secret is stored only as a hash.
  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('secret_hash', 'text', (column) => column.notNull())
    // Space-separated, as OAuth writes them.
    .addColumn('grant_types', 'text', (column) => column.notNull())
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .execute();

  // Token-signing keys; the private key is encrypted with a key derived from SECRET_KEY.
  await db.schema
    .createTable('oauth_signing_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('alg', 'text', (column) => column.notNull())
    .addColumn('public_jwk', 'text', (column) => column.notNull())
    .addColumn('private_jwk_encrypted', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    // Null while the key signs; once retired it stays published until publish_until.
    .addColumn('retired_at', 'timestamptz')
    .addColumn('publish_until', 'timestamptz')
    .execute();
  await sql`create unique index oauth_signing_keys_one_active on oauth_signing_keys ((true)) where retired_at is null`.execute(
    db,
  );

  // One row per password-grant login; its refresh tokens and access tokens (claim `sid`) hang off it.
  await db.schema
    .createTable('oauth_grants')
    .addColumn('id', 'uuid', (column) => column.primaryKey())
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (column) => column.references('oauth_clients.client_id').onDelete('cascade'))
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('oauth_grants_user_idx').on('oauth_grants').column('user_id').execute();
  await db.schema.createIndex('oauth_grants_client_idx').on('oauth_grants').column('client_id').execute();
  await db.schema.createIndex('oauth_grants_expires_idx').on('oauth_grants').column('expires_at').execute();

  // Opaque refresh tokens, stored as SHA-256 hashes; rotated on use (used_at set on the old one).
  await db.schema
    .createTable('oauth_refresh_tokens')
    .addColumn('token_hash', 'text', (column) => column.primaryKey())
    .addColumn('grant_id', 'uuid', (column) => column.notNull().references('oauth_grants.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('oauth_refresh_tokens_grant_idx').on('oauth_refresh_tokens').column('grant_id').execute();

  // Revoked access tokens by `jti`, kept until the token would have expired anyway.
  await db.schema
    .createTable('oauth_revoked_tokens')
    .addColumn('jti', 'text', (column) => column.primaryKey())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .execute();
  await db.schema
    .createIndex('oauth_revoked_tokens_expires_idx')
    .on('oauth_revoked_tokens')
    .column('expires_at')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('oauth_revoked_tokens').ifExists().execute();
  await db.schema.dropTable('oauth_refresh_tokens').ifExists().execute();
  await db.schema.dropTable('oauth_grants').ifExists().execute();
  await db.schema.dropTable('oauth_signing_keys').ifExists().execute();
  await db.schema.dropTable('oauth_clients').ifExists().execute();
}
