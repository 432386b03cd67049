import { type Kysely, sql } from 'kysely';

/**
 * `roles` is now kept item by item in user_values like the other multi-valued attributes; until now only
 * the administrator flag held it. Every administrator gets the item it was shown with (`admin`, display
 * `admin`), so nothing it had is lost and `filter=roles.value eq "admin"` finds it. The flag stays the
 * authority that authentication reads; the service keeps both in step.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    insert into user_values (user_id, attribute, ordinal, sub_attribute, value)
    select u.id, 'roles', 0, s.sub_attribute, 'admin'
    from users u cross join (values ('value'), ('display')) as s(sub_attribute)
    where u.is_admin and not exists (select 1 from user_values v where v.user_id = u.id and v.attribute = 'roles')`.execute(
    db,
  );
}

/** Back to the flag alone (other role values had no storage before). */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('user_values').where('attribute', '=', 'roles').execute();
}
