import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup, GROUP_SCHEMA, memberIds } from '../support/group-helpers.js';
import {
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

/**
 * A member deleted while it is being added to a group: the write answers 400 invalidValue (unknown member) and
 * changes nothing, never 500 (a foreign-key violation). Concurrent requests run on both databases; the
 * deterministic interleaving (the deletion in flight while the membership is written) needs a second connection,
 * which only PostgreSQL has (PGlite runs one transaction at a time, so the race cannot happen there).
 */
describe('members deleted while they are added', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const addMember = (groupId: string, memberId: string) =>
    scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${groupId}`,
      body: patchBody({ op: 'Add', path: 'members', value: [{ value: memberId }] }),
    });

  it('concurrent DELETE of a user and PATCH adding it: either order is consistent, never 5xx', async () => {
    for (let round = 0; round < 10; round += 1) {
      const group = await createGroup(t, uniqueName('race'));
      const user = await createUser(t, uniqueName('racer'));
      const [added, deleted] = await Promise.all([
        addMember(group.id, user.id),
        scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${user.id}` }),
      ]);
      expect(deleted.statusCode, deleted.body).toBe(204);
      expect([204, 400], added.body).toContain(added.statusCode);
      if (added.statusCode === 400) expect(json(added).scimType).toBe('invalidValue');
      // Whatever the order, the deleted user is in no group afterwards.
      expect(await memberIds(t, group.id)).toEqual([]);
    }
  });

  it('concurrent DELETE of a group and POST of a group nesting it: never 5xx, no dangling member', async () => {
    for (let round = 0; round < 10; round += 1) {
      const inner = await createGroup(t, uniqueName('inner'));
      const [created, deleted] = await Promise.all([
        scimRequest(t, {
          method: 'POST',
          url: '/scim2/Groups',
          body: { schemas: [GROUP_SCHEMA], displayName: uniqueName('outer'), members: [{ value: inner.id }] },
        }),
        scimRequest(t, { method: 'DELETE', url: `/scim2/Groups/${inner.id}` }),
      ]);
      expect(deleted.statusCode, deleted.body).toBe(204);
      expect([201, 400], created.body).toContain(created.statusCode);
      if (created.statusCode === 201) expect(await memberIds(t, String(json(created).id))).toEqual([]);
      else expect(json(created).scimType).toBe('invalidValue');
    }
  });

  it('two groups nested into each other at once: one succeeds, the other is a cycle (400), never a deadlock', async () => {
    for (let round = 0; round < 5; round += 1) {
      const a = await createGroup(t, uniqueName('a'));
      const b = await createGroup(t, uniqueName('b'));
      const responses = await Promise.all([addMember(a.id, b.id), addMember(b.id, a.id)]);
      expect(responses.map((response) => response.statusCode).sort(), responses[0]?.body).toEqual([204, 400]);
    }
  });

  const url = process.env.TEST_DATABASE_URL;

  describe.skipIf(url === undefined || url === '')('with the deletion in flight (PostgreSQL)', () => {
    /**
     * Another connection deletes `table` row `id` and keeps its transaction open while `write` runs, then
     * commits: the write has read the member as existing before the deletion commits.
     */
    async function whileDeleting(table: 'users' | 'groups', id: string, write: () => ReturnType<typeof scimRequest>) {
      const other = new pg.Client({ connectionString: t.database.url });
      await other.connect();
      try {
        await other.query('begin');
        await other.query(`delete from ${table} where id = $1`, [id]);
        const pending = write();
        // Long enough for the write to get past its member check and wait on the deleted row.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await other.query('commit');
        return await pending;
      } finally {
        await other.end();
      }
    }

    it('PATCH adding a user being deleted: 400 invalidValue, the group unchanged', async () => {
      const kept = await createUser(t, uniqueName('kept'));
      const doomed = await createUser(t, uniqueName('doomed'));
      const group = await createGroup(t, uniqueName('g'), [kept.id]);
      const response = await whileDeleting('users', doomed.id, () => addMember(group.id, doomed.id));
      expect(response.statusCode, response.body).toBe(400);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidValue' });
      expect(String(json(response).detail)).toContain(doomed.id);
      expect(await memberIds(t, group.id)).toEqual([kept.id]);
      const stored = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` });
      expect(stored.headers.etag).toBe(group.etag);
    });

    it('PUT replacing members with a user being deleted: 400, the old members kept', async () => {
      const kept = await createUser(t, uniqueName('kept'));
      const doomed = await createUser(t, uniqueName('doomed'));
      const displayName = uniqueName('g');
      const group = await createGroup(t, displayName, [kept.id]);
      const response = await whileDeleting('users', doomed.id, () =>
        scimRequest(t, {
          method: 'PUT',
          url: `/scim2/Groups/${group.id}`,
          body: { schemas: [GROUP_SCHEMA], displayName, members: [{ value: doomed.id }] },
        }),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
      expect(await memberIds(t, group.id)).toEqual([kept.id]);
    });

    it('POST of a group whose member user is being deleted: 400, no group created', async () => {
      const doomed = await createUser(t, uniqueName('doomed'));
      const displayName = uniqueName('new');
      const response = await whileDeleting('users', doomed.id, () =>
        scimRequest(t, {
          method: 'POST',
          url: '/scim2/Groups',
          body: { schemas: [GROUP_SCHEMA], displayName, members: [{ value: doomed.id }] },
        }),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
      const listed = await scimRequest(t, {
        method: 'GET',
        url: `/scim2/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`,
      });
      expect(json(listed).totalResults).toBe(0);
    });

    it('PATCH nesting a group being deleted: 400 invalidValue, the group unchanged', async () => {
      const inner = await createGroup(t, uniqueName('inner'));
      const outer = await createGroup(t, uniqueName('outer'));
      const response = await whileDeleting('groups', inner.id, () => addMember(outer.id, inner.id));
      expect(response.statusCode, response.body).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
      expect(String(json(response).detail)).toContain(inner.id);
      expect(await memberIds(t, outer.id)).toEqual([]);
    });

    it('PATCH adding a member to a group being deleted: 404, nothing left behind', async () => {
      const user = await createUser(t, uniqueName('member'));
      const group = await createGroup(t, uniqueName('doomed-group'));
      const response = await whileDeleting('groups', group.id, () => addMember(group.id, user.id));
      expect(response.statusCode, response.body).toBe(404);
      const rows = await t.db.selectFrom('group_members').select('group_id').where('group_id', '=', group.id).execute();
      expect(rows).toEqual([]);
    });
  });
});
