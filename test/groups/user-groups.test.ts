import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup, groupsOfUser } from '../support/group-helpers.js';
import { QueryRecorder, recorded } from '../support/query-recorder.js';
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
import { createTestDatabase } from '../support/test-database.js';

describe("a user's read-only groups attribute", () => {
  let t: TestApp;
  const recorder = new QueryRecorder();
  let closeDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    closeDatabase = database.close;
    t = await startTestApp({ database: recorded(database, recorder) });
  });
  afterAll(async () => {
    await t.close();
    await closeDatabase();
  });

  it('lists direct and nested memberships with value, $ref, display and type', async () => {
    const user = await createUser(t, uniqueName('nested'));
    const team = await createGroup(t, uniqueName('Team'), [user.id]);
    const department = await createGroup(t, uniqueName('Department'), [team.id]);
    const company = await createGroup(t, uniqueName('Company'), [department.id, user.id]);
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` });
    expect(response.statusCode).toBe(200);
    const groups = json(response).groups as Record<string, unknown>[];
    expect(groups).toHaveLength(3);
    expect(groups).toEqual(
      expect.arrayContaining([
        {
          value: team.id,
          $ref: `http://localhost:80/scim2/Groups/${team.id}`,
          display: team.body.displayName,
          type: 'direct',
        },
        {
          value: department.id,
          $ref: `http://localhost:80/scim2/Groups/${department.id}`,
          display: department.body.displayName,
          type: 'indirect',
        },
        // Direct wins over nested when both hold.
        expect.objectContaining({ value: company.id, type: 'direct' }),
      ]),
    );
  });

  it('follows membership changes and group deletion; a user in no group has no groups attribute', async () => {
    const user = await createUser(t, uniqueName('mover'));
    expect(json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}` }))).not.toHaveProperty('groups');
    const group = await createGroup(t, uniqueName('Moving'));
    await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${group.id}`,
      body: patchBody({ op: 'add', path: 'members', value: [{ value: user.id }] }),
    });
    expect(await groupsOfUser(t, user.id)).toEqual([{ value: group.id, type: 'direct' }]);
    await scimRequest(t, { method: 'DELETE', url: `/scim2/Groups/${group.id}` });
    expect(await groupsOfUser(t, user.id)).toEqual([]);
  });

  it('appears on /Me and in lists; attributes=groups selects it, excludedAttributes=groups never loads it', async () => {
    const user = await createUser(t, uniqueName('lister'));
    const group = await createGroup(t, uniqueName('Listed'), [user.id]);
    const me = json(await scimRequest(t, { method: 'GET', url: '/scim2/Me', auth: user.auth }));
    expect(me.groups).toEqual([expect.objectContaining({ value: group.id })]);

    const filter = encodeURIComponent(`userName eq "${String(user.body.userName)}"`);
    const list = json(await scimRequest(t, { method: 'GET', url: `/scim2/Users?filter=${filter}` }));
    expect((list.Resources as Record<string, unknown>[])[0]?.groups).toEqual([
      expect.objectContaining({ value: group.id }),
    ]);

    const only = json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}?attributes=groups` }));
    expect(Object.keys(only).sort()).toEqual(['groups', 'id', 'schemas', 'userName']);

    recorder.clear();
    const lean = json(
      await scimRequest(t, { method: 'GET', url: `/scim2/Users/${user.id}?excludedAttributes=groups` }),
    );
    expect(lean).not.toHaveProperty('groups');
    const leanList = json(
      await scimRequest(t, { method: 'GET', url: `/scim2/Users?filter=${filter}&attributes=userName` }),
    );
    expect((leanList.Resources as Record<string, unknown>[])[0]).not.toHaveProperty('groups');
    expect(recorder.readsOf('group_members')).toEqual([]);
  });

  it('filter=groups.value eq "<id>" finds direct and nested members; other groups filters work too', async () => {
    const direct = await createUser(t, uniqueName('direct'));
    const nested = await createUser(t, uniqueName('nestedmember'));
    const outsider = await createUser(t, uniqueName('outsider'));
    const inner = await createGroup(t, uniqueName('Inner'), [nested.id]);
    const outer = await createGroup(t, uniqueName('Outer'), [direct.id, inner.id]);
    const find = async (filter: string) => {
      const response = await scimRequest(t, {
        method: 'GET',
        url: `/scim2/Users?filter=${encodeURIComponent(filter)}&attributes=userName`,
      });
      expect(response.statusCode, response.body).toBe(200);
      return ((json(response).Resources ?? []) as { id: string }[]).map((user) => user.id).sort();
    };
    expect(await find(`groups.value eq "${outer.id}"`)).toEqual([direct.id, nested.id].sort());
    expect(await find(`groups.value eq "${outer.id.toUpperCase()}"`)).toEqual([direct.id, nested.id].sort());
    expect(await find(`groups eq "${inner.id}"`)).toEqual([nested.id]);
    expect(await find(`groups[value eq "${outer.id}" and type eq "indirect"]`)).toEqual([nested.id]);
    expect(await find(`groups.display eq "${String(inner.body.displayName).toUpperCase()}"`)).toEqual([nested.id]);
    const ids = [direct.id, nested.id, outsider.id].map((id) => `id eq "${id}"`).join(' or ');
    expect(await find(`(${ids}) and not (groups pr)`)).toEqual([outsider.id]);
    expect(await find(`groups.value eq "00000000-0000-4000-8000-000000000000"`)).toEqual([]);
    const bad = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent('groups.nope eq "x"')}`,
    });
    expect(bad.statusCode).toBe(400);
    expect(json(bad).scimType).toBe('invalidFilter');
  });

  it('is read-only: a PUT naming groups changes no membership', async () => {
    const user = await createUser(t, uniqueName('readonly'));
    const group = await createGroup(t, uniqueName('Untouched'));
    const put = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Users/${user.id}`,
      body: { schemas: [SCIM.core], userName: user.body.userName, groups: [{ value: group.id }] },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(json(put)).not.toHaveProperty('groups');
    expect(await groupsOfUser(t, user.id)).toEqual([]);
  });
});
