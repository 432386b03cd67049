import type { Executor } from '../db/executor.js';
import { loadClaims, loadClaimsForUsers, writeClaimChanges } from './claim-repository.js';
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

interface ValueRow {
  user_id: string;
  attribute: string;
  ordinal: number;
  sub_attribute: string;
  value: string;
}

export async function loadUserAttributes(db: Executor, userId: string): Promise<UserAttributes> {
  const [claims, values] = await Promise.all([loadClaims(db, userId), loadValuesForUsers(db, [userId])]);
  return { claims, values: values.get(userId) ?? new Map() };
}

export async function loadUserAttributesForUsers(
  db: Executor,
  userIds: readonly string[],
): Promise<Map<string, UserAttributes>> {
  const [claims, values] = await Promise.all([loadClaimsForUsers(db, userIds), loadValuesForUsers(db, userIds)]);
  return new Map(
    userIds.map((id) => [id, { claims: claims.get(id) ?? new Map(), values: values.get(id) ?? new Map() }]),
  );
}

async function loadValuesForUsers(db: Executor, userIds: readonly string[]): Promise<Map<string, MultiValues>> {
  const result = new Map<string, Map<string, ValueItem[]>>();
  if (userIds.length === 0) return result;
  const rows: ValueRow[] = await db
    .selectFrom('user_values')
    .selectAll()
    .where('user_id', 'in', userIds)
    .orderBy('user_id')
    .orderBy('attribute')
    .orderBy('ordinal')
    .execute();
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
  const { values } = await loadUserAttributes(db, userId);
  const roles = values.get('roles') ?? [];
  if (confersAdministration(roles)) return;
  const claims = new Map<string, string>();
  const after = new Map(values).set('roles', [...roles, ADMIN_ROLE_ITEM]);
  await writeUserAttributeChanges(db, userId, { claims, values }, { claims, values: after });
}
