import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup } from '../support/group-helpers.js';
import {
  createUser,
  json,
  patchBody,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

/**
 * A big `groups` list is kept between reads of a user (src/groups/user-groups-cache.ts) and reused only while
 * the group epoch, checked in the user's own statement, has not moved: no change to a group or a membership, by
 * any instance or by hand, is ever missed.
 */
const GROUPS = 40;

interface ShownGroup {
  value: string;
  display: string;
  type: string;
}

describe("a user's groups, kept between reads", () => {
  let t: TestApp;
  let other: TestApp;
  let user: { id: string };
  let groupIds: string[];

  beforeAll(async () => {
    t = await startTestApp();
    other = await startTestApp({ database: t.database });
    user = await createUser(t, uniqueName('many'));
    groupIds = [];
    for (let i = 0; i < GROUPS; i += 1) {
      groupIds.push((await createGroup(t, `${uniqueName('kept')}-${String(i).padStart(2, '0')}`, [user.id])).id);
    }
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  async function shown(app: TestApp = t): Promise<ShownGroup[]> {
    const response = await scimRequest(app, { method: 'GET', url: `/scim2/Users/${user.id}` });
    expect(response.statusCode, response.body).toBe(200);
    return (json(response).groups ?? []) as ShownGroup[];
  }

  it('is reused while no group changes: a membership written with the epoch triggers off goes unseen', async () => {
    expect(await shown()).toHaveLength(GROUPS);
    const hidden = await createGroup(t, uniqueName('hidden'));
    await sql`alter table group_members disable trigger group_members_epoch`.execute(t.db);
    try {
      await sql`insert into group_members (group_id, member_user_id, added_at) values (${hidden.id}, ${user.id}, now())`.execute(
        t.db,
      );
      expect(await shown()).toHaveLength(GROUPS);
    } finally {
      await sql`alter table group_members enable trigger group_members_epoch`.execute(t.db);
    }
    // Any change to any group moves the epoch: the list is computed again and the membership appears.
    await createGroup(t, uniqueName('unrelated'), [user.id]);
    const after = await shown();
    expect(after).toHaveLength(GROUPS + 2);
    expect(after.map((group) => group.value)).toContain(hidden.id);
  });

  it('a rename, a removal, a nesting and a deletion show on the next read', async () => {
    await shown();
    const [renamed, removed, nested, deleted] = groupIds as [string, string, string, string];
    const newName = uniqueName('renamed');
    const rename = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${renamed}`,
      body: patchBody({ op: 'replace', path: 'displayName', value: newName }),
    });
    expect(rename.statusCode, rename.body).toBeLessThan(300);
    expect((await shown()).find((group) => group.value === renamed)?.display).toBe(newName);

    const remove = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${removed}`,
      body: patchBody({ op: 'remove', path: `members[value eq "${user.id}"]` }),
    });
    expect(remove.statusCode, remove.body).toBeLessThan(300);
    expect((await shown()).map((group) => group.value)).not.toContain(removed);

    const parent = await createGroup(t, uniqueName('parent'), [nested]);
    expect((await shown()).find((group) => group.value === parent.id)).toMatchObject({ type: 'indirect' });

    expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Groups/${deleted}` })).statusCode).toBe(204);
    expect((await shown()).map((group) => group.value)).not.toContain(deleted);
  });

  it('another instance on the same database sees a change made by this one at once', async () => {
    expect((await shown(other)).length).toBeGreaterThan(30);
    const target = groupIds[10] as string;
    const newName = uniqueName('elsewhere');
    const rename = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${target}`,
      body: patchBody({ op: 'replace', path: 'displayName', value: newName }),
    });
    expect(rename.statusCode, rename.body).toBeLessThan(300);
    expect((await shown(other)).find((group) => group.value === target)?.display).toBe(newName);
  });

  it('a change by hand in SQL shows too (the triggers count every statement)', async () => {
    await shown();
    const target = groupIds[11] as string;
    await sql`update groups set display_name = 'Changed by hand' where id = ${target}`.execute(t.db);
    expect((await shown()).find((group) => group.value === target)?.display).toBe('Changed by hand');
  });
});
