import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json, SCIM, scimRequest, startTestApp, type TestApp, uniqueName } from '../support/test-app.js';

interface ListBody {
  schemas: string[];
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: Record<string, unknown>[];
}

describe('GET /Users and POST /Users/.search', () => {
  let t: TestApp;
  /** Every user of this file has this prefix, so filters can be scoped to them. */
  const prefix = uniqueName('lst');
  const names: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const people: Record<string, unknown>[] = [
      {
        name: { givenName: 'Alice', familyName: 'Anders' },
        emails: [{ type: 'work', value: 'alice@example.com' }],
        [SCIM.enterprise]: { department: 'Sales' },
      },
      {
        name: { givenName: 'Bob', familyName: 'Brown' },
        emails: [{ type: 'home', value: 'bob@example.com' }],
        [SCIM.enterprise]: { department: 'Engineering' },
      },
      {
        name: { givenName: 'Carol' },
        emails: [{ type: 'work', value: 'carol@other.org' }],
        active: false,
      },
      { emails: ['dave@example.com'], [SCIM.enterprise]: { department: 'sales' } },
      { phoneNumbers: [{ type: 'mobile', value: '0111111111' }] },
    ];
    for (const [index, extra] of people.entries()) {
      // Distinct creation times give a stable order (the list is ordered by creation).
      t.clock.advance(1000);
      const userName = `${prefix}-${String.fromCharCode(97 + index)}`;
      names.push(userName);
      await createUser(t, userName, { password: undefined, ...extra });
    }
  });
  afterAll(async () => t.close());

  const list = async (query: string) => {
    const response = await scimRequest(t, { method: 'GET', url: `/scim2/Users?${query}` });
    return { response, body: response.json<ListBody>() };
  };
  const scoped = (filter: string) => `userName sw "${prefix}" and (${filter})`;
  const namesOf = (body: ListBody) => body.Resources.map((resource) => resource.userName);
  const filtered = async (filter: string) => {
    const { response, body } = await list(`filter=${encodeURIComponent(scoped(filter))}`);
    expect(response.statusCode, filter).toBe(200);
    expect(body.totalResults).toBe(body.Resources.length);
    return namesOf(body);
  };
  const pick = (...indexes: number[]) => indexes.map((index) => names[index]);

  it('lists users as a ListResponse', async () => {
    const { response, body } = await list('');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(body.schemas).toEqual([SCIM.listResponse]);
    expect(body.totalResults).toBe(names.length + 1);
    expect(body.startIndex).toBe(1);
    expect(body.itemsPerPage).toBe(names.length + 1);
    const first = body.Resources.find((resource) => resource.userName === names[0]);
    expect(first).toMatchObject({ schemas: [SCIM.core, SCIM.enterprise, SCIM.wso2], meta: { resourceType: 'User' } });
    expect(first).not.toHaveProperty('password');
  });

  it.each([
    ['eq (case-insensitive)', 'userName eq "PLACEHOLDER-B"', [1]],
    ['co', 'name.givenName co "aro"', [2]],
    ['sw', 'name.familyName sw "an"', [0]],
    ['ew', 'emails ew "@other.org"', [2]],
    ['pr', 'name.familyName pr', [0, 1]],
    ['and', 'name.givenName pr and emails.type eq "work"', [0, 2]],
    ['or', 'name.givenName eq "alice" or name.givenName eq "bob"', [0, 1]],
    ['not', 'not (name.givenName pr)', [3, 4]],
    ['active', 'active eq false', [2]],
    ['a value path', 'emails[type eq "work" and value co "@example.com"]', [0]],
    ['an extension attribute', `${SCIM.enterprise}:department eq "sales"`, [0, 3]],
    ['a phone number', 'phoneNumbers[type eq "mobile" and value eq "0111111111"]', [4]],
    ['nothing', 'userName eq "nobody"', []],
  ])('filters with %s', async (_label, filter, expected) => {
    const text = filter.replace('PLACEHOLDER-B', `${prefix}-b`.toUpperCase());
    expect(await filtered(text)).toEqual(pick(...expected));
  });

  it('treats quotes and SQL in a filter value as data', async () => {
    expect(await filtered(`userName eq "x' or '1'='1"`)).toEqual([]);
    expect(await filtered('userName co "%"')).toEqual([]);
    expect(await filtered('userName co "_"')).toEqual([]);
  });

  it('pages with startIndex and count', async () => {
    const filter = `filter=${encodeURIComponent(`userName sw "${prefix}"`)}`;
    const page = await list(`${filter}&startIndex=2&count=2`);
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(namesOf(page.body)).toEqual(pick(1, 2));

    const last = await list(`${filter}&startIndex=5&count=2`);
    expect(last.body).toMatchObject({ totalResults: 5, startIndex: 5, itemsPerPage: 1 });
    expect(namesOf(last.body)).toEqual(pick(4));

    const beyond = await list(`${filter}&startIndex=99&count=2`);
    expect(beyond.body).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });

    const below = await list(`${filter}&startIndex=0&count=1`);
    expect(below.body.startIndex).toBe(1);
    expect(namesOf(below.body)).toEqual(pick(0));
  });

  // Pages in the second half are read from the end in reverse order: every page must still be the same slice.
  it.each([
    ['creation order', ''],
    ['userName descending', '&sortBy=userName&sortOrder=descending'],
    ['familyName, absent ones last', '&sortBy=name.familyName'],
    ['familyName descending, absent ones first', '&sortBy=name.familyName&sortOrder=descending'],
  ])('pages anywhere in the list by %s as slices of the whole list', async (_label, sort) => {
    const filter = `filter=${encodeURIComponent(`userName sw "${prefix}"`)}${sort}`;
    const whole = namesOf((await list(filter)).body);
    expect(whole).toHaveLength(5);
    for (let startIndex = 1; startIndex <= 6; startIndex += 1) {
      for (let count = 1; count <= 3; count += 1) {
        const { body } = await list(`${filter}&startIndex=${startIndex}&count=${count}`);
        const expected = whole.slice(startIndex - 1, startIndex - 1 + count);
        expect(namesOf(body), `startIndex=${startIndex} count=${count}`).toEqual(expected);
        expect(body).toMatchObject({ totalResults: 5, startIndex, itemsPerPage: expected.length });
      }
    }
  });

  it('answers count=0 with the total only', async () => {
    const { response, body } = await list(`count=0&filter=${encodeURIComponent(`userName sw "${prefix}"`)}`);
    expect(response.statusCode).toBe(200);
    expect(body).toEqual({
      schemas: [SCIM.listResponse],
      totalResults: 5,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it('caps a negative or huge count', async () => {
    const negative = await list('count=-3');
    expect(negative.response.statusCode).toBe(200);
    expect(negative.body.itemsPerPage).toBe(0);
    const huge = await list('count=100000');
    expect(huge.response.statusCode).toBe(200);
    expect(huge.body.itemsPerPage).toBe(names.length + 1);
  });

  it('rejects a non-numeric startIndex or count with 400', async () => {
    for (const query of ['count=abc', 'startIndex=x', 'count=1.5']) {
      const { response } = await list(query);
      expect(response.statusCode, query).toBe(400);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '400' });
    }
  });

  it.each([
    'userName eq',
    'userName xx "a"',
    'foo bar baz',
    '(userName eq "a"',
    'userName eq "unterminated',
    'unknownAttribute eq "a"',
    'emails[type eq "work"',
    'and',
    ')(',
  ])('rejects the invalid filter %j with 400 invalidFilter', async (filter) => {
    const { response } = await list(`filter=${encodeURIComponent(filter)}`);
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '400', scimType: 'invalidFilter' });
  });

  it('honours attributes and excludedAttributes in a list', async () => {
    const filter = encodeURIComponent(`userName eq "${names[0]}"`);
    const only = await list(`filter=${filter}&attributes=name.givenName`);
    expect(only.body.Resources).toEqual([
      {
        schemas: [SCIM.core, SCIM.enterprise, SCIM.wso2],
        id: expect.any(String),
        userName: names[0],
        name: { givenName: 'Alice' },
      },
    ]);
    const without = await list(`filter=${filter}&excludedAttributes=emails,meta`);
    expect(without.body.Resources[0]).not.toHaveProperty('emails');
    expect(without.body.Resources[0]).not.toHaveProperty('meta');
    expect(without.body.Resources[0]).toHaveProperty('name');
  });

  describe('POST /Users/.search', () => {
    const search = (body: unknown) => scimRequest(t, { method: 'POST', url: '/scim2/Users/.search', body });

    it('searches like GET', async () => {
      const response = await search({
        schemas: [SCIM.searchRequest],
        filter: scoped('emails[type eq "work" and value co "@example.com"] or name.givenName eq "bob"'),
        startIndex: 1,
        count: 10,
        attributes: ['userName', 'emails'],
      });
      expect(response.statusCode).toBe(200);
      const body = response.json<ListBody>();
      expect(body).toMatchObject({ schemas: [SCIM.listResponse], totalResults: 2, startIndex: 1, itemsPerPage: 2 });
      expect(namesOf(body)).toEqual(pick(0, 1));
      expect(body.Resources[0]).not.toHaveProperty('name');
      expect(body.Resources[0]).toHaveProperty('emails');
    });

    it('pages and counts', async () => {
      const response = await search({
        schemas: [SCIM.searchRequest],
        filter: `userName sw "${prefix}"`,
        startIndex: 3,
        count: 1,
      });
      expect(response.json<ListBody>()).toMatchObject({ totalResults: 5, startIndex: 3, itemsPerPage: 1 });
      expect(namesOf(response.json<ListBody>())).toEqual(pick(2));
      const total = await search({ schemas: [SCIM.searchRequest], filter: `userName sw "${prefix}"`, count: 0 });
      expect(total.json<ListBody>()).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    });

    it('rejects a wrong schema with 400 invalidSyntax and a bad filter with 400 invalidFilter', async () => {
      const wrong = await search({ schemas: [SCIM.patchOp], filter: 'userName eq "a"' });
      expect(wrong.statusCode).toBe(400);
      expect(json(wrong).scimType).toBe('invalidSyntax');
      const badFilter = await search({ schemas: [SCIM.searchRequest], filter: 'userName eq' });
      expect(badFilter.statusCode).toBe(400);
      expect(json(badFilter).scimType).toBe('invalidFilter');
    });
  });
});
