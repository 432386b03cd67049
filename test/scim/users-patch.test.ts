import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createUser,
  json,
  patchBody,
  SCIM,
  scimRequest,
  startTestApp,
  storedUser,
  type TestApp,
  uniqueName,
} from '../support/test-app.js';

const WSO2 = 'http://wso2.org/claims';

/** The seed's request bodies, byte for byte (whitespace included). */
const SEED_PHONE_BODY = `{
"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
"Operations":[{
"op":"replace",
"value":
{ "phoneNumbers":[{"type": "mobile", "value":"0123456789"}]}
}]
}`;
const SEED_VERIFIED_LIST_BODY = `{
"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
"Operations":[{
"op":"replace",
"value":{"urn:scim:wso2:schema": {"verifiedMobileNumbers": "0111111111,0123456789"}}
}]
}`;

function bob(): Record<string, unknown> {
  return {
    name: { givenName: 'Bob', familyName: 'Smith' },
    emails: [
      { type: 'work', value: 'bob@work.example', primary: true },
      { type: 'home', value: 'bob@home.example' },
    ],
    phoneNumbers: [{ type: 'mobile', value: '0111111111' }],
    [SCIM.enterprise]: { department: 'Sales' },
  };
}

describe('PATCH /Users/{id}', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  // No password: hashing one costs about 100 ms and these users never sign in.
  const newUser = (prefix: string, extra: Record<string, unknown> = {}) =>
    createUser(t, uniqueName(prefix), { password: undefined, ...extra });
  const patch = (id: string, body: unknown) => scimRequest(t, { method: 'PATCH', url: `/scim2/Users/${id}`, body });
  const get = async (id: string) => json(await scimRequest(t, { method: 'GET', url: `/scim2/Users/${id}` }));

  describe('seed request bodies', () => {
    it('accepts the phoneNumbers body verbatim (application/json, as in the seed curl)', async () => {
      const { id } = await newUser('seed1', bob());
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
        payload: SEED_PHONE_BODY,
      });
      expect(response.statusCode).toBe(200);
      const body = json(response);
      expect(body.id).toBe(id);
      expect(body.name).toEqual({ givenName: 'Bob', familyName: 'Smith' });
    });

    it('accepts the verifiedMobileNumbers body by default: multiple numbers are on, as in WSO2 7.x', async () => {
      const { id } = await newUser('seed2', {
        ...bob(),
        [SCIM.wso2]: { mobileNumbers: ['0111111111'], verifiedMobileNumbers: ['0111111111'] },
      });
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
        payload: SEED_VERIFIED_LIST_BODY,
      });
      expect(response.statusCode).toBe(200);
      expect(json(response)[SCIM.enterprise]).toMatchObject({ pendingMobileNumber: '0123456789' });
    });
  });

  describe('add, replace, remove', () => {
    it('adds and replaces name.givenName and removes name.familyName', async () => {
      const { id } = await newUser('name', { name: { familyName: 'Smith' } });
      const added = await patch(id, patchBody({ op: 'add', path: 'name.givenName', value: 'Bob' }));
      expect(added.statusCode).toBe(200);
      expect(json(added).name).toEqual({ givenName: 'Bob', familyName: 'Smith' });

      const replaced = await patch(id, patchBody({ op: 'replace', path: 'name.givenName', value: 'Robert' }));
      expect(json(replaced).name).toEqual({ givenName: 'Robert', familyName: 'Smith' });

      const removed = await patch(id, patchBody({ op: 'remove', path: 'name.familyName' }));
      expect(json(removed).name).toEqual({ givenName: 'Robert' });
      const { claims } = await storedUser(t, id);
      expect(claims.get(`${WSO2}/givenname`)).toBe('Robert');
      expect(claims.has(`${WSO2}/lastname`)).toBe(false);
    });

    it('replaces emails[type eq "work"].value and leaves the other emails alone', async () => {
      const { id } = await newUser('email', bob());
      const response = await patch(
        id,
        patchBody({ op: 'replace', path: 'emails[type eq "work"].value', value: 'robert@work.example' }),
      );
      expect(response.statusCode).toBe(200);
      expect(json(response).emails).toEqual([
        { type: 'work', value: 'robert@work.example', primary: true },
        { type: 'home', value: 'bob@home.example' },
      ]);
      const stored = await t.db
        .selectFrom('user_values')
        .select(['ordinal', 'value'])
        .where('user_id', '=', id)
        .where('attribute', '=', 'emails')
        .where('sub_attribute', '=', 'value')
        .orderBy('ordinal')
        .execute();
      expect(stored).toEqual([
        { ordinal: 0, value: 'robert@work.example' },
        { ordinal: 1, value: 'bob@home.example' },
      ]);
    });

    it('removes the item a value filter selects', async () => {
      const { id } = await newUser('rmfilter', bob());
      const response = await patch(id, patchBody({ op: 'remove', path: 'emails[value eq "bob@home.example"]' }));
      expect(response.statusCode).toBe(200);
      expect(json(response).emails).toEqual([{ type: 'work', value: 'bob@work.example', primary: true }]);
      const stored = await t.db.selectFrom('user_values').select('value').where('user_id', '=', id).execute();
      expect(stored.map((row) => row.value)).not.toContain('bob@home.example');
    });

    it('replaces a whole filtered item and adds a new typed item', async () => {
      const { id } = await newUser('items', bob());
      const response = await patch(
        id,
        patchBody(
          { op: 'replace', path: 'phoneNumbers[type eq "mobile"]', value: { type: 'mobile', value: '0111111111' } },
          { op: 'add', path: 'phoneNumbers', value: [{ type: 'work', value: '0333333333' }] },
          { op: 'add', value: { emails: [{ type: 'other', value: 'bob@other.example' }] } },
        ),
      );
      expect(response.statusCode).toBe(200);
      const body = json(response);
      expect(body.phoneNumbers).toEqual([
        { type: 'mobile', value: '0111111111' },
        { type: 'work', value: '0333333333' },
      ]);
      expect(body.emails).toContainEqual({ type: 'other', value: 'bob@other.example' });
    });

    it('adds and removes enterprise extension attributes by full path and without a path', async () => {
      const { id } = await newUser('ext', bob());
      const byPath = await patch(
        id,
        patchBody({ op: 'replace', path: `${SCIM.enterprise}:department`, value: 'Engineering' }),
      );
      expect(json(byPath)[SCIM.enterprise]).toEqual({ department: 'Engineering' });
      const pathless = await patch(id, patchBody({ op: 'add', value: { [SCIM.enterprise]: { costCenter: 'C9' } } }));
      expect(json(pathless)[SCIM.enterprise]).toEqual({ department: 'Engineering', costCenter: 'C9' });
      const removed = await patch(id, patchBody({ op: 'remove', path: `${SCIM.enterprise}:department` }));
      expect(json(removed)[SCIM.enterprise]).toEqual({ costCenter: 'C9' });
      expect((await storedUser(t, id)).claims.get(`${WSO2}/costCenter`)).toBe('C9');
    });

    it('treats op names and attribute names case-insensitively', async () => {
      const { id } = await newUser('case', bob());
      const response = await patch(
        id,
        patchBody(
          { op: 'Replace', path: 'NAME.GIVENNAME', value: 'Bobby' },
          { op: 'ADD', path: 'DisplayName', value: 'Bobby S' },
          { op: 'replace', path: 'Emails[Type eq "WORK"].Value', value: 'bobby@work.example' },
          { op: 'REMOVE', path: `${SCIM.enterprise.toUpperCase()}:Department` },
        ),
      );
      expect(response.statusCode).toBe(200);
      const body = json(response);
      expect(body.name).toEqual({ givenName: 'Bobby', familyName: 'Smith' });
      expect(body.displayName).toBe('Bobby S');
      expect(body.emails).toContainEqual({ type: 'work', value: 'bobby@work.example', primary: true });
      expect(body).not.toHaveProperty(SCIM.enterprise);
    });

    it('changes active and the password', async () => {
      const userName = uniqueName('pw');
      const { id } = await createUser(t, userName);
      const before = await storedUser(t, id);
      const response = await patch(
        id,
        patchBody(
          { op: 'replace', value: { active: false } },
          { op: 'replace', path: 'password', value: 'patched-pw' },
        ),
      );
      expect(response.statusCode).toBe(200);
      expect(json(response).active).toBe(false);
      expect(response.body).not.toContain('patched-pw');
      const after = await storedUser(t, id);
      expect(after.row?.active).toBe(false);
      expect(after.row?.password_hash).toMatch(/^scrypt\$/);
      expect(after.row?.password_hash).not.toBe(before.row?.password_hash);
    });
  });

  describe('atomicity: a failing operation leaves the earlier ones unapplied', () => {
    it.each([
      ['a malformed path', { op: 'replace', path: 'name.givenName.first', value: 'x' }, 'invalidPath'],
      ['a filter that matches nothing', { op: 'remove', path: 'emails[value eq "nobody@example.com"]' }, 'noTarget'],
      ['a read-only attribute', { op: 'replace', path: 'id', value: 'x' }, 'mutability'],
      ['an unknown op', { op: 'move', path: 'displayName', value: 'x' }, 'invalidSyntax'],
      ['a value of the wrong type', { op: 'replace', path: 'active', value: { nested: true } }, 'invalidValue'],
    ])('second operation fails with %s', async (_label, failing, scimType) => {
      const { id } = await newUser('atomic', bob());
      const before = await storedUser(t, id);
      const representation = await get(id);
      const response = await patch(
        id,
        patchBody({ op: 'replace', path: 'name.givenName', value: 'Changed' }, failing, {
          op: 'replace',
          path: 'displayName',
          value: 'Also changed',
        }),
      );
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ schemas: [SCIM.error], status: '400', scimType });
      expect(await get(id)).toEqual(representation);
      expect(await storedUser(t, id)).toEqual(before);
    });
  });

  describe('refusals', () => {
    it.each([
      ['id', { op: 'replace', path: 'id', value: '00000000-0000-4000-8000-000000000000' }],
      ['meta.created', { op: 'replace', path: 'meta.created', value: '2000-01-01T00:00:00Z' }],
      ['meta without a path', { op: 'replace', value: { meta: { version: 'W/"9"' } } }],
      ['pendingMobileNumber', { op: 'add', path: `${SCIM.enterprise}:pendingMobileNumber`, value: '0999999999' }],
      ['groups', { op: 'add', path: 'groups', value: [{ value: 'g1' }] }],
      ['password (remove)', { op: 'remove', path: 'password' }],
    ])('refuses a write to the read-only %s: 400 mutability', async (_label, operation) => {
      const { id } = await newUser('ro', bob());
      const before = await storedUser(t, id);
      const response = await patch(id, patchBody(operation));
      expect(response.statusCode).toBe(400);
      expect(json(response).scimType).toBe('mutability');
      expect(await storedUser(t, id)).toEqual(before);
    });

    it.each([
      ['a wrong schema', { schemas: [SCIM.core], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }],
      ['no schemas', { Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }],
      ['no Operations', { schemas: [SCIM.patchOp] }],
      ['empty Operations', { schemas: [SCIM.patchOp], Operations: [] }],
      ['Operations not an array', { schemas: [SCIM.patchOp], Operations: { op: 'replace' } }],
      ['an operation without op', { schemas: [SCIM.patchOp], Operations: [{ path: 'displayName', value: 'x' }] }],
      ['a null operation', { schemas: [SCIM.patchOp], Operations: [null] }],
    ])('refuses %s: 400 invalidSyntax', async (_label, body) => {
      const { id } = await newUser('syntax', bob());
      const before = await storedUser(t, id);
      const response = await patch(id, body);
      expect(response.statusCode).toBe(400);
      expect(json(response)).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
      expect(await storedUser(t, id)).toEqual(before);
    });

    it.each([
      ['a malformed value filter', 'emails[type eq', ['invalidPath', 'invalidFilter']],
      ['a sub-attribute of a simple attribute', 'userName.value', ['invalidPath']],
      ['a name that is not one', 'urn:example:unknown:not an attribute', ['invalidPath']],
      ['a prototype key', '__proto__.polluted', ['invalidPath']],
    ])('refuses %s in the path: 400', async (_label, path, scimTypes) => {
      const { id } = await newUser('path', bob());
      const before = await storedUser(t, id);
      const response = await patch(id, patchBody({ op: 'replace', path, value: 'x' }));
      expect(response.statusCode).toBe(400);
      expect(scimTypes).toContain(json(response).scimType);
      expect(await storedUser(t, id)).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it.each([
      ['an unknown attribute', { op: 'replace', path: 'favouriteColour', value: 'blue' }],
      ['an unknown sub-attribute', { op: 'add', path: 'name.nickname', value: 'Bobby' }],
      ['an unknown sub-attribute of a multi-valued one', { op: 'replace', path: 'emails.label', value: 'x' }],
      [
        'a schema the server does not define',
        { op: 'replace', path: 'urn:example:unknown:2.0:User:shoeSize', value: 44 },
      ],
      ['an unknown extension attribute', { op: 'remove', path: `${SCIM.enterprise}:shoeSize` }],
    ])('ignores a path naming %s (logged at debug), applies the other operations', async (_label, ignoredOp) => {
      const { id } = await newUser('ignoredpath', bob());
      const response = await patch(
        id,
        patchBody(ignoredOp, { op: 'replace', path: 'name.givenName', value: 'Robert' }),
      );
      expect(response.statusCode, response.body).toBe(200);
      expect(json(response).name).toEqual({ givenName: 'Robert', familyName: 'Smith' });
      const stored = JSON.stringify([...(await storedUser(t, id)).claims.entries()]);
      expect(stored).not.toMatch(/blue|Bobby|shoeSize|label/);
      const line = t.logs.find((entry) => entry.includes(ignoredOp.path) && entry.includes('ignored'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 20, reqId: expect.any(String) });
    });

    it('refuses to remove userName: 400, nothing changed', async () => {
      const { id } = await newUser('rmuser', bob());
      const before = await storedUser(t, id);
      const response = await patch(id, patchBody({ op: 'remove', path: 'userName' }));
      expect(response.statusCode).toBe(400);
      expect(await storedUser(t, id)).toEqual(before);
    });

    it('refuses a rename onto a taken userName: 409', async () => {
      const taken = uniqueName('takenp');
      await createUser(t, taken);
      const { id } = await newUser('rename');
      const before = await storedUser(t, id);
      const response = await patch(id, patchBody({ op: 'replace', path: 'userName', value: taken.toUpperCase() }));
      expect(response.statusCode).toBe(409);
      expect(await storedUser(t, id)).toEqual(before);
    });
  });
});

describe('PATCH with MULTIPLE_MOBILE_NUMBERS=false', () => {
  it('refuses the verifiedMobileNumbers body: 400 mutability, nothing written', async () => {
    const t = await startTestApp({ env: { MULTIPLE_MOBILE_NUMBERS: 'false' } });
    try {
      const { id } = await createUser(t, uniqueName('seed2'), { password: undefined, ...bob() });
      const before = await storedUser(t, id);
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/scim2/Users/${id}`,
        headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
        payload: SEED_VERIFIED_LIST_BODY,
      });
      expect(response.statusCode).toBe(400);
      expect(json(response).scimType).toBe('mutability');
      expect(await storedUser(t, id)).toEqual(before);
    } finally {
      await t.close();
    }
  });
});

describe('PATCH with multiple mobile numbers enabled', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { MULTIPLE_MOBILE_NUMBERS: 'true' } });
  });
  afterAll(async () => t.close());

  it.each([
    ['phoneNumbers', SEED_PHONE_BODY],
    ['verifiedMobileNumbers', SEED_VERIFIED_LIST_BODY],
  ])('accepts the seed %s body verbatim: 200', async (_label, payload) => {
    // As in the seed's sample response: the current primary is already verified.
    const { id } = await createUser(t, uniqueName('multi'), {
      ...bob(),
      [SCIM.wso2]: { mobileNumbers: ['0111111111'], verifiedMobileNumbers: ['0111111111'] },
    });
    const response = await t.app.inject({
      method: 'PATCH',
      url: `/scim2/Users/${id}`,
      headers: { authorization: t.adminAuth, 'content-type': 'application/json' },
      payload,
    });
    expect(response.statusCode).toBe(200);
    expect(json(response).id).toBe(id);
  });
});
