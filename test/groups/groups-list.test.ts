import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, passwordToken } from '../oauth/oauth-helpers.js';
import { createGroup, GROUP_SCHEMA } from '../support/group-helpers.js';
import {
  ADMIN,
  createUser,
  json,
  SCIM,
  scimRequest,
  startTestApp,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

describe('GET /scim2/Groups: filter, sorting, paging, projection, .search', () => {
  let t: TestApp;
  const prefix = uniqueName('List');
  let alpha: Awaited<ReturnType<typeof createGroup>>;
  let beta: Awaited<ReturnType<typeof createGroup>>;
  let gamma: Awaited<ReturnType<typeof createGroup>>;
  let member: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    t = await startTestApp();
    member = await createUser(t, uniqueName('listed'));
    // Created in the order gamma, alpha, beta, so sorting by name differs from creation order.
    gamma = await createGroup(t, `${prefix} Gamma`, [], { externalId: 'EXT-g' });
    t.clock.advance(1000);
    alpha = await createGroup(t, `${prefix} alpha`, [member.id], { externalId: 'ext-a' });
    t.clock.advance(1000);
    beta = await createGroup(t, `${prefix} Beta`, [alpha.id]);
  });
  afterAll(async () => t.close());

  const list = async (query: string) => {
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Groups?${query}` });
    expect(response.statusCode, response.body).toBe(200);
    return json(response);
  };
  const names = (body: Record<string, unknown>) =>
    (body.Resources as { displayName: string }[]).map((group) => group.displayName.slice(prefix.length + 1));
  const filtered = (filter: string, extra = '') =>
    list(`filter=${encodeURIComponent(`displayName sw "${prefix}" and (${filter})`)}${extra}`);

  it('filters on displayName case-insensitively (eq, sw, co), with and/or/not', async () => {
    expect(names(await filtered(`displayName eq "${prefix.toUpperCase()} ALPHA"`))).toEqual(['alpha']);
    expect(names(await filtered('displayName co "eta"'))).toEqual(['Beta']);
    expect(names(await filtered('not (displayName ew "a") or displayName ew "alpha"'))).toEqual(['alpha']);
    const body = await filtered('displayName pr');
    expect(body).toMatchObject({ schemas: [SCIM.listResponse], totalResults: 3, startIndex: 1, itemsPerPage: 3 });
  });

  it('filters on externalId (case-exact), id, members and meta', async () => {
    expect(names(await filtered('externalId eq "ext-a"'))).toEqual(['alpha']);
    expect(names(await filtered('externalId eq "EXT-A"'))).toEqual([]);
    expect(names(await filtered('externalId pr'))).toEqual(['Gamma', 'alpha']);
    expect(names(await filtered('externalId eq null'))).toEqual(['Beta']);
    expect(names(await filtered(`id eq "${beta.id.toUpperCase()}"`))).toEqual(['Beta']);
    expect(names(await filtered(`members[value eq "${member.id}"]`))).toEqual(['alpha']);
    expect(names(await filtered(`members.value eq "${alpha.id}"`))).toEqual(['Beta']);
    expect(names(await filtered('members[type eq "Group"]'))).toEqual(['Beta']);
    expect(names(await filtered('members pr'))).toEqual(['alpha', 'Beta']);
    expect(names(await filtered(`members.value ne "${member.id}"`))).toEqual(['Gamma', 'Beta']);
    const created = String((gamma.body.meta as { created: string }).created);
    expect(names(await filtered(`meta.created gt "${created}"`))).toEqual(['alpha', 'Beta']);
    expect(
      names(await filtered(`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "${prefix} beta"`)),
    ).toEqual(['Beta']);
  });

  it.each([
    'displayName eq',
    'displayName zz "x"',
    'nickName eq "x"',
    'members[nope eq "x"]',
    'displayName[value eq "x"]',
    'meta.created co "2026"',
    'meta.created gt "yesterday"',
    'urn:example:other:displayName eq "x"',
  ])('filter %j is 400 invalidFilter', async (filter) => {
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Groups?filter=${encodeURIComponent(filter)}` });
    expect(response.statusCode, response.body).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidFilter' });
  });

  it('sortBy displayName (case-insensitive) ascending and descending; default order is creation', async () => {
    expect(names(await filtered('displayName pr'))).toEqual(['Gamma', 'alpha', 'Beta']);
    expect(names(await filtered('displayName pr', '&sortBy=displayName'))).toEqual(['alpha', 'Beta', 'Gamma']);
    expect(names(await filtered('displayName pr', '&sortBy=DisplayName&sortOrder=descending'))).toEqual([
      'Gamma',
      'Beta',
      'alpha',
    ]);
    expect(names(await filtered('displayName pr', '&sortBy=externalId'))).toEqual(['Gamma', 'alpha', 'Beta']);
    expect(names(await filtered('displayName pr', '&sortBy=meta.created&sortOrder=descending'))).toEqual([
      'Beta',
      'alpha',
      'Gamma',
    ]);
  });

  it('a malformed sort is 400 invalidValue', async () => {
    for (const query of [
      'sortBy=members',
      'sortBy=members.value',
      'sortBy=members.display',
      'sortBy=meta',
      'sortBy=nope',
      'sortBy=displayName.first',
      'sortBy=urn:ietf:params:scim:schemas:core:2.0:User:userName',
      `sortBy=${encodeURIComponent('displayName[value eq "x"]')}`,
      `sortBy=${encodeURIComponent('display Name')}`,
      'sortBy=displayName&sortOrder=sideways',
      'sortBy=displayName&sortOrder=',
    ]) {
      const response = await scimRequest(t, { method: 'GET', url: `/scim2/Groups?${query}` });
      expect(response.statusCode, query).toBe(400);
      expect(json(response), query).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidValue' });
    }
    const search = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups/.search',
      body: { schemas: [SCIM.searchRequest], sortBy: 'displayName', sortOrder: 'upwards' },
    });
    expect(search.statusCode).toBe(400);
    expect(json(search).scimType).toBe('invalidValue');
    const searchByMembers = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups/.search',
      body: { schemas: [SCIM.searchRequest], sortBy: 'members.value' },
    });
    expect(searchByMembers.statusCode).toBe(400);
    expect(json(searchByMembers).scimType).toBe('invalidValue');
  });

  it('pages with startIndex and count; totalResults counts every match', async () => {
    const page = await filtered('displayName pr', '&sortBy=displayName&startIndex=2&count=1');
    expect(page).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(names(page)).toEqual(['Beta']);
    const none = await filtered('displayName pr', '&count=0');
    expect(none).toMatchObject({ totalResults: 3, itemsPerPage: 0, Resources: [] });
    const past = await filtered('displayName pr', '&startIndex=10');
    expect(past).toMatchObject({ totalResults: 3, itemsPerPage: 0 });
  });

  it('attributes and excludedAttributes shape every resource; members only when returned', async () => {
    const only = await filtered(`id eq "${alpha.id}"`, '&attributes=displayName');
    expect((only.Resources as Record<string, unknown>[])[0]).toEqual({
      schemas: [GROUP_SCHEMA],
      id: alpha.id,
      displayName: `${prefix} alpha`,
    });
    const withMembers = await filtered(`id eq "${alpha.id}"`, '&attributes=members.value');
    expect((withMembers.Resources as Record<string, unknown>[])[0]?.members).toEqual([{ value: member.id }]);
    const lean = await filtered(`id eq "${alpha.id}"`, '&excludedAttributes=members,meta');
    expect(Object.keys((lean.Resources as Record<string, unknown>[])[0] ?? {}).sort()).toEqual([
      'displayName',
      'externalId',
      'id',
      'schemas',
    ]);
    const prefixed = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Groups/${alpha.id}?attributes=urn:ietf:params:scim:schemas:core:2.0:Group:externalId`,
    });
    expect(json(prefixed)).toEqual({ schemas: [GROUP_SCHEMA], id: alpha.id, externalId: 'ext-a' });
  });

  it('POST /Groups/.search takes the same query in its body and needs the SearchRequest schema', async () => {
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups/.search',
      body: {
        schemas: [SCIM.searchRequest],
        filter: `displayName sw "${prefix}"`,
        sortBy: 'displayName',
        sortOrder: 'descending',
        startIndex: 1,
        count: 2,
        excludedAttributes: ['members'],
      },
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = json(response);
    expect(body.totalResults).toBe(3);
    expect(names(body)).toEqual(['Gamma', 'Beta']);
    expect((body.Resources as Record<string, unknown>[])[1]).not.toHaveProperty('members');
    const wrong = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Groups/.search',
      body: { schemas: [SCIM.core] },
    });
    expect(wrong.statusCode).toBe(400);
    expect(json(wrong).scimType).toBe('invalidSyntax');
  });

  it('bearer tokens need the internal_group_mgt_* scope of each route', async () => {
    const viewer = await passwordToken(
      t,
      ADMIN.userName,
      ADMIN.password,
      'internal_group_mgt_view internal_group_mgt_list',
    );
    const auth = bearer(viewer.access_token);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/Groups', auth })).statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: `/scim2/Groups/${alpha.id}`, auth })).statusCode).toBe(200);
    const cases = [
      {
        method: 'POST',
        url: '/scim2/Groups',
        body: { displayName: uniqueName('x') },
        scope: 'internal_group_mgt_create',
      },
      {
        method: 'PUT',
        url: `/scim2/Groups/${gamma.id}`,
        body: { displayName: 'x' },
        scope: 'internal_group_mgt_update',
      },
      {
        method: 'PATCH',
        url: `/scim2/Groups/${gamma.id}`,
        body: { schemas: [SCIM.patchOp], Operations: [{ op: 'remove', path: 'members' }] },
        scope: 'internal_group_mgt_update',
      },
      { method: 'DELETE', url: `/scim2/Groups/${gamma.id}`, scope: 'internal_group_mgt_delete' },
    ] as const;
    for (const { scope, ...request } of cases) {
      const response = await scimRequest(t, { ...request, auth });
      expect(response.statusCode, request.method).toBe(403);
      expect(response.headers['www-authenticate']).toContain(`scope="${scope}"`);
    }
    const userScopes = await passwordToken(t, ADMIN.userName, ADMIN.password, 'internal_user_mgt_list');
    const refused = await scimRequest(t, {
      method: 'GET',
      url: '/scim2/Groups',
      auth: bearer(userScopes.access_token),
    });
    expect(refused.headers['www-authenticate']).toContain('scope="internal_group_mgt_list"');
  });
});
