import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGroup, GROUP_SCHEMA, memberIds } from '../support/group-helpers.js';
import { createUser, json, SCIM, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

describe('SCIM /Groups: create, read, replace, delete', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('POST creates a group with user and group members: 201, Location, ETag, RFC 7643 members', async () => {
    const alice = await createUser(t, uniqueName('alice'));
    const inner = await createGroup(t, uniqueName('inner'));
    const name = uniqueName('Engineering');
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups',
      body: {
        schemas: [GROUP_SCHEMA],
        displayName: name,
        externalId: 'ext-1',
        members: [{ value: alice.id, type: 'User', display: 'ignored' }, { value: inner.id }],
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const body = json(response);
    expect(response.headers.location).toBe(`http://localhost:80/scim2/Groups/${body.id}`);
    expect(response.headers.etag).toBe('W/"1"');
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(body).toMatchObject({
      schemas: [GROUP_SCHEMA],
      displayName: name,
      externalId: 'ext-1',
      meta: { resourceType: 'Group', location: response.headers.location, version: 'W/"1"' },
    });
    expect(body.members).toEqual(
      expect.arrayContaining([
        {
          value: alice.id,
          $ref: `http://localhost:80/scim2/Users/${alice.id}`,
          display: alice.body.userName,
          type: 'User',
        },
        {
          value: inner.id,
          $ref: `http://localhost:80/scim2/Groups/${inner.id}`,
          display: inner.body.displayName,
          type: 'Group',
        },
      ]),
    );
    const read = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${body.id}` });
    expect(read.statusCode).toBe(200);
    expect(json(read)).toEqual(body);
  });

  it('displayName is required, and unique case-insensitively (409 uniqueness), on POST, PUT and PATCH', async () => {
    const missing = await scimRequest(t, { method: 'POST', url: '/scim2/Groups', body: { schemas: [GROUP_SCHEMA] } });
    expect(missing.statusCode).toBe(400);
    expect(json(missing)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidValue' });
    const blank = await scimRequest(t, { method: 'POST', url: '/scim2/Groups', body: { displayName: '  ' } });
    expect(blank.statusCode).toBe(400);

    const name = uniqueName('Sales');
    await createGroup(t, name);
    const duplicate = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups',
      body: { schemas: [GROUP_SCHEMA], displayName: name.toUpperCase() },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(json(duplicate)).toMatchObject({ schemas: [SCIM.error], status: '409', scimType: 'uniqueness' });

    const other = await createGroup(t, uniqueName('Other'));
    const put = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${other.id}`,
      body: { schemas: [GROUP_SCHEMA], displayName: name.toLowerCase() },
    });
    expect(put.statusCode).toBe(409);
    const patch = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${other.id}`,
      body: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'displayName', value: name }] },
    });
    expect(patch.statusCode).toBe(409);
    expect(json(await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${other.id}` })).displayName).toBe(
      other.body.displayName,
    );
    // Renaming a group to another spelling of its own name is no conflict.
    const own = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${other.id}`,
      body: { displayName: String(other.body.displayName).toUpperCase() },
    });
    expect(own.statusCode, own.body).toBe(200);
  });

  it('a member that does not exist is 400 invalidValue and creates nothing', async () => {
    const name = uniqueName('Ghosts');
    for (const value of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await scimRequest(t, {
        method: 'POST',
        url: '/scim2/Groups',
        body: { schemas: [GROUP_SCHEMA], displayName: name, members: [{ value }] },
      });
      expect(response.statusCode, value).toBe(400);
      expect(json(response)).toMatchObject({ scimType: 'invalidValue' });
      expect(String(json(response).detail)).toContain(value);
    }
    const list = json(
      await scimRequest(t, {
        method: 'GET',
        url: `/scim2/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`,
      }),
    );
    expect(list.totalResults).toBe(0);
  });

  it('a member with the wrong type, or without a value, is 400 invalidValue', async () => {
    const user = await createUser(t, uniqueName('typed'));
    for (const member of [
      { value: user.id, type: 'Group' },
      { type: 'User' },
      'just-a-string',
      { value: user.id, type: 'Robot' },
    ]) {
      const response = await scimRequest(t, {
        method: 'POST',
        url: '/scim2/Groups',
        body: { displayName: uniqueName('typed'), members: [member] },
      });
      expect(response.statusCode, JSON.stringify(member)).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
    }
  });

  it('schemas, when given, must name the Group schema; a malformed body is 400', async () => {
    const wrong = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups',
      body: { schemas: [SCIM.core], displayName: uniqueName('wrong') },
    });
    expect(wrong.statusCode).toBe(400);
    expect(json(wrong).scimType).toBe('invalidSyntax');
    const broken = await scimRequest(t, { method: 'POST', url: '/scim2/Groups', body: '{"displayName": ' });
    expect(broken.statusCode).toBe(400);
    expect(json(broken)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidSyntax' });
    const array = await scimRequest(t, { method: 'POST', url: '/scim2/Groups', body: '[]' });
    expect(array.statusCode).toBe(400);
  });

  it('attributes the Group schema does not define are ignored, never stored; id and meta sent back are ignored', async () => {
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups',
      body: {
        schemas: [GROUP_SCHEMA],
        id: 'client-chosen',
        displayName: uniqueName('lenient'),
        meta: { resourceType: 'Group' },
        'urn:ietf:params:scim:schemas:core:2.0:Group:externalId': 'prefixed',
        colour: 'blue',
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const body = json(response);
    expect(body.id).not.toBe('client-chosen');
    expect(body.externalId).toBe('prefixed');
    expect(body).not.toHaveProperty('colour');
    expect(t.logs.some((line) => line.includes('"ignored":["colour"]'))).toBe(true);
  });

  it('attributes nested under the core Group schema URN are taken as the core attributes they name', async () => {
    const name = uniqueName('nested');
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups',
      body: { schemas: [GROUP_SCHEMA], [GROUP_SCHEMA]: { displayName: name, externalId: 'nested-ext', colour: 'red' } },
    });
    expect(response.statusCode, response.body).toBe(201);
    const body = json(response);
    expect(body).toMatchObject({ displayName: name, externalId: 'nested-ext' });
    expect(body).not.toHaveProperty(GROUP_SCHEMA);
    const read = json(await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${body.id}` }));
    expect(read).toMatchObject({ displayName: name, externalId: 'nested-ext' });
    expect(JSON.stringify(read)).not.toContain('red');
    expect(t.logs.some((line) => line.includes('"ignored":["colour"]'))).toBe(true);
  });

  it('GET of an unknown or malformed id is 404 in SCIM form', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const response = await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${id}` });
      expect(response.statusCode).toBe(404);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '404' });
    }
  });

  it('PUT replaces displayName, externalId and the whole member list; the ETag moves', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => createUser(t, uniqueName('put'))));
    if (a === undefined || b === undefined || c === undefined) throw new Error('users');
    const group = await createGroup(t, uniqueName('Put'), [a.id, b.id], { externalId: 'before' });
    const renamed = uniqueName('Renamed');
    const response = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${group.id}`,
      body: { schemas: [GROUP_SCHEMA], displayName: renamed, members: [{ value: b.id }, { value: c.id }] },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers.etag).toBe('W/"2"');
    const body = json(response);
    expect(body.displayName).toBe(renamed);
    expect(body).not.toHaveProperty('externalId');
    expect(await memberIds(t, group.id)).toEqual([b.id, c.id].sort());

    const emptied = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${group.id}`,
      body: { displayName: renamed },
    });
    expect(emptied.statusCode).toBe(200);
    expect(json(emptied)).not.toHaveProperty('members');
    expect(await memberIds(t, group.id)).toEqual([]);
  });

  it('If-Match: a stale version is 412 and changes nothing; the current one (or *) passes', async () => {
    const group = await createGroup(t, uniqueName('Etag'));
    const stale = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${group.id}`,
      headers: { 'if-match': 'W/"7"' },
      body: { displayName: uniqueName('never') },
    });
    expect(stale.statusCode).toBe(412);
    expect(json(stale)).toMatchObject({ schemas: [SCIM.error], status: '412' });
    const stalePatch = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${group.id}`,
      headers: { 'if-match': 'W/"7"' },
      body: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'externalId', value: 'x' }] },
    });
    expect(stalePatch.statusCode).toBe(412);
    const current = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Groups/${group.id}`,
      headers: { 'if-match': group.etag },
      body: { schemas: [SCIM.patchOp], Operations: [{ op: 'replace', path: 'externalId', value: 'x' }] },
    });
    expect(current.statusCode).toBe(204);
    expect(current.headers.etag).toBe('W/"2"');
    const star = await scimRequest(t, {
      method: 'PUT',
      url: `/scim2/Groups/${group.id}`,
      headers: { 'if-match': '*' },
      body: { displayName: group.body.displayName },
    });
    expect(star.statusCode).toBe(200);
    expect(star.headers.etag).toBe('W/"3"');
  });

  it('DELETE removes the group and its memberships, in both directions; a second DELETE is 404', async () => {
    const user = await createUser(t, uniqueName('member'));
    const child = await createGroup(t, uniqueName('Child'), [user.id]);
    const parent = await createGroup(t, uniqueName('Parent'), [child.id, user.id]);
    const deleted = await scimRequest(t, { method: 'DELETE', url: `/scim2/Groups/${child.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${child.id}` })).statusCode).toBe(404);
    expect(await memberIds(t, parent.id)).toEqual([user.id]);
    const rows = await t.db
      .selectFrom('group_members')
      .selectAll()
      .where((eb) => eb.or([eb('group_id', '=', child.id), eb('member_group_id', '=', child.id)]))
      .execute();
    expect(rows).toEqual([]);
    expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Groups/${child.id}` })).statusCode).toBe(404);
  });

  it('deleting a user removes it from every group', async () => {
    const user = await createUser(t, uniqueName('leaver'));
    const stayer = await createUser(t, uniqueName('stayer'));
    const one = await createGroup(t, uniqueName('One'), [user.id, stayer.id]);
    const two = await createGroup(t, uniqueName('Two'), [user.id]);
    expect((await scimRequest(t, { method: 'DELETE', url: `/scim2/Users/${user.id}` })).statusCode).toBe(204);
    expect(await memberIds(t, one.id)).toEqual([stayer.id]);
    expect(await memberIds(t, two.id)).toEqual([]);
  });

  it('a group cannot contain itself, directly or through nested groups (400 invalidValue)', async () => {
    const top = await createGroup(t, uniqueName('Top'));
    const middle = await createGroup(t, uniqueName('Middle'), [top.id]);
    const bottom = await createGroup(t, uniqueName('Bottom'), [middle.id]);
    for (const member of [top.id, bottom.id]) {
      const response = await scimRequest(t, {
        method: 'PATCH',
        url: `/scim2/Groups/${top.id}`,
        body: { schemas: [SCIM.patchOp], Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] },
      });
      expect(response.statusCode, member).toBe(400);
      expect(json(response).scimType).toBe('invalidValue');
    }
    expect(await memberIds(t, top.id)).toEqual([]);
  });

  it('answers 405 with Allow for methods a Groups URL does not support', async () => {
    const group = await createGroup(t, uniqueName('Methods'));
    const cases = [
      { method: 'PUT', url: '/scim2/Groups', allow: 'GET, POST' },
      { method: 'DELETE', url: '/scim2/Groups', allow: 'GET, POST' },
      { method: 'POST', url: `/scim2/Groups/${group.id}`, allow: 'GET, PUT, PATCH, DELETE' },
      { method: 'GET', url: '/scim2/Groups/.search', allow: 'POST' },
    ] as const;
    for (const { method, url, allow } of cases) {
      const response = await scimRequest(t, {
        method,
        url,
        ...(method === 'DELETE' || method === 'GET' ? {} : { body: {} }),
      });
      expect(response.statusCode, `${method} ${url}`).toBe(405);
      expect(response.headers.allow).toBe(allow);
    }
  });

  it('only administrators may use /Groups with Basic; a plain user gets 403, no credentials 401', async () => {
    const plain = await createUser(t, uniqueName('plain'));
    const group = await createGroup(t, uniqueName('Guarded'));
    const requests = [
      { method: 'GET', url: '/scim2/Groups' },
      { method: 'GET', url: `/scim2/Groups/${group.id}` },
      { method: 'POST', url: '/scim2/Groups', body: { displayName: uniqueName('nope') } },
      { method: 'PUT', url: `/scim2/Groups/${group.id}`, body: { displayName: uniqueName('nope') } },
      {
        method: 'PATCH',
        url: `/scim2/Groups/${group.id}`,
        body: { schemas: [SCIM.patchOp], Operations: [{ op: 'remove', path: 'members' }] },
      },
      { method: 'DELETE', url: `/scim2/Groups/${group.id}` },
    ] as const;
    for (const request of requests) {
      expect((await scimRequest(t, { ...request, auth: plain.auth })).statusCode, request.method).toBe(403);
      expect((await scimRequest(t, { ...request, auth: null })).statusCode, request.method).toBe(401);
    }
    expect((await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${group.id}` })).statusCode).toBe(200);
  });
});
