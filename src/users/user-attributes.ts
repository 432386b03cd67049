import { type RawBuilder, sql } from 'kysely';
import type { UserRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import type { UserGroup } from '../groups/group.js';
import { type UserGroupTuple, userGroupsFrom, userGroupTuples } from '../groups/group-repository.js';
import type { UserGroupsCache } from '../groups/user-groups-cache.js';
import type { ClaimMap } from './claims.js';
import { ADMIN_ROLE_ITEM, confersAdministration } from './user.js';

/** One sub-attribute's value in an item of a multi-valued attribute (`primary` is the boolean one). */
export type ItemValue = string | boolean;
/** One item, sub-attribute name → value, e.g. `{ value: 'a@b.c', type: 'work', primary: true }`. */
export type ValueItem = Readonly<Record<string, ItemValue>>;
/** Multi-valued attribute name → its items, in order. */
export type MultiValues = ReadonlyMap<string, readonly ValueItem[]>;

/** Everything stored about a user beyond the `users` row: singular claims and multi-valued items. */
export interface UserAttributes {
  claims: ClaimMap;
  values: MultiValues;
}

const BOOLEAN_SUB_ATTRIBUTES: ReadonlySet<string> = new Set(['primary']);

/** One stored row of a multi-valued attribute: one sub-attribute of one item. */
interface ValueRow {
  attribute: string;
  ordinal: number;
  sub_attribute: string;
  value: string;
}

/** (claim URI, value) pairs and (attribute, ordinal, sub-attribute, value) rows, as the database aggregates them. */
type ClaimPairs = [string, string][];
type ValueTuples = [string, number, string, string][];

/** What a read of users brings besides the row and its attributes. */
export interface UserReadOptions {
  /** The read-only `groups` (direct and nested), in the same statement; only when the answer shows them. */
  groups?: boolean;
  /** Reuses a user's groups read before while no group changed since (single-user reads). */
  groupsCache?: UserGroupsCache | undefined;
}

/** The sum that grows with every change to a group or a membership (migration 2026-12-01T1600_group_epochs). */
const GROUP_EPOCH = sql<string>`(select cast(sum(epoch) as text) from group_epochs)`;

/**
 * The user row's select list plus its claims and values, aggregated by the database: a user with all its
 * attributes (and, when asked, its groups) in one round trip. Values arrive grouped by item, items in order.
 * `knownEpoch`: the groups are not computed when the group epoch is still this one (the caller keeps them).
 */
function withAttributes(db: Executor, read: UserReadOptions, knownEpoch: string | undefined) {
  const groups: RawBuilder<UserGroupTuple[] | null> =
    read.groups === true
      ? sql`case when ${knownEpoch ?? null}::text = ${GROUP_EPOCH} then null else ${userGroupTuples(sql.ref('users.id'))} end`
      : sql<null>`null`;
  return db
    .selectFrom('users')
    .selectAll('users')
    .select([
      sql<ClaimPairs>`(select coalesce(json_agg(json_build_array(c.claim_uri, c.value)), '[]') from user_claims c where c.user_id = users.id)`.as(
        'claim_pairs',
      ),
      sql<ValueTuples>`(select coalesce(json_agg(json_build_array(v.attribute, v.ordinal, v.sub_attribute, v.value) order by v.attribute, v.ordinal), '[]') from user_values v where v.user_id = users.id)`.as(
        'value_tuples',
      ),
      groups.as('group_tuples'),
      (read.groups === true ? GROUP_EPOCH : sql<string>`''`).as('group_epoch'),
    ]);
}

export interface UserRowWithAttributes {
  row: UserRow;
  attributes: UserAttributes;
  /** Present when the read asked for them. */
  groups: readonly UserGroup[] | undefined;
}

type FoundRow = UserRow & {
  claim_pairs: ClaimPairs;
  value_tuples: ValueTuples;
  group_tuples: UserGroupTuple[] | null;
  group_epoch: string;
};

/** Undefined `groups` when they were asked for: the kept list the database relied on is gone (read again). */
function fromFound(found: FoundRow, read: UserReadOptions): UserRowWithAttributes {
  const { claim_pairs, value_tuples, group_tuples, group_epoch, ...row } = found;
  let groups: readonly UserGroup[] | undefined;
  if (group_tuples !== null) {
    groups = userGroupsFrom(group_tuples);
    read.groupsCache?.remember(row.id, group_epoch, groups);
  } else if (read.groups === true) {
    groups = read.groupsCache?.groupsAt(row.id, group_epoch);
  }
  return { row, attributes: attributesFrom(claim_pairs, value_tuples), groups };
}

/** The epoch of the user's kept groups list, if the read wants groups and the cache keeps one. */
function knownEpoch(id: string, read: UserReadOptions): string | undefined {
  return read.groups === true ? read.groupsCache?.epochOf(id) : undefined;
}

function complete(found: UserRowWithAttributes, read: UserReadOptions): boolean {
  return read.groups !== true || found.groups !== undefined;
}

/** One query: the user and everything stored about it. */
export async function findUserWithAttributes(
  db: Executor,
  id: string,
  read: UserReadOptions = {},
): Promise<UserRowWithAttributes | undefined> {
  const found = await withAttributes(db, read, knownEpoch(id, read)).where('users.id', '=', id).executeTakeFirst();
  if (found === undefined) return undefined;
  const result = fromFound(found, read);
  return complete(result, read) ? result : findUserWithAttributes(db, id, { groups: true });
}

/**
 * The same, taking the row lock that serialises writes to the user (see lockUserById). Usually one statement.
 * But a statement that waited for the lock re-reads the locked row while reading every other table in the
 * snapshot it started with, so its claims and values could miss the write that held the lock (concurrent
 * PATCHes would lose updates). Every such write moves the version: when the locked row's version differs from
 * the one the statement's snapshot saw, the attributes are read again, in a new snapshot, under the lock now held.
 */
export async function lockUserWithAttributes(
  db: Executor,
  id: string,
  read: UserReadOptions = {},
): Promise<UserRowWithAttributes | undefined> {
  const found = await withAttributes(db, read, knownEpoch(id, read))
    .select(sql<number>`(select u.version from users u where u.id = users.id)`.as('snapshot_version'))
    .where('users.id', '=', id)
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (found === undefined) return undefined;
  const { snapshot_version, ...rest } = found;
  const result = fromFound(rest, read);
  return snapshot_version === rest.version && complete(result, read) ? result : findUserWithAttributes(db, id, read);
}

/** The users of a page, in the order of `ids`, each with its attributes, in one query. */
export async function findUsersWithAttributes(
  db: Executor,
  ids: readonly string[],
  read: UserReadOptions = {},
): Promise<UserRowWithAttributes[]> {
  if (ids.length === 0) return [];
  const found = await withAttributes(db, read, undefined).where('users.id', 'in', ids).execute();
  const byId = new Map(found.map((row) => [row.id, fromFound(row, { groups: read.groups })]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Claims as pairs; values as tuples grouped by item, items in order (sub-attributes in insertion order). */
function attributesFrom(claims: ClaimPairs, values: ValueTuples): UserAttributes {
  const byAttribute = new Map<string, ValueItem[]>();
  const items = new Map<string, Record<string, ItemValue>>();
  for (const [attribute, ordinal, sub, value] of values) {
    const key = `${attribute}\u0000${ordinal}`;
    let item = items.get(key);
    if (item === undefined) {
      item = {};
      items.set(key, item);
      const list = byAttribute.get(attribute) ?? [];
      list.push(item);
      byAttribute.set(attribute, list);
    }
    item[sub] = BOOLEAN_SUB_ATTRIBUTES.has(sub) ? value === 'true' : value;
  }
  return { claims: new Map(claims), values: byAttribute };
}

/** The rows `values` is stored as, by (attribute, ordinal, sub-attribute). */
function storedValueRows(values: MultiValues): Map<string, ValueRow> {
  const rows = new Map<string, ValueRow>();
  for (const [attribute, items] of values) {
    items.forEach((item, ordinal) => {
      for (const [sub_attribute, value] of Object.entries(item)) {
        rows.set(`${attribute}\u0000${ordinal}\u0000${sub_attribute}`, {
          attribute,
          ordinal,
          sub_attribute,
          value: String(value),
        });
      }
    });
  }
  return rows;
}

/**
 * The data-modifying CTEs that turn `before` into `after`: only rows that differ are written, claims and
 * values alike. The four touch disjoint rows (what is removed is never what is written), so they can run in
 * one statement. Lists travel as arrays, so the statement's text is the same for every write (one prepared
 * statement, src/db/statement-names.ts).
 */
function attributeWrites(userId: string, before: UserAttributes, after: UserAttributes) {
  const claimWrites = [...after.claims].filter(([uri, value]) => before.claims.get(uri) !== value);
  const claimRemovals = [...before.claims.keys()].filter((uri) => !after.claims.has(uri));
  const beforeRows = storedValueRows(before.values);
  const afterRows = storedValueRows(after.values);
  const valueWrites = [...afterRows]
    .filter(([key, row]) => beforeRows.get(key)?.value !== row.value)
    .map(([, row]) => row);
  const valueRemovals = [...beforeRows].filter(([key]) => !afterRows.has(key)).map(([, row]) => row);
  const changed = claimWrites.length + claimRemovals.length + valueWrites.length + valueRemovals.length > 0;
  const ctes = sql`with claims_written as (
      insert into user_claims (user_id, claim_uri, value)
      select ${userId}, w.claim_uri, w.value
      from unnest(${claimWrites.map(([uri]) => uri)}::text[], ${claimWrites.map(([, value]) => value)}::text[]) as w(claim_uri, value)
      on conflict (user_id, claim_uri) do update set value = excluded.value
    ), claims_removed as (
      delete from user_claims where user_id = ${userId} and claim_uri = any(${claimRemovals}::text[])
    ), values_removed as (
      delete from user_values v
      using unnest(${valueRemovals.map((row) => row.attribute)}::text[], ${valueRemovals.map((row) => row.ordinal)}::int[],
        ${valueRemovals.map((row) => row.sub_attribute)}::text[]) as r(attribute, ordinal, sub_attribute)
      where v.user_id = ${userId} and v.attribute = r.attribute and v.ordinal = r.ordinal and v.sub_attribute = r.sub_attribute
    ), values_written as (
      insert into user_values (user_id, attribute, ordinal, sub_attribute, value)
      select ${userId}, w.attribute, w.ordinal, w.sub_attribute, w.value
      from unnest(${valueWrites.map((row) => row.attribute)}::text[], ${valueWrites.map((row) => row.ordinal)}::int[],
        ${valueWrites.map((row) => row.sub_attribute)}::text[], ${valueWrites.map((row) => row.value)}::text[])
        as w(attribute, ordinal, sub_attribute, value)
      on conflict (user_id, attribute, ordinal, sub_attribute) do update set value = excluded.value
    )`;
  return { ctes, changed };
}

/** Writes only what differs between `before` and `after`, in one statement (none when nothing differs). */
export async function writeUserAttributeChanges(
  db: Executor,
  userId: string,
  before: UserAttributes,
  after: UserAttributes,
): Promise<void> {
  const { ctes, changed } = attributeWrites(userId, before, after);
  if (changed) await sql`${ctes} select 1`.execute(db);
}

/** What an update may change in the users row besides the version. */
export interface UserRowChanges {
  user_name?: string;
  active?: boolean;
  is_admin?: boolean;
  password_hash?: string;
}

/**
 * The attribute changes and the users row (its fields, the next version: every change to a user moves its
 * version, which is the SCIM ETag) in one statement: the write of a PATCH, a PUT or a confirmed code.
 */
export async function saveUserChanges(
  db: Executor,
  userId: string,
  change: { before: UserAttributes; after: UserAttributes; row?: UserRowChanges; now: Date },
): Promise<UserRow> {
  const { ctes } = attributeWrites(userId, change.before, change.after);
  const row = change.row ?? {};
  const result = await sql<UserRow>`${ctes}
    update users set
      user_name = coalesce(${row.user_name ?? null}::text, user_name),
      active = coalesce(${row.active ?? null}::boolean, active),
      is_admin = coalesce(${row.is_admin ?? null}::boolean, is_admin),
      password_hash = coalesce(${row.password_hash ?? null}::text, password_hash),
      version = version + 1,
      updated_at = ${change.now}
    where id = ${userId}
    returning *`.execute(db);
  const saved = result.rows[0];
  if (saved === undefined) throw new Error(`user ${userId} vanished under its row lock`);
  return saved;
}

export function sameItems(left: readonly ValueItem[] | undefined, right: readonly ValueItem[] | undefined): boolean {
  const a = left ?? [];
  const b = right ?? [];
  return a.length === b.length && a.every((item, index) => sameItem(item, b[index]));
}

function sameItem(left: ValueItem, right: ValueItem | undefined): boolean {
  if (right === undefined) return false;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}

/** The server granting administration itself (first start, password reset) stores the role item too. */
export async function storeAdminRole(db: Executor, userId: string): Promise<void> {
  const values =
    (await findUserWithAttributes(db, userId))?.attributes.values ?? new Map<string, readonly ValueItem[]>();
  const roles = values.get('roles') ?? [];
  if (confersAdministration(roles)) return;
  const claims = new Map<string, string>();
  const after = new Map(values).set('roles', [...roles, ADMIN_ROLE_ITEM]);
  await writeUserAttributeChanges(db, userId, { claims, values }, { claims, values: after });
}
