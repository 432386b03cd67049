import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, json, startTestApp, type TestApp } from '../support/test-app.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe('concurrent writes to one user', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('twenty concurrent PATCHes serialise: every one applies whole, none interleaves', async () => {
    const bob = await createUser(t, 'bob');
    const before = Number(
      String(
        (
          json(await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } })).meta as {
            version: string;
          }
        ).version,
      ).replace(/\D/g, ''),
    );
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        t.app.inject({
          method: 'PATCH',
          url: `/scim2/Users/${bob.id}`,
          headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json' },
          payload: {
            schemas: [PATCH_OP],
            Operations: [
              { op: 'replace', path: 'name.givenName', value: `given-${index}` },
              { op: 'replace', path: 'title', value: `title-${index}` },
              { op: 'add', path: 'emails', value: [{ type: 'work', value: `w${index}@example.com` }] },
            ],
          },
        }),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(200));
    const final = json(await t.app.inject({ method: 'GET', url: '/scim2/Me', headers: { authorization: bob.auth } }));
    const given = String((final.name as { givenName: string }).givenName).replace('given-', '');
    expect(final.title).toBe(`title-${given}`);
    // `add` appends to a multi-valued attribute (RFC 7644 3.5.2.1): every write's email is there, the last one last.
    const emails = final.emails as { value: string }[];
    expect(new Set(emails.map((email) => email.value)).size).toBe(20);
    expect(emails.at(-1)).toEqual({ type: 'work', value: `w${given}@example.com` });
    expect((final.meta as { version: string }).version).toBe(`W/"${before + 20}"`);
  });

  it('If-Match makes concurrent writers of one version lose cleanly: one 200, the rest 412', async () => {
    const carol = await createUser(t, 'carol');
    const etag = String((carol.body.meta as { version: string }).version);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        t.app.inject({
          method: 'PATCH',
          url: `/scim2/Users/${carol.id}`,
          headers: { authorization: t.adminAuth, 'content-type': 'application/scim+json', 'if-match': etag },
          payload: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `t${index}` }] },
        }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 412)).toHaveLength(9);
  });
});
