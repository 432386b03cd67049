import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('groups')
    .addColumn('id', 'uuid', (column) => column.primaryKey())
    .addColumn('display_name', 'text', (column) => column.notNull())
    .addColumn('external_id', 'text')
    .addColumn('version', 'integer', (column) => column.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .execute();
  // displayName is unique case-insensitively (409 uniqueness); the index also serves eq and sw filters.
  await sql`create unique index groups_display_name_lower_key on groups (lower(display_name))`.execute(db);
  await sql`create index groups_display_name_lower_pattern_idx on groups (lower(display_name) text_pattern_ops)`.execute(
    db,
  );
  await db.schema.createIndex('groups_created_at_idx').on('groups').columns(['created_at', 'id']).execute();

  // One row per direct membership. A member is a user or a group: two nullable columns, each with its own
  // foreign key, so deleting a user or a group removes its memberships in the database itself.
  await db.schema
    .createTable('group_members')
    .addColumn('group_id', 'uuid', (column) => column.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('member_user_id', 'uuid', (column) => column.references('users.id').onDelete('cascade'))
    .addColumn('member_group_id', 'uuid', (column) => column.references('groups.id').onDelete('cascade'))
    .addColumn('added_at', 'timestamptz', (column) => column.notNull())
    .addCheckConstraint('group_members_one_member', sql`num_nonnulls(member_user_id, member_group_id) = 1`)
    .execute();
  await sql`create unique index group_members_user_key on group_members (group_id, member_user_id) where member_user_id is not null`.execute(
    db,
  );
  await sql`create unique index group_members_group_key on group_members (group_id, member_group_id) where member_group_id is not null`.execute(
    db,
  );
  // A user's groups, a group's parents (nested memberships), and the cascades above.
  await sql`create index group_members_member_user_idx on group_members (member_user_id, group_id) where member_user_id is not null`.execute(
    db,
  );
  await sql`create index group_members_member_group_idx on group_members (member_group_id, group_id) where member_group_id is not null`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('group_members').ifExists().execute();
  await db.schema.dropTable('groups').ifExists().execute();
}
