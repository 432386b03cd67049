import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup, memberIds } from '../support/group-helpers.js';
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

describe('PATCH /scim2/Groups/{id}: members in every form clients send', () => {
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

  const patch = (id: string, ...operations: unknown[]) =>
    scimRequest(t, { method: 'PATCH', url: `/scim2/Groups/${id}`, body: patchBody(...operations) });
  const users = async (count: number) =>
    Promise.all(Array.from({ length: count }, () => createUser(t, uniqueName('m'))));

  it('Entra ID: Add with a value list, Remove with a filter path, Remove with a value list; 204 and a new ETag', async () => {
    const [a, b, c] = await users(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('users');
    const group = await createGroup(t, uniqueName('Entra'));
    const added = await patch(group.id, {
      op: 'Add',
      path: 'members',
      value: [{ value: a.id }, { value: b.id }, { value: c.id }],
    });
    expect(added.statusCode, added.body).toBe(204);
    expect(added.body).toBe('');
    expect(added.headers.etag).toBe('W/"2"');
    expect(await memberIds(t, group.id)).toEqual([a.id, b.id, c.id].sort());

    const removed = await patch(group.id, { op: 'Remove', path: `members[value eq "${a.id}"]` });
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([b.id, c.id].sort());

    const listed = await patch(group.id, { op: 'Remove', path: 'members', value: [{ value: b.id }] });
    expect(listed.statusCode, listed.body).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([c.id]);
  });

  it('Entra ID: Replace displayName; Okta: pathless replace echoing id; op names in any case', async () => {
    const group = await createGroup(t, uniqueName('Rename'));
    const entra = uniqueName('Entra renamed');
    expect((await patch(group.id, { op: 'Replace', path: 'displayName', value: entra })).statusCode).toBe(204);
    const okta = uniqueName('Okta renamed');
    const response = await patch(group.id, { op: 'REPLACE', value: { id: group.id, displayName: okta } });
    expect(response.statusCode, response.body).toBe(204);
    const body = json(await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` }));
    expect(body.displayName).toBe(okta);
  });

  it('adding a member twice is harmless; removing a non-member is harmless', async () => {
    const [a] = await users(1);
    if (a === undefined) throw new Error('user');
    const group = await createGroup(t, uniqueName('Idempotent'), [a.id]);
    expect((await patch(group.id, { op: 'add', path: 'members', value: [{ value: a.id }] })).statusCode).toBe(204);
    expect((await patch(group.id, { op: 'add', path: 'members', value: { value: a.id } })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([a.id]);
    const stranger = randomUUID();
    expect((await patch(group.id, { op: 'remove', path: `members[value eq "${stranger}"]` })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([a.id]);
  });

  it('pathless add of members, replace of the member list, remove of every member', async () => {
    const [a, b, c] = await users(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('users');
    const group = await createGroup(t, uniqueName('Whole'), [a.id]);
    expect((await patch(group.id, { op: 'add', value: { members: [{ value: b.id }] } })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([a.id, b.id].sort());
    expect((await patch(group.id, { op: 'replace', path: 'members', value: [{ value: c.id }] })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([c.id]);
    expect((await patch(group.id, { op: 'remove', path: 'members' })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([]);
  });

  it('a filter on type or display, an or of ids, and the schema-qualified path', async () => {
    const [a, b] = await users(2);
    if (a === undefined || b === undefined) throw new Error('users');
    const child = await createGroup(t, uniqueName('Child'));
    const group = await createGroup(t, uniqueName('Filters'), [a.id, b.id, child.id]);
    expect((await patch(group.id, { op: 'remove', path: 'members[type eq "group"]' })).statusCode).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([a.id, b.id].sort());
    expect(
      (await patch(group.id, { op: 'remove', path: `members[display eq "${String(a.body.userName).toUpperCase()}"]` }))
        .statusCode,
    ).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([b.id]);
    await patch(group.id, {
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:core:2.0:Group:members',
      value: [{ value: a.id }],
    });
    expect(await memberIds(t, group.id)).toEqual([a.id, b.id].sort());
    expect(
      (await patch(group.id, { op: 'remove', path: `members[value eq "${a.id}" or value eq "${b.id}"]` })).statusCode,
    ).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([]);
  });

  it('replace with a filter swaps the matched member for the given one', async () => {
    const [a, b] = await users(2);
    if (a === undefined || b === undefined) throw new Error('users');
    const group = await createGroup(t, uniqueName('Swap'), [a.id]);
    const response = await patch(group.id, {
      op: 'replace',
      path: `members[value eq "${a.id}"]`,
      value: [{ value: b.id }],
    });
    expect(response.statusCode, response.body).toBe(204);
    expect(await memberIds(t, group.id)).toEqual([b.id]);
  });

  it('with attributes or excludedAttributes the answer is 200 with the group', async () => {
    const [a] = await users(1);
    if (a === undefined) throw new Error('user');
    const group = await createGroup(t, uniqueName('Answer'));
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${group.id}?excludedAttributes=meta`,
      body: patchBody({ op: 'add', path: 'members', value: [{ value: a.id }] }),
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = json(response);
    expect(body).not.toHaveProperty('meta');
    expect(body.members).toEqual([expect.objectContaining({ value: a.id, type: 'User' })]);
  });

  it('an unknown member is 400 invalidValue and the whole PATCH changes nothing', async () => {
    const [a] = await users(1);
    if (a === undefined) throw new Error('user');
    const group = await createGroup(t, uniqueName('Atomic'));
    const response = await patch(
      group.id,
      { op: 'replace', path: 'displayName', value: uniqueName('never') },
      { op: 'add', path: 'members', value: [{ value: a.id }] },
      { op: 'add', path: 'members', value: [{ value: randomUUID() }] },
    );
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidValue' });
    const after = json(await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` }));
    expect(after.displayName).toBe(group.body.displayName);
    expect(after).not.toHaveProperty('members');
    expect((after.meta as { version: string }).version).toBe('W/"1"');
  });

  it.each([
    [{ op: 'move', path: 'members' }, 'invalidSyntax'],
    [{ op: 'remove' }, 'noTarget'],
    [{ op: 'add', value: 'not an object' }, 'invalidValue'],
    [{ op: 'add', path: 'members' }, 'invalidValue'],
    [{ op: 'remove', path: 'displayName' }, 'invalidValue'],
    [{ op: 'replace', path: 'urn:example:other:not a name', value: 'x' }, 'invalidPath'],
    [{ op: 'replace', path: 'displayName.value', value: 'x' }, 'invalidPath'],
    [{ op: 'replace', path: 'id', value: 'x' }, 'mutability'],
    [{ op: 'replace', path: 'members[value eq "x"].display', value: 'x' }, 'mutability'],
    [{ op: 'remove', path: 'members[value eq "x"' }, 'invalidPath'],
    [{ op: 'remove', path: 'members[nope eq "x"]' }, 'invalidFilter'],
    [{ op: 'add', path: 'members[value eq "x"]', value: [] }, 'invalidPath'],
    [{ op: 'replace', path: 'displayName[value eq "x"]', value: 'x' }, 'invalidPath'],
  ])('malformed operation %j is 400 %s', async (operation, scimType) => {
    const group = await createGroup(t, uniqueName('Malformed'));
    const response = await patch(group.id, operation);
    expect(response.statusCode, response.body).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType });
  });

  it.each([
    { op: 'replace', path: 'nickName', value: 'x' },
    { op: 'add', path: 'urn:example:other:2.0:Group:colour', value: 'red' },
    { op: 'remove', path: 'members.nickName' },
    { op: 'add', value: { colour: 'red' } },
  ])(
    'an operation on an attribute the server does not define (%j) is ignored and logged; the others apply',
    async (ignoredOp) => {
      const [member] = await users(1);
      if (member === undefined) throw new Error('user');
      const group = await createGroup(t, uniqueName('Ignored'));
      const response = await patch(group.id, ignoredOp, { op: 'add', path: 'members', value: [{ value: member.id }] });
      expect(response.statusCode, response.body).toBe(204);
      expect(await memberIds(t, group.id)).toEqual([member.id]);
      const read = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` });
      expect(read.body).not.toMatch(/nickName|colour|red"/);
      const name = ignoredOp.path ?? 'colour';
      const line = t.logs.find((entry) => entry.includes('"ignored":[') && entry.includes(name));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 20, reqId: expect.any(String) });
    },
  );

  it('the PatchOp schema is required; an unknown group is 404', async () => {
    const group = await createGroup(t, uniqueName('Schema'));
    const wrong = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${group.id}`,
      body: { schemas: [SCIM.core], Operations: [{ op: 'remove', path: 'members' }] },
    });
    expect(wrong.statusCode).toBe(400);
    expect((await patch(randomUUID(), { op: 'remove', path: 'members' })).statusCode).toBe(404);
  });

  it('adding or removing one member of a big group never reads the member list; excludedAttributes=members never loads it', async () => {
    const group = await createGroup(t, uniqueName('Big'));
    const now = new Date();
    const seeded = Array.from({ length: 2000 }, (_, index) => ({
      id: randomUUID(),
      user_name: `big-${index}-${group.id}`,
    }));
    for (let start = 0; start < seeded.length; start += 500) {
      const batch = seeded.slice(start, start + 500);
      await t.db.insertInto('users').values(batch).execute();
      await t.db
        .insertInto('group_members')
        .values(
          batch.map((user) => ({ group_id: group.id, member_user_id: user.id, member_group_id: null, added_at: now })),
        )
        .execute();
    }
    const [newcomer] = await users(1);
    if (newcomer === undefined) throw new Error('user');

    recorder.clear();
    expect((await patch(group.id, { op: 'add', path: 'members', value: [{ value: newcomer.id }] })).statusCode).toBe(
      204,
    );
    expect((await patch(group.id, { op: 'remove', path: `members[value eq "${newcomer.id}"]` })).statusCode).toBe(204);
    expect(
      (await patch(group.id, { op: 'remove', path: 'members', value: [{ value: seeded[0]?.id }] })).statusCode,
    ).toBe(204);
    const lean = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}?excludedAttributes=members` });
    expect(lean.statusCode).toBe(200);
    expect(json(lean)).not.toHaveProperty('members');
    const leanList = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Groups?excludedAttributes=members&filter=${encodeURIComponent(`id eq "${group.id}"`)}`,
    });
    expect(json(leanList).totalResults).toBe(1);
    expect(recorder.nodes.length).toBeGreaterThan(0);
    expect(recorder.readsOf('group_members')).toEqual([]);

    // The recorder does see a read when one happens.
    recorder.clear();
    const full = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` });
    expect((json(full).members as unknown[]).length).toBe(1999);
    expect(recorder.readsOf('group_members').length).toBe(1);
  });
});
