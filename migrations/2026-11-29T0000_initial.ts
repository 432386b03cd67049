import { type Kysely, sql } from 'kysely';

// Migrations take Kysely<any> on purpose: they are frozen in time and never import application types.
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (column) => column.primaryKey())
    .addColumn('user_name', 'text', (column) => column.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('active', 'boolean', (column) => column.notNull().defaultTo(true))
    .addColumn('is_admin', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('version', 'integer', (column) => column.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index users_user_name_lower_key on users (lower(user_name))`.execute(db);
  await db.schema.createIndex('users_created_at_idx').on('users').column('created_at').execute();

  await db.schema
    .createTable('user_claims')
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('claim_uri', 'text', (column) => column.notNull())
    .addColumn('value', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('user_claims_pkey', ['user_id', 'claim_uri'])
    .execute();
  // Filters compare case-insensitively for most attributes; text_pattern_ops also serves "sw" (LIKE 'x%').
  await sql`create index user_claims_lower_value_idx on user_claims (claim_uri, lower(value) text_pattern_ops)`.execute(
    db,
  );
  await sql`create index user_claims_value_idx on user_claims (claim_uri, value text_pattern_ops)`.execute(db);

  await db.schema
    .createTable('verification_codes')
    .addColumn('id', 'uuid', (column) => column.primaryKey())
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('scenario', 'text', (column) => column.notNull())
    .addColumn('number', 'text', (column) => column.notNull())
    .addColumn('code_hmac', 'text', (column) => column.notNull())
    .addColumn('lookup_hmac', 'text', (column) => column.notNull())
    .addColumn('failed_attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .execute();
  // One live code per user and scenario; codes are unique among live codes (privileged validate finds the user by code).
  await db.schema
    .createIndex('verification_codes_user_scenario_key')
    .on('verification_codes')
    .columns(['user_id', 'scenario'])
    .unique()
    .execute();
  await db.schema
    .createIndex('verification_codes_lookup_key')
    .on('verification_codes')
    .column('lookup_hmac')
    .unique()
    .execute();

  await db.schema
    .createTable('sms_outbox')
    .addColumn('id', 'uuid', (column) => column.primaryKey())
    .addColumn('user_id', 'uuid', (column) => column.references('users.id').onDelete('set null'))
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('to_number', 'text', (column) => column.notNull())
    .addColumn('body', 'text')
    .addColumn('state', 'text', (column) =>
      column.notNull().check(sql`state in ('queued', 'sending', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (column) => column.notNull())
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('provider', 'text')
    .addColumn('provider_message_id', 'text')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await sql`create index sms_outbox_due_idx on sms_outbox (next_attempt_at) where state in ('queued', 'sending')`.execute(
    db,
  );
  await db.schema.createIndex('sms_outbox_created_at_idx').on('sms_outbox').column('created_at').execute();

  await db.schema
    .createTable('sms_senders')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('provider', 'text', (column) => column.notNull())
    .addColumn('settings', 'text', (column) => column.notNull())
    .addColumn('secrets_encrypted', 'text', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['sms_senders', 'sms_outbox', 'verification_codes', 'user_claims', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
