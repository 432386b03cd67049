import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SCIM, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

describe('sorting (RFC 7644 3.4.2.3) and the habits of real clients', () => {
  let t: TestApp;
  const tag = uniqueName('sort');
  const people = [
    {
      userName: `${tag}-c`,
      name: { givenName: 'bravo' },
      emails: [{ value: 'z@x.org' }, { value: 'a@x.org', primary: true }],
    },
    { userName: `${tag}-a`, name: { givenName: 'Charlie' }, emails: [{ value: 'm@x.org' }] },
    { userName: `${tag}-b`, name: { givenName: 'alpha' } },
    { userName: `${tag}-d`, name: { givenName: 'Alpha' }, emails: [{ value: 'b@x.org' }] },
  ];

  beforeAll(async () => {
    t = await startTestApp();
    for (const person of people) {
      const response = await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: person });
      expect(response.statusCode).toBe(201);
    }
  });
  afterAll(async () => t.close());

  const page = async (query: string) => {
    const response = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent(`userName sw "${tag}"`)}&${query}`,
    });
    expect(response.statusCode, response.body).toBe(200);
    return (json(response).Resources as { userName: string }[]).map((user) => user.userName.slice(tag.length + 1));
  };

  it('sorts by a singular attribute, case-insensitively, ascending by default', async () => {
    expect(await page('sortBy=userName')).toEqual(['a', 'b', 'c', 'd']);
    expect(await page('sortBy=userName&sortOrder=descending')).toEqual(['d', 'c', 'b', 'a']);
  });

  it('breaks ties by id, the same on every page', async () => {
    const all = await page('sortBy=name.givenName');
    expect(all.slice(0, 2).sort()).toEqual(['b', 'd']);
    expect(all.slice(2)).toEqual(['c', 'a']);
    const pages = [
      ...(await page('sortBy=name.givenName&count=1&startIndex=1')),
      ...(await page('sortBy=name.givenName&count=1&startIndex=2')),
      ...(await page('sortBy=name.givenName&count=2&startIndex=3')),
    ];
    expect(pages).toEqual(all);
  });

  it('sorts a multi-valued attribute by its primary value, else its first; unassigned last when ascending', async () => {
    expect(await page('sortBy=emails')).toEqual(['c', 'd', 'a', 'b']);
    expect(await page('sortBy=emails.value&sortOrder=DESCENDING')).toEqual(['b', 'a', 'd', 'c']);
  });

  it('sorts through POST /.search too', async () => {
    const response = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users/.search',
      body: {
        schemas: [SCIM.searchRequest],
        filter: `userName sw "${tag}"`,
        sortBy: 'userName',
        sortOrder: 'descending',
      },
    });
    expect((json(response).Resources as { userName: string }[]).map((user) => user.userName.at(-1))).toEqual([
      'd',
      'c',
      'b',
      'a',
    ]);
  });

  it.each([
    ['an unknown attribute', 'sortBy=shoeSize'],
    ['a complex attribute', 'sortBy=name'],
    ['a bad sortOrder', 'sortBy=userName&sortOrder=sideways'],
    ['password', 'sortBy=password'],
    // Read-only, multi-valued without a primary value: RFC 7644 3.4.2.3 gives it no sort order.
    ['groups', 'sortBy=groups'],
    ['groups.value', 'sortBy=groups.value'],
    ['groups.display', 'sortBy=groups.display&sortOrder=descending'],
  ])('answers 400 invalidValue for %s', async (_label, query) => {
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users?${query}` });
    expect(response.statusCode).toBe(400);
    expect(json(response).scimType).toBe('invalidValue');
  });

  it('accepts an unquoted filter value and attribute and operator names in any case', async () => {
    const response = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users?filter=${encodeURIComponent(`USERNAME EQ ${tag}-a`)}`,
    });
    expect(response.statusCode).toBe(200);
    expect(json(response).totalResults).toBe(1);
  });

  it('accepts a trailing slash on a collection URL', async () => {
    const response = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/Users/?filter=${encodeURIComponent(`userName eq "${tag}-a"`)}`,
    });
    expect(response.statusCode).toBe(200);
    expect(json(response).totalResults).toBe(1);
  });

  it('matches endpoint paths in any case (Microsoft writes /scim2/users)', async () => {
    const listed = await scimRequest(t, {
      method: 'GET',
      url: `/scim2/users?filter=${encodeURIComponent(`userName eq "${tag}-a"`)}`,
    });
    expect(listed.statusCode, listed.body).toBe(200);
    const [user] = json(listed).Resources as { id: string }[];
    const read = await scimRequest(t, { method: 'GET', url: `/SCIM2/USERS/${user?.id}` });
    expect(read.statusCode, read.body).toBe(200);
    expect(json(read).id).toBe(user?.id);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/groups' })).statusCode).toBe(200);
    expect((await scimRequest(t, { method: 'GET', url: '/scim2/serviceproviderconfig' })).statusCode).toBe(200);
  });

  it('sends exactly application/scim+json (RFC 7644 8.1 registers it without parameters)', async () => {
    const created = await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: { userName: uniqueName('mt') } });
    const responses = [
      created,
      await scimRequest(t, { method: 'GET', url: `/scim2/Users/${json(created).id}` }),
      await scimRequest(t, { method: 'GET', url: '/scim2/Users?count=1' }),
      await scimRequest(t, { method: 'GET', url: '/scim2/Users/no-such-user' }),
      await scimRequest(t, { method: 'GET', url: '/scim2/Schemas' }),
      await scimRequest(t, { method: 'GET', url: '/scim2/ResourceTypes/User' }),
      await scimRequest(t, { method: 'GET', url: '/scim2/Groups' }),
    ];
    for (const response of responses) expect(response.headers['content-type']).toBe('application/scim+json');
  });

  it('answers a POST to a read-only endpoint with 405 before parsing its body', async () => {
    for (const url of ['/scim2/ServiceProviderConfig', '/scim2/Schemas', '/scim2/ResourceTypes']) {
      const response = await scimRequest(t, { method: 'POST', url, body: '{not json' });
      expect(response.statusCode, url).toBe(405);
    }
  });

  it('accepts PATCH op names in any case', async () => {
    const created = json(
      await scimRequest(t, { method: 'POST', url: '/scim2/Users', body: { userName: uniqueName('op') } }),
    );
    const response = await scimRequest(t, {
      method: 'PATCH',
      url: `/scim2/Users/${created.id}`,
      body: { schemas: [SCIM.patchOp], Operations: [{ op: 'REPLACE', path: 'DISPLAYNAME', value: 'Shouty' }] },
    });
    expect(response.statusCode).toBe(200);
    expect(json(response).displayName).toBe('Shouty');
  });
});
