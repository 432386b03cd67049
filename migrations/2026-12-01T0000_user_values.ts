import { type Kysely, sql } from 'kysely';

/**
 * Multi-valued attributes (emails, phoneNumbers, addresses, ims, photos, entitlements, x509Certificates) get
 * their own table: one row per item and sub-attribute, so a user keeps any number of values of any type, in
 * order, with every sub-attribute, and a filter on any of them is an indexed lookup.
 *
 * The claims WSO2 kept one per type (`emails.work`, `mobile`, `addresses.home.locality`, ...) move over:
 * frozen here on purpose, this migration never imports application code.
 */

const WSO2 = 'http://wso2.org/claims';

type Item = Record<string, string>;

interface Source {
  attribute: string;
  type: string | null;
  /** sub-attribute → claim URI */
  claims: Record<string, string>;
}

const ADDRESS_SUBS = ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country'];

/** In the order items are created: the untyped (primary) email first, as WSO2 shows it. */
const SOURCES: Source[] = [
  { attribute: 'emails', type: null, claims: { value: `${WSO2}/emailaddress` } },
  ...['work', 'home', 'other'].map((type) => ({
    attribute: 'emails',
    type,
    claims: { value: `${WSO2}/emails.${type}` },
  })),
  { attribute: 'phoneNumbers', type: 'mobile', claims: { value: `${WSO2}/mobile` } },
  { attribute: 'phoneNumbers', type: null, claims: { value: `${WSO2}/phoneNumbers` } },
  ...['work', 'home', 'fax', 'pager', 'other'].map((type) => ({
    attribute: 'phoneNumbers',
    type,
    claims: { value: `${WSO2}/phoneNumbers.${type}` },
  })),
  ...['work', 'home'].map((type) => ({
    attribute: 'addresses',
    type,
    claims: Object.fromEntries(ADDRESS_SUBS.map((sub) => [sub, `${WSO2}/addresses.${type}.${sub}`])),
  })),
];

const MOVED_URIS = SOURCES.flatMap((source) => Object.values(source.claims));

/** One user's claims → items per attribute; the untyped email that repeats a typed one marks it primary. */
function itemsOf(claims: ReadonlyMap<string, string>): Map<string, Item[]> {
  const result = new Map<string, Item[]>();
  for (const source of SOURCES) {
    const item: Item = {};
    for (const [sub, uri] of Object.entries(source.claims)) {
      const value = claims.get(uri);
      if (value !== undefined) item[sub] = value;
    }
    if (Object.keys(item).length === 0) continue;
    if (source.type !== null) item.type = source.type;
    const items = result.get(source.attribute) ?? [];
    items.push(item);
    result.set(source.attribute, items);
  }
  const emails = result.get('emails');
  const [untyped, ...typed] = emails ?? [];
  if (untyped !== undefined && untyped.type === undefined) {
    const same = typed.find((item) => item.value === untyped.value);
    if (same !== undefined) {
      same.primary = 'true';
      result.set('emails', typed);
    } else {
      untyped.primary = 'true';
    }
  }
  return result;
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('user_values')
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('attribute', 'text', (column) => column.notNull())
    .addColumn('ordinal', 'integer', (column) => column.notNull())
    .addColumn('sub_attribute', 'text', (column) => column.notNull())
    .addColumn('value', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('user_values_pkey', ['user_id', 'attribute', 'ordinal', 'sub_attribute'])
    .execute();
  // As for user_claims: lower() serves case-insensitive eq and sw, the plain index the caseExact ones.
  await sql`create index user_values_lower_value_idx on user_values (attribute, sub_attribute, lower(value) text_pattern_ops)`.execute(
    db,
  );
  await sql`create index user_values_value_idx on user_values (attribute, sub_attribute, value text_pattern_ops)`.execute(
    db,
  );

  const rows = (await db
    .selectFrom('user_claims')
    .select(['user_id', 'claim_uri', 'value'])
    .where('claim_uri', 'in', MOVED_URIS)
    .execute()) as { user_id: string; claim_uri: string; value: string }[];
  const byUser = new Map<string, Map<string, string>>();
  for (const row of rows) {
    const claims = byUser.get(row.user_id) ?? new Map<string, string>();
    claims.set(row.claim_uri, row.value);
    byUser.set(row.user_id, claims);
  }
  for (const [userId, claims] of byUser) {
    const values = [...itemsOf(claims)].flatMap(([attribute, items]) =>
      items.flatMap((item, ordinal) =>
        Object.entries(item).map(([sub_attribute, value]) => ({
          user_id: userId,
          attribute,
          ordinal,
          sub_attribute,
          value,
        })),
      ),
    );
    if (values.length > 0) await db.insertInto('user_values').values(values).execute();
  }
  await db.deleteFrom('user_claims').where('claim_uri', 'in', MOVED_URIS).execute();
}

/** Back to one claim per type: the first item of each known type (and the primary email) survive. */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's documented migration signature.
export async function down(db: Kysely<any>): Promise<void> {
  const rows = (await db
    .selectFrom('user_values')
    .selectAll()
    .orderBy('user_id')
    .orderBy('attribute')
    .orderBy('ordinal')
    .execute()) as { user_id: string; attribute: string; ordinal: number; sub_attribute: string; value: string }[];
  const items = new Map<string, { userId: string; attribute: string; item: Item }>();
  for (const row of rows) {
    const key = `${row.user_id} ${row.attribute} ${row.ordinal}`;
    const entry = items.get(key) ?? { userId: row.user_id, attribute: row.attribute, item: {} };
    entry.item[row.sub_attribute] = row.value;
    items.set(key, entry);
  }
  const claims = new Map<string, { user_id: string; claim_uri: string; value: string }>();
  const put = (userId: string, uri: string, value: string) => {
    const key = `${userId} ${uri}`;
    if (!claims.has(key)) claims.set(key, { user_id: userId, claim_uri: uri, value });
  };
  for (const { userId, attribute, item } of items.values()) {
    const type = item.type?.toLowerCase() ?? null;
    const source = SOURCES.find((candidate) => candidate.attribute === attribute && candidate.type === type);
    if (attribute === 'emails' && item.primary === 'true' && item.value !== undefined) {
      put(userId, `${WSO2}/emailaddress`, item.value);
    }
    if (source === undefined) continue;
    for (const [sub, uri] of Object.entries(source.claims)) {
      const value = item[sub];
      if (value !== undefined) put(userId, uri, value);
    }
  }
  if (claims.size > 0)
    await db
      .insertInto('user_claims')
      .values([...claims.values()])
      .onConflict((c) => c.doNothing())
      .execute();
  await db.schema.dropTable('user_values').execute();
}
