import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startTestApp } from '../test/support/test-app.js';

const t = await startTestApp({ env: { LOG_LEVEL: 'silent' } });
const inj = (o: any) => t.app.inject({ headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' }, ...o });
const created = await inj({ method: 'POST', url: '/scim2/Users', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'joiner', name: { givenName: 'A' } } });
const id = created.json().id;
const now = new Date();
const groups = Array.from({ length: 1000 }, (_, index) => ({ id: randomUUID(), display_name: `group${index}`, created_at: now, updated_at: now }));
await t.db.insertInto('groups').values(groups).execute();
await t.db.insertInto('group_members').values(groups.map((g) => ({ group_id: g.id, member_user_id: id, member_group_id: null, added_at: now }))).execute();
await sql`analyze`.execute(t.db);
const plan = await sql<any>`explain (analyze, buffers) with recursive memberships(user_id, group_id, direct) as (
      select member_user_id, group_id, true from group_members
      where member_user_id in (cast(${id} as uuid))
      union
      select m.user_id, gm.group_id, false
      from memberships m join group_members gm on gm.member_group_id = m.group_id
    )
    select m.user_id, g.id, g.display_name, bool_or(m.direct) as direct
    from memberships m join groups g on g.id = m.group_id
    group by m.user_id, g.id, g.display_name
    order by lower(g.display_name), g.id`.execute(t.db);
console.log(plan.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
const n = Number(process.env.N ?? 300);
const s = performance.now();
for (let i = 0; i < n; i++) await inj({ method: 'GET', url: `/scim2/Users/${id}` });
console.log('GET', ((performance.now() - s) / n).toFixed(2));
await t.close();
