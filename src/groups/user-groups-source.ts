import { type Expression, type SqlBool, sql } from 'kysely';
import { type ItemFilter, itemFilterToSql, textValueTestSql, type ValueTest } from '../query/query-filter.js';
import { isUuid } from '../shared/values.js';

/**
 * The SQL behind a users filter on the read-only `groups` attribute: some group the user is in, directly or
 * through nested groups, satisfies the item filter. `groups.value eq "<id>"` (what clients send) runs as
 * "the users among the members of that group and of the groups nested in it", through the membership indexes;
 * any other item filter walks each user's memberships.
 */
export function userGroupsSome(filter: ItemFilter): Expression<SqlBool> {
  const groupId = namedGroup(filter);
  if (groupId !== undefined) {
    return sql<SqlBool>`${sql.ref('users.id')} in (
      with recursive nested(id) as (
        select cast(${groupId} as uuid)
        union
        select gm.member_group_id from group_members gm join nested on gm.group_id = nested.id
        where gm.member_group_id is not null
      )
      select gm.member_user_id from group_members gm join nested on gm.group_id = nested.id
      where gm.member_user_id is not null)`;
  }
  return sql<SqlBool>`exists (
    with recursive memberships(group_id, direct) as (
      select group_id, true from group_members where member_user_id = ${sql.ref('users.id')}
      union
      select gm.group_id, false from memberships m join group_members gm on gm.member_group_id = m.group_id
    )
    select 1 from memberships m join groups g on g.id = m.group_id
    where ${itemFilterToSql(filter, groupSubTest)})`;
}

function groupSubTest(sub: string, test: ValueTest): Expression<SqlBool> {
  switch (sub) {
    case 'value':
      return textValueTestSql(sql<string>`cast(g.id as text)`, test);
    case 'display':
      return textValueTestSql(sql<string>`g.display_name`, test);
    default:
      return textValueTestSql(sql<string>`(case when m.direct then 'direct' else 'indirect' end)`, test);
  }
}

function namedGroup(filter: ItemFilter): string | undefined {
  if (filter.kind !== 'test' || filter.sub !== 'value' || filter.test.kind !== 'text' || filter.test.op !== 'eq') {
    return undefined;
  }
  return isUuid(filter.test.value) ? filter.test.value.toLowerCase() : undefined;
}
