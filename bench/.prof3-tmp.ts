import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { startTestApp } from '../test/support/test-app.js';

const t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
const inj = (o: any) => t.app.inject({ headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' }, ...o });
const ids: string[] = [];
for (let i = 0; i < 50; i++) {
  const c = await inj({ method: 'POST', url: '/scim2/Users', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `u${i}`, name: { givenName: 'A' } } });
  ids.push(c.json().id);
}
const id = ids[0] as string;
const now = new Date();
const groups = Array.from({ length: 1000 }, (_, index) => ({ id: randomUUID(), display_name: `group${index}`, created_at: now, updated_at: now }));
await t.db.insertInto('groups').values(groups).execute();
await t.db.insertInto('group_members').values(groups.map((g) => ({ group_id: g.id, member_user_id: id, member_group_id: null, added_at: now }))).execute();
if (process.env.BIG) {
  const gid = randomUUID();
  await t.db.insertInto('groups').values({ id: gid, display_name: 'big', created_at: now, updated_at: now }).execute();
  for (let start = 0; start < 50000; start += 1000) {
    const batch = Array.from({ length: 1000 }, (_, o) => ({ id: randomUUID(), index: start + o }));
    await t.db.insertInto('users').values(batch.map((u) => ({ id: u.id, user_name: `member${u.index}` }))).execute();
    await t.db.insertInto('group_members').values(batch.map((u) => ({ group_id: gid, member_user_id: u.id, member_group_id: null, added_at: now }))).execute();
  }
}
if (process.env.ANALYZE) await sql`analyze`.execute(t.db);
const plan = await sql<any>`explain analyze with recursive memberships(user_id, group_id, direct) as (
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
const url = await t.app.listen({ port: 0, host: '127.0.0.1' });
const D = Number(process.env.D ?? 4);
async function run(name: string, opts: any) {
  const r = await autocannon({ connections: 20, duration: D, ...opts });
  console.log(name, r.requests.average, 'req/s p99', r.latency.p99, 'non2xx', r.non2xx);
  return r.requests.average;
}
const only = process.env.ONLY;
let p = 0, g = 0;
if (!only || only === 'patch') p = await run('PATCH', { url: `${url}/scim2/Users/${ids[1]}`, method: 'PATCH', headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
  requests: [{ method: 'PATCH', setupRequest: (req: any) => ({ ...req, path: `/scim2/Users/${ids[1 + Math.floor(Math.random() * 49)]}`, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.givenName', value: 'B' + Math.random() }] }) }) }] });
if (!only || only === 'get') g = await run('GET1000', { url: `${url}/scim2/Users/${id}`, headers: { authorization: t.adminAuth } });
if (p && g) console.log('ratio', (g / p).toFixed(2));
await t.close();
