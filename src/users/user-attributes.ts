import { sql } from 'kysely';
import type { UserRow } from '../db/database.js';
import type { Executor } from '../db/executor.js';
import { writeClaimChanges } from './claim-repository.js';
import type { ClaimMap } from './claims.js';
import { ADMIN_ROLE_ITEM, confersAdministration } from './user.js';
import { lockUserById } from './user-repository.js';

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

interface ValueRow {
  user_id: string;
  attribute: string;
  ordinal: number;
  sub_attribute: string;
  value: string;
}

/** (claim URI, value) pairs and (attribute, ordinal, sub-attribute, value) rows, as the database aggregates them. */
type ClaimPairs = [string, string][];
type ValueTuples = [string, number, string, string][];

/**
 * The user row's select list plus its claims and values, aggregated by the database: a user with all its
 * attributes in one round trip. Values arrive grouped by item, items in order.
 */
function withAttributes(db: Executor) {
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
    ]);
}

export interface UserRowWithAttributes {
  row: UserRow;
  attributes: UserAttributes;
}

/**
 * One query: the user and everything stored about it. With `lock`, the row lock that serialises writes to
 * the user is taken first, in a statement of its own: a statement that waited for the lock re-reads the
 * locked row but reads every other table in the snapshot it started with, so claims and values read in
 * the same statement could miss the write that held the lock (concurrent PATCHes would lose updates).
 */
export async function findUserWithAttributes(
  db: Executor,
  id: string,
  lock = false,
): Promise<UserRowWithAttributes | undefined> {
  if (lock && (await lockUserById(db, id)) === undefined) return undefined;
  const found = await withAttributes(db).where('users.id', '=', id).executeTakeFirst();
  if (found === undefined) return undefined;
  const { claim_pairs, value_tuples, ...row } = found;
  return { row, attributes: attributesFrom(claim_pairs, value_tuples) };
}

/** The users of a page, in the order of `ids`, each with its attributes, in one query. */
export async function findUsersWithAttributes(db: Executor, ids: readonly string[]): Promise<UserRowWithAttributes[]> {
  if (ids.length === 0) return [];
  const found = await withAttributes(db).where('users.id', 'in', ids).execute();
  const byId = new Map(
    found.map(({ claim_pairs, value_tuples, ...row }) => [
      row.id,
      { row, attributes: attributesFrom(claim_pairs, value_tuples) },
    ]),
  );
  return ids.flatMap((id) => byId.get(id) ?? []);
}

function attributesFrom(claims: ClaimPairs, values: ValueTuples): UserAttributes {
  const rows = values.map(([attribute, ordinal, sub_attribute, value]) => ({
    user_id: '',
    attribute,
    ordinal,
    sub_attribute,
    value,
  }));
  return { claims: new Map(claims), values: valuesFromRows(rows).get('') ?? new Map() };
}

function valuesFromRows(rows: readonly ValueRow[]): Map<string, MultiValues> {
  const result = new Map<string, Map<string, ValueItem[]>>();
  // Rows arrive grouped by item; sub-attribute order within an item is restored from insertion order below.
  const items = new Map<string, Record<string, ItemValue>>();
  for (const row of rows) {
    const byAttribute = result.get(row.user_id) ?? new Map<string, ValueItem[]>();
    result.set(row.user_id, byAttribute);
    const key = `${row.user_id}\u0000${row.attribute}\u0000${row.ordinal}`;
    let item = items.get(key);
    if (item === undefined) {
      item = {};
      items.set(key, item);
      const list = byAttribute.get(row.attribute) ?? [];
      list.push(item);
      byAttribute.set(row.attribute, list);
    }
    item[row.sub_attribute] = BOOLEAN_SUB_ATTRIBUTES.has(row.sub_attribute) ? row.value === 'true' : row.value;
  }
  return result;
}

/** Writes only what differs: claims one by one, multi-valued attributes as a whole when any item changed. */
export async function writeUserAttributeChanges(
  db: Executor,
  userId: string,
  before: UserAttributes,
  after: UserAttributes,
): Promise<void> {
  await writeClaimChanges(db, userId, before.claims, after.claims);
  const names = new Set([...before.values.keys(), ...after.values.keys()]);
  const changed = [...names].filter((name) => !sameItems(before.values.get(name), after.values.get(name)));
  if (changed.length === 0) return;
  await db.deleteFrom('user_values').where('user_id', '=', userId).where('attribute', 'in', changed).execute();
  const rows = changed.flatMap((attribute) =>
    (after.values.get(attribute) ?? []).flatMap((item, ordinal) =>
      Object.entries(item).map(([sub_attribute, value]) => ({
        user_id: userId,
        attribute,
        ordinal,
        sub_attribute,
        value: String(value),
      })),
    ),
  );
  if (rows.length > 0) await db.insertInto('user_values').values(rows).execute();
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
