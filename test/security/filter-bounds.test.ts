import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, SCIM, scimRequest, startTestApp, type TestApp } from '../support/test-app.js';

/** Issue #11 point 8: a filter cannot take the database hostage. */
describe('filter bounds and the statement timeout', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  const list = (filter: string) =>
    scimRequest(t, { method: 'GET', url: `/scim2/Users?filter=${encodeURIComponent(filter)}` });

  it('refuses 150 chained substring predicates with 400 invalidFilter and a clear detail', async () => {
    const filter = Array.from({ length: 150 }, () => 'emails[value co "a"]').join(' and ');
    const response = await list(filter);
    expect(response.statusCode).toBe(400);
    expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidFilter' });
    expect(String(json(response).detail)).toMatch(/at most (2048|20) are accepted/);
  });

  it('refuses more than 20 comparisons even when short, and a filter over 2048 characters', async () => {
    const many = Array.from({ length: 21 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expect(many.length).toBeLessThan(2048);
    const tooMany = await list(many);
    expect(tooMany.statusCode).toBe(400);
    expect(json(tooMany).detail).toBe('The filter has 21 comparisons; at most 20 are accepted');
    const long = await list(`userName eq "${'x'.repeat(2100)}"`);
    expect(long.statusCode).toBe(400);
    expect(json(long).detail).toMatch(/2114 characters long; at most 2048 are accepted/);
    // Operators inside quoted values are not counted.
    const quoted = await list(`userName eq "${Array.from({ length: 30 }, () => 'a eq b').join(' ')}"`);
    expect(quoted.statusCode).toBe(200);
  });

  it('one length bound with one clear detail, however long the filter, on Users and Groups, GET and .search', async () => {
    for (const length of [3000, 5000, 9000]) {
      const filter = `displayName eq "${'x'.repeat(length)}"`;
      const responses = [
        await list(filter),
        await scimRequest(t, { method: 'GET', url: `/scim2/Groups?filter=${encodeURIComponent(filter)}` }),
        ...(await Promise.all(
          ['/scim2/Users/.search', '/scim2/Groups/.search'].map((url) =>
            scimRequest(t, { method: 'POST', url, body: { schemas: [SCIM.searchRequest], filter } }),
          ),
        )),
      ];
      for (const response of responses) {
        expect(response.statusCode, response.body).toBe(400);
        expect(json(response)).toMatchObject({ schemas: [SCIM.error], scimType: 'invalidFilter' });
        expect(json(response).detail).toBe(`The filter is ${filter.length} characters long; at most 2048 are accepted`);
      }
    }
  });

  it('the same bounds apply to POST /Users/.search; 20 comparisons still work', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => `userName eq "u${i}"`).join(' or ');
    expect((await list(twenty)).statusCode).toBe(200);
    const search = await scimRequest(t, {
      method: 'POST',
      url: '/scim2/Users/.search',
      body: { schemas: [SCIM.searchRequest], filter: `${twenty} or userName eq "one-more"` },
    });
    expect(search.statusCode).toBe(400);
    expect(json(search).scimType).toBe('invalidFilter');
  });
});
