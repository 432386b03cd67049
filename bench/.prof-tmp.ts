import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startTestApp } from '../test/support/test-app.js';
import { groupsOfUsers } from '../src/groups/group-repository.js';

const t = await startTestApp({ env: { LOG_LEVEL: 'silent' } });
const inj = (o: any) => t.app.inject({ headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' }, ...o });
const created = await inj({ method: 'POST', url: '/scim2/Users', payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'joiner', name: { givenName: 'A' } } });
const id = created.json().id;
const now = new Date();
const groups = Array.from({ length: 1000 }, (_, index) => ({ id: randomUUID(), display_name: `group${index}`, created_at: now, updated_at: now }));
await t.db.insertInto('groups').values(groups).execute();
await t.db.insertInto('group_members').values(groups.map((g) => ({ group_id: g.id, member_user_id: id, member_group_id: null, added_at: now }))).execute();
async function time(label: string, n: number, f: () => Promise<unknown>) {
  for (let i = 0; i < 5; i++) await f();
  const s = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(label, ((performance.now() - s) / n).toFixed(2), 'ms');
}
const body = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'name.givenName', value: 'B' }] });
await time('PATCH givenName', 100, () => inj({ method: 'PATCH', url: `/scim2/Users/${id}?excludedAttributes=groups`, payload: body }));
await time('GET user 1000 groups', 100, () => inj({ method: 'GET', url: `/scim2/Users/${id}` }));
await time('GET user excl groups', 100, () => inj({ method: 'GET', url: `/scim2/Users/${id}?excludedAttributes=groups` }));
await time('groupsOfUsers query', 100, () => groupsOfUsers(t.db, [id]));
const r = await inj({ method: 'GET', url: `/scim2/Users/${id}` });
console.log('size', r.body.length);
await t.close();
